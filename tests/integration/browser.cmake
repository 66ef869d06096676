# Headless Chromium renders the watch dashboard and the HTML report; the rendered DOM is asserted on.
add_test(NAME test_browser COMMAND python3 ${CMAKE_CURRENT_SOURCE_DIR}/test_browser.py)
set_tests_properties(test_browser PROPERTIES LABELS integration TIMEOUT 180
  ENVIRONMENT "GONOGO_BIN=$<TARGET_FILE:gonogo>")
