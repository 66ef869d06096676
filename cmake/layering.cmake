# The layering rules, checked at configure time so a link line that breaks one fails the build
# at once (docs/ARCHITECTURE.md, "Modules"):
#   gg_html and gg_base link neither nats.c nor libpq; gg_report links no nats.c (libpq only through
#   the journal) and neither watch,
#   gate, probe or act; the services link gg_base and gg_svc and no gonogo module; no gonogo
#   module links gg_svc.
#
# gg_link_closure(TARGET OUT): every library TARGET links, directly or through another target,
# as the names given to target_link_libraries (PkgConfig::NATS, gg_base, m, ...).
function(gg_link_closure target out)
  set(seen "")
  set(todo ${target})
  while(todo)
    list(POP_FRONT todo t)
    if(NOT TARGET ${t})
      continue()
    endif()
    get_target_property(type ${t} TYPE)
    set(libs "")
    if(NOT type STREQUAL "INTERFACE_LIBRARY")
      get_target_property(direct ${t} LINK_LIBRARIES)
      if(direct)
        list(APPEND libs ${direct})
      endif()
    endif()
    get_target_property(iface ${t} INTERFACE_LINK_LIBRARIES)
    if(iface)
      list(APPEND libs ${iface})
    endif()
    foreach(lib IN LISTS libs)
      # $<LINK_ONLY:x> (what CMake writes for a static library's private links) names x.
      string(REGEX REPLACE "^\\$<LINK_ONLY:(.*)>$" "\\1" lib "${lib}")
      if(lib STREQUAL "" OR lib MATCHES "^\\$<" OR lib IN_LIST seen)
        continue()
      endif()
      list(APPEND seen ${lib})
      list(APPEND todo ${lib})
    endforeach()
  endwhile()
  set(${out} ${seen} PARENT_SCOPE)
endfunction()

# gg_forbid_links(TARGET... FORBID lib...): a fatal configure error naming the first target
# whose link closure holds a forbidden library.
function(gg_forbid_links)
  cmake_parse_arguments(L "" "" "FORBID" ${ARGN})
  foreach(t IN LISTS L_UNPARSED_ARGUMENTS)
    if(NOT TARGET ${t})
      message(FATAL_ERROR "layering: no target ${t}")
    endif()
    gg_link_closure(${t} closure)
    foreach(bad IN LISTS L_FORBID)
      if(bad IN_LIST closure)
        message(FATAL_ERROR "layering: ${t} links ${bad}, directly or through another library; "
                            "its closure is: ${closure} (see cmake/layering.cmake)")
      endif()
    endforeach()
  endforeach()
endfunction()

set(GG_CORE_MODULES gg_expr gg_plan gg_probe gg_journal gg_gate gg_act gg_html gg_watch gg_report
                    gg_sandbox gg_rehearse gg_cli)
gg_forbid_links(gg_base gg_html FORBID PkgConfig::NATS PkgConfig::PQ)
# gg_report reads the journal, which may live in PostgreSQL (libpq through gg_journal); it never
# talks to NATS.
gg_forbid_links(gg_report FORBID PkgConfig::NATS)
gg_forbid_links(gg_report FORBID gg_watch gg_gate gg_probe gg_act)
gg_forbid_links(gg_ingest gg_normalize ingest-service normalize-service FORBID ${GG_CORE_MODULES})
gg_forbid_links(${GG_CORE_MODULES} gonogo FORBID gg_svc)
