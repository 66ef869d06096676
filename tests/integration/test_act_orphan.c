/*
 * A create_consumer whose outcome is unknown (#19 item 3). gonogo talks to one node that is not
 * the meta leader; a failpoint stops it just before the create request, the test stops the meta
 * leader, and gonogo sends: the request waits for the meta leader and the client gives up after
 * the plan's API timeout. What the cluster then has is what an applied-anyway create leaves: the
 * consumer as the plan makes it (which the test ensures, see below).
 * The rollback must not trust the error: it observes the cluster, finds the consumer as the
 * create would have made it, deletes it, and journals what it found.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "test_act_fixture.h"

#define RUN(...) actx_gonogo((const char *const[]){__VA_ARGS__, NULL})

/* `gonogo sandbox ARGS` (the sandbox of GONOGO_SANDBOX_DIR); its output into out. */
static int sandbox(const char *args, char *out, size_t cap) {
  char cmd[512];
  snprintf(cmd, sizeof cmd, "'%s' sandbox %s 2>&1", getenv("GONOGO_BIN"), args);
  FILE *f = popen(cmd, "r");
  assert_non_null(f);
  size_t n = out ? fread(out, 1, cap - 1, f) : 0;
  if (out) out[n] = '\0';
  char sink[4096];
  while (fread(sink, 1, sizeof sink, f) > 0) {
  }
  int rc = pclose(f);
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

/* The meta leader's name ("n2"), from `gonogo sandbox status`. */
static void meta_leader(char *out, size_t cap) {
  char buf[4096];
  out[0] = '\0';
  assert_int_equal(sandbox("status", buf, sizeof buf), 0);
  const char *m = strstr(buf, "meta leader: ");
  if (m) sscanf(m + 13, "%15s", out);
}

/* The pid of sandbox node `name` ("n1"), from `gonogo sandbox status`. */
static pid_t node_pid(const char *name) {
  char buf[4096], want[32];
  assert_int_equal(sandbox("status", buf, sizeof buf), 0);
  snprintf(want, sizeof want, "\n%s ", name);
  const char *m = strstr(buf, want);
  assert_non_null(m);
  return (pid_t)strtol(m + strlen(want), NULL, 10);
}

/* Whether process pid is stopped (state T in /proc/PID/stat). */
static bool stopped(pid_t pid) {
  char path[64], buf[256];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  FILE *f = fopen(path, "r");
  if (!f) return false;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  const char *close = strrchr(buf, ')');
  return close && close[1] == ' ' && (close[2] == 'T' || close[2] == 't');
}

static void timed_out_create_is_undone(void **state) {
  (void)state;
  setenv("ACT_PLAN", "act_orphan.yaml", 1);
  actx_init("orphan", 3);
  actx_legacy_create();
  /* A work-queue stream takes one consumer a filter: the new one replaces hrv. */
  jsErrCode dje = 0;
  assert_int_equal(js_DeleteConsumer(actx_js(), "ACT_LEGACY", "hrv", NULL, &dje), NATS_OK);
  /* gonogo talks to one node that is not the meta leader. */
  char meta[16] = "";
  meta_leader(meta, sizeof meta);
  assert_true(meta[0] == 'n');
  int node = strcmp(meta, "n1") == 0 ? 2 : 1;
  static char orig[1024], all[1024];
  char one[256] = "";
  snprintf(orig, sizeof orig, "%s", getenv("NATS_URL"));
  snprintf(all, sizeof all, "%s", orig);
  int k = 1;
  for (char *save = NULL, *t = strtok_r(all, ",", &save); t; t = strtok_r(NULL, ",", &save), k++)
    if (k == node) snprintf(one, sizeof one, "%s", t);
  assert_true(one[0] != '\0');
  setenv("NATS_URL", one, 1);
  pid_t mpid = node_pid(meta);
  print_message("meta leader %s (pid %d); gonogo talks to n%d only\n", meta, (int)mpid, node);

  /* gonogo stops at the create; the meta leader stops; gonogo sends the create and gives up
   * after the plan's 2 s API timeout; the meta leader wakes (before its followers' election
   * timeout) and creates the consumer anyway. */
  setenv("GONOGO_FAILPOINTS", "act.create_consumer.request=stop", 1);
  pid_t g = actx_gonogo_spawn((const char *const[]){"run", "--phase", "1", "--yes", NULL});
  unsetenv("GONOGO_FAILPOINTS");
  for (int i = 0; i < 300 && !stopped(g); i++) usleep(100000);
  assert_true(stopped(g));
  assert_int_equal(kill(mpid, SIGSTOP), 0);
  assert_int_equal(kill(g, SIGCONT), 0);
  int rc = actx_gonogo_wait(g);
  assert_int_equal(kill(mpid, SIGCONT), 0);
  assert_int_not_equal(rc, 0);
  const char *fwd = actx_journal_last("action_outcome", "\"mode\":\"forward\"");
  print_message("forward outcome: %s\n", fwd);
  assert_non_null(strstr(fwd, "\"result\":\"failed\""));
  assert_non_null(strstr(fwd, "Timeout"));

  /* The create the client gave up on may take effect after the timeout. nats-server 2.9.10 on
   * loopback drops a request that waited in a stopped server rather than apply it late, so the
   * test leaves the cluster as one that applied it would: the consumer, as the plan makes it. */
  bool appeared = false;
  for (int i = 0; i < 30 && !appeared; i++) {
    appeared = actx_consumer_backlog("ACT_LEGACY", "late") >= 0;
    if (!appeared) usleep(100000);
  }
  print_message("consumer ACT_LEGACY/late %s after the timed-out create\n",
                appeared ? "was created by the cluster" : "absent: created as the cluster would have");
  if (!appeared) {
    jsConsumerConfig cc;
    jsConsumerConfig_Init(&cc);
    cc.Durable = "late";
    cc.FilterSubject = "act.core.>";
    cc.AckPolicy = js_AckExplicit;
    cc.AckWait = 30LL * 1000000000LL;
    cc.MaxDeliver = 5;
    jsErrCode je = 0;
    natsStatus ns = NATS_ERR;
    for (int i = 0; i < 20 && ns != NATS_OK; i++) /* the cluster settles after the stop */
      if ((ns = js_AddConsumer(NULL, actx_js(), "ACT_LEGACY", &cc, NULL, &je)) != NATS_OK) usleep(250000);
    if (ns != NATS_OK)
      print_message("create: %s (%d) %s\n", natsStatus_GetText(ns), (int)je, nats_GetLastError(NULL));
    assert_int_equal(ns, NATS_OK);
  }
  bool exists = false;
  for (int i = 0; i < 100 && !exists; i++) /* consumer info fails while the cluster settles */
    if (!(exists = actx_consumer_backlog("ACT_LEGACY", "late") >= 0)) usleep(100000);
  assert_true(exists);

  /* The rollback observes the cluster instead of trusting the error: it finds the consumer as
   * the create would have made it, deletes it, and journals what it found. */
  setenv("NATS_URL", orig, 1);
  rc = RUN("rollback", "--yes", "--phase", "1", "--reason", "timed-out create");
  /* While the cluster settles after the stop, a 2 s request may time out again: the rollback
   * then says "incomplete" (never "rolled back") and resume finishes it. */
  for (int i = 0; i < 5 && rc != 0; i++) {
    assert_non_null(strstr(actx_output(), "incomplete"));
    assert_int_equal(actx_journal_count("phase_rolled_back", NULL), 0);
    sleep(1);
    rc = RUN("resume");
  }
  assert_int_equal(rc, 0);
  assert_int_equal(actx_consumer_backlog("ACT_LEGACY", "late"), -1);
  assert_int_equal(actx_journal_count("phase_rolled_back", NULL), 1);
  /* The inverse that found it journaled so (a delete that timed out in turn and was applied is
   * then found absent by resume, and not repeated). */
  print_message("inverse outcome: %s\n", actx_journal_last("action_outcome", "\"mode\":\"inverse\""));
  assert_true(actx_journal_count("action_outcome", "\"found\":\"exists as planned\"") >= 1);
  assert_non_null(strstr(actx_output(), "ACT_LEGACY/late"));
  assert_int_equal(RUN("journal", "verify"), 0);
  actx_cleanup();
}

/* How many times `needle` occurs in `hay`. */
static int occurrences(const char *hay, const char *needle) {
  int n = 0;
  for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle)) n++;
  return n;
}

/* A consumer the phase created holds messages nobody reads (#19 item 4): the rollback waits for
 * it, saying so once and then every few seconds (never a line a poll), keeps it, and every view
 * names what was kept: the rollback's output, the journal, status (text and --json), the report. */
static void kept_consumer_is_said_and_reported(void **state) {
  (void)state;
  setenv("ACT_PLAN", "act_orphan.yaml", 1);
  actx_init("kept", 3);
  actx_legacy_create();
  jsErrCode je = 0;
  assert_int_equal(js_DeleteConsumer(actx_js(), "ACT_LEGACY", "hrv", NULL, &je), NATS_OK);
  assert_int_equal(RUN("run", "--phase", "1", "--yes"), 0);
  for (int i = 0; i < 27; i++) {
    char subj[64];
    snprintf(subj, sizeof subj, "act.core.hrv.%d", i);
    assert_int_equal(js_Publish(NULL, actx_js(), subj, "x", 1, NULL, &je), NATS_OK);
  }
  assert_int_equal(RUN("rollback", "--yes", "--phase", "1", "--reason", "kept check"), 0);
  const char *out = actx_output();
  int waits = occurrences(out, "consumer ACT_LEGACY/late: 27");
  print_message("progress lines about the wait: %d\n", waits);
  assert_true(waits >= 1 && waits <= 10); /* was ~300: a line a poll */
  assert_non_null(strstr(out, "kept consumer ACT_LEGACY/late: 27 messages still pending"));
  assert_non_null(strstr(out, "; kept: consumer ACT_LEGACY/late"));
  assert_true(actx_consumer_backlog("ACT_LEGACY", "late") == 27); /* kept, with its messages */
  assert_non_null(
      strstr(actx_journal_last("phase_rolled_back", NULL), "\"kept\":[\"consumer ACT_LEGACY/late"));

  assert_int_equal(RUN("status"), 0);
  assert_non_null(strstr(actx_output(), "kept"));
  assert_non_null(strstr(actx_output(), "consumer ACT_LEGACY/late: 27 messages still pending"));
  assert_int_equal(RUN("status", "--json"), 0);
  assert_non_null(strstr(actx_output(), "\"kept\": \"consumer ACT_LEGACY/late: 27"));
  const char *formats[] = {"md", "html", "json"};
  for (int f = 0; f < 3; f++) {
    assert_int_equal(RUN("report", "--format", formats[f]), 0);
    print_message("report %s names the kept consumer: %s\n", formats[f],
                  strstr(actx_output(), "consumer ACT_LEGACY/late: 27 messages") ? "yes" : "NO");
    assert_non_null(strstr(actx_output(), "consumer ACT_LEGACY/late: 27 messages"));
  }
  jsErrCode dje = 0;
  assert_int_equal(js_DeleteConsumer(actx_js(), "ACT_LEGACY", "late", NULL, &dje), NATS_OK);
  actx_cleanup();
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(timed_out_create_is_undone),
                                     cmocka_unit_test(kept_consumer_is_said_and_reported)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
