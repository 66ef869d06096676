/* Unit tests of src/base/spawn: real processes, real signals, real process groups. */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/spawn.h"

/* Processes of group pgid that are still running (zombies waiting for init do not count). */
static int live_members(long pgid) {
  DIR *d = opendir("/proc");
  assert_non_null(d);
  int count = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    char path[300], line[1024];
    snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
    FILE *f = fopen(path, "r");
    if (!f) continue; /* gone meanwhile */
    size_t n = fread(line, 1, sizeof line - 1, f);
    fclose(f);
    line[n] = '\0';
    char *close_paren = strrchr(line, ')'); /* the command name may hold spaces and parens */
    if (!close_paren) continue;
    char state = 0;
    long ppid = 0, pgrp = 0;
    if (sscanf(close_paren + 1, " %c %ld %ld", &state, &ppid, &pgrp) != 3) continue;
    if (pgrp == pgid && state != 'Z' && state != 'X') count++;
  }
  closedir(d);
  return count;
}

static bool process_running(long pid) {
  char path[64], line[1024];
  snprintf(path, sizeof path, "/proc/%ld/stat", pid);
  FILE *f = fopen(path, "r");
  if (!f) return false;
  size_t n = fread(line, 1, sizeof line - 1, f);
  fclose(f);
  line[n] = '\0';
  char *p = strrchr(line, ')');
  return p && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
}

/* The number after `key=` in text, or -1. */
static long number_after(const char *text, const char *key) {
  const char *p = text ? strstr(text, key) : NULL;
  if (!p) return -1;
  char *end;
  long v = strtol(p + strlen(key), &end, 10);
  return end == p + strlen(key) ? -1 : v;
}

static int open_fds(void) {
  DIR *d = opendir("/proc/self/fd");
  assert_non_null(d);
  int n = 0;
  while (readdir(d)) n++;
  closedir(d);
  return n;
}

static void test_exit_codes_and_output(void **state) {
  (void)state;
  gg_spawn_result r;
  gg_error err;
  gg_error_clear(&err);
  const char *argv_true[] = {"true", NULL};
  assert_int_equal(gg_spawn_run(argv_true, NULL, &r, &err), GG_OK);
  assert_int_equal(r.exit_code, 0);
  assert_int_equal(r.term_signal, 0);
  assert_false(r.timed_out);
  assert_string_equal(r.output, "");
  char desc[64];
  assert_string_equal(gg_spawn_describe(&r, desc, sizeof desc), "exit 0");
  gg_spawn_result_release(&r);

  assert_int_equal(gg_spawn_shell("echo out; echo err >&2; exit 3", NULL, &r, &err), GG_OK);
  assert_int_equal(r.exit_code, 3);
  assert_string_equal(r.output, "out\nerr\n");
  assert_int_equal(r.output_len, 8);
  assert_false(r.truncated);
  assert_string_equal(gg_spawn_describe(&r, desc, sizeof desc), "exit 3");
  gg_spawn_result_release(&r);

  /* argv is passed as is: no shell splitting or globbing. */
  const char *argv_printf[] = {"printf", "%s|", "a b", "*", NULL};
  assert_int_equal(gg_spawn_run(argv_printf, NULL, &r, &err), GG_OK);
  assert_string_equal(r.output, "a b|*|");
  gg_spawn_result_release(&r);
  gg_spawn_result_release(&r); /* twice is harmless */
  gg_spawn_result_release(NULL);
}

static void test_signal(void **state) {
  (void)state;
  gg_spawn_result r;
  assert_int_equal(gg_spawn_shell("echo before; kill -KILL $$; echo after", NULL, &r, NULL), GG_OK);
  assert_int_equal(r.exit_code, -1);
  assert_int_equal(r.term_signal, SIGKILL);
  assert_false(r.timed_out);
  assert_string_equal(r.output, "before\n");
  char desc[64];
  assert_string_equal(gg_spawn_describe(&r, desc, sizeof desc), "killed by SIGKILL");
  gg_spawn_result_release(&r);

  assert_int_equal(gg_spawn_shell("kill -USR1 $$", NULL, &r, NULL), GG_OK);
  assert_int_equal(r.term_signal, SIGUSR1);
  assert_string_equal(gg_spawn_describe(&r, desc, sizeof desc), "killed by SIGUSR1");
  gg_spawn_result_release(&r);
}

/* A timeout kills the whole group, the grandchild included, and nothing survives. */
static void test_timeout_kills_group(void **state) {
  (void)state;
  gg_spawn_opts opts = {.timeout = 0.5};
  gg_spawn_result r;
  gg_error err;
  gg_error_clear(&err);
  assert_int_equal(gg_spawn_shell("echo pg=$$; sleep 100 & echo bg=$!; sleep 100", &opts, &r, &err), GG_OK);
  long pg = number_after(r.output, "pg="), bg = number_after(r.output, "bg=");
  assert_true(pg > 0 && bg > 0);
  assert_true(r.timed_out);
  assert_int_equal(r.term_signal, SIGTERM);
  assert_true(r.elapsed >= 0.5 && r.elapsed < 30); /* SIGTERM sufficed (term_signal): no SIGKILL */
  char desc[64];
  assert_string_equal(gg_spawn_describe(&r, desc, sizeof desc), "timed out after 500ms");
  assert_false(process_running(bg));
  assert_int_equal(live_members(pg), 0);
  gg_spawn_result_release(&r);
}

/* A group that ignores SIGTERM gets SIGKILL after the grace period. */
static void test_timeout_escalates_to_sigkill(void **state) {
  (void)state;
  gg_spawn_opts opts = {.timeout = 0.3};
  gg_spawn_result r;
  assert_int_equal(gg_spawn_shell("trap '' TERM; echo pg=$$; sleep 100 & sleep 100", &opts, &r, NULL), GG_OK);
  long pg = number_after(r.output, "pg=");
  assert_true(pg > 0);
  assert_true(r.timed_out);
  assert_int_equal(r.term_signal, SIGKILL);
  assert_true(r.elapsed >= 1.25);
  assert_int_equal(live_members(pg), 0);
  gg_spawn_result_release(&r);
}

static void test_output_tail(void **state) {
  (void)state;
  gg_spawn_opts opts = {.max_output = 100};
  gg_spawn_result r;
  assert_int_equal(gg_spawn_run((const char *[]){"seq", "1", "100000", NULL}, &opts, &r, NULL), GG_OK);
  assert_int_equal(r.exit_code, 0);
  assert_true(r.truncated);
  assert_int_equal(r.output_len, 100);
  assert_int_equal(strlen(r.output), 100);
  /* The kept bytes are exactly the last 100 of the 588895-byte output. */
  char want[1200];
  size_t n = 0;
  for (int i = 99980; i <= 100000; i++) n += (size_t)snprintf(want + n, sizeof want - n, "%d\n", i);
  assert_string_equal(r.output, want + n - 100);
  gg_spawn_result_release(&r);

  /* Exactly at the cap is not truncated. */
  opts.max_output = 6;
  assert_int_equal(gg_spawn_shell("printf abcdef", &opts, &r, NULL), GG_OK);
  assert_false(r.truncated);
  assert_string_equal(r.output, "abcdef");
  gg_spawn_result_release(&r);
  assert_int_equal(gg_spawn_shell("printf abcdefg", &opts, &r, NULL), GG_OK);
  assert_true(r.truncated);
  assert_string_equal(r.output, "bcdefg");
  gg_spawn_result_release(&r);
}

static void test_missing_program(void **state) {
  (void)state;
  gg_spawn_result r;
  gg_error err;
  gg_error_clear(&err);
  const char *argv[] = {"gonogo-no-such-program", "x", NULL};
  assert_int_equal(gg_spawn_run(argv, NULL, &r, &err), GG_ERR_NOT_FOUND);
  assert_int_equal(err.code, GG_ERR_NOT_FOUND);
  assert_non_null(strstr(err.msg, "run 'gonogo-no-such-program': program not found in PATH"));
  assert_null(r.output);

  gg_error_clear(&err);
  const char *argv_path[] = {"/nonexistent/dir/prog", NULL};
  assert_int_equal(gg_spawn_run(argv_path, NULL, &r, &err), GG_ERR_NOT_FOUND);
  assert_non_null(strstr(err.msg, "cannot execute '/nonexistent/dir/prog': No such file"));

  gg_error_clear(&err);
  gg_spawn_opts opts = {.cwd = "/nonexistent/dir"};
  assert_int_equal(gg_spawn_shell("true", &opts, &r, &err), GG_ERR_NOT_FOUND);
  assert_non_null(strstr(err.msg, "cannot enter '/nonexistent/dir'"));

  const char *empty[] = {NULL};
  assert_int_equal(gg_spawn_run(empty, NULL, &r, &err), GG_ERR_INVALID);
}

static void test_env_cwd_stdin(void **state) {
  (void)state;
  const char *env[] = {"GG_SPAWN_TEST=hello world", "HOME=/elsewhere", NULL};
  gg_spawn_opts opts = {.env = env, .cwd = "/"};
  gg_spawn_result r;
  assert_int_equal(gg_spawn_shell("echo \"$GG_SPAWN_TEST|$HOME|$(pwd)|$PATH\"", &opts, &r, NULL), GG_OK);
  char want[4096];
  snprintf(want, sizeof want, "hello world|/elsewhere|/|%s\n", getenv("PATH"));
  assert_string_equal(r.output, want);
  gg_spawn_result_release(&r);
  assert_null(getenv("GG_SPAWN_TEST")); /* our own environment is untouched */

  /* stdin is /dev/null: cat ends at once instead of waiting for the test's stdin. */
  opts = (gg_spawn_opts){.timeout = 5};
  assert_int_equal(gg_spawn_run((const char *[]){"cat", NULL}, &opts, &r, NULL), GG_OK);
  assert_false(r.timed_out);
  assert_int_equal(r.exit_code, 0);
  gg_spawn_result_release(&r);

  gg_error err;
  gg_error_clear(&err);
  /* A PATH given in env is the one the program is looked up in. */
  char dir[] = "/tmp/gg-spawn-XXXXXX";
  assert_non_null(mkdtemp(dir));
  char script[64];
  snprintf(script, sizeof script, "%s/gg-only-here", dir);
  FILE *f = fopen(script, "w");
  assert_non_null(f);
  fputs("#!/bin/sh\necho only here\n", f);
  fclose(f);
  assert_int_equal(chmod(script, 0755), 0);
  char path_entry[128];
  snprintf(path_entry, sizeof path_entry, "PATH=%s:/usr/bin:/bin", dir);
  const char *path_env[] = {path_entry, NULL};
  opts = (gg_spawn_opts){.env = path_env};
  assert_int_equal(gg_spawn_run((const char *[]){"gg-only-here", NULL}, &opts, &r, &err), GG_OK);
  assert_string_equal(r.output, "only here\n");
  gg_spawn_result_release(&r);
  assert_int_equal(gg_spawn_run((const char *[]){"gg-only-here", NULL}, NULL, &r, &err), GG_ERR_NOT_FOUND);
  assert_int_equal(unlink(script), 0);
  assert_int_equal(rmdir(dir), 0);

  const char *bad_env[] = {"NOEQUALS", NULL};
  opts = (gg_spawn_opts){.env = bad_env};
  assert_int_equal(gg_spawn_shell("true", &opts, &r, &err), GG_ERR_INVALID);
  assert_non_null(strstr(err.msg, "'NOEQUALS' is not KEY=VALUE"));
}

/* A command that leaves a background process returns when it exits, without a timeout. */
static void test_background_left_running(void **state) {
  (void)state;
  gg_spawn_result r;
  assert_int_equal(gg_spawn_shell("sleep 30 & echo bg=$!", NULL, &r, NULL), GG_OK);
  assert_int_equal(r.exit_code, 0);
  assert_true(r.elapsed < 5);
  long bg = number_after(r.output, "bg=");
  assert_true(bg > 0);
  assert_true(process_running(bg));
  kill((pid_t)bg, SIGKILL); /* leave nothing behind */
  gg_spawn_result_release(&r);
}

static void test_no_fd_leak(void **state) {
  (void)state;
  int before = open_fds();
  for (int i = 0; i < 20; i++) {
    gg_spawn_result r;
    assert_int_equal(gg_spawn_shell("echo x", NULL, &r, NULL), GG_OK);
    gg_spawn_result_release(&r);
    assert_int_equal(gg_spawn_run((const char *[]){"gonogo-no-such-program", NULL}, NULL, &r, NULL),
                     GG_ERR_NOT_FOUND);
  }
  assert_int_equal(open_fds(), before);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_exit_codes_and_output),
      cmocka_unit_test(test_signal),
      cmocka_unit_test(test_timeout_kills_group),
      cmocka_unit_test(test_timeout_escalates_to_sigkill),
      cmocka_unit_test(test_output_tail),
      cmocka_unit_test(test_missing_program),
      cmocka_unit_test(test_env_cwd_stdin),
      cmocka_unit_test(test_background_left_running),
      cmocka_unit_test(test_no_fd_leak),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
