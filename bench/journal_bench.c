/*
 * journal_bench: appends per second to a journal (an SQLite file or a PostgreSQL URL) from W
 * processes at once, and the latency of what check and watch write: one approval, one batch
 * of samples. Prints one line of figures; bench/journal runs it over both backends.
 *
 *   journal_bench TARGET WRITERS APPENDS_PER_WRITER SAMPLES_PER_BATCH
 */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "journal/journal.h"

static double mono(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long parse(const char *s, const char *what) {
  char *end = NULL;
  long v = strtol(s, &end, 10);
  if (!end || *end || v <= 0) {
    fprintf(stderr, "journal_bench: %s '%s' is not a positive number\n", what, s);
    exit(2);
  }
  return v;
}

/* One writer: appends `n` evaluation-sized events (about 1 kB of content, as check writes). */
static int writer(const char *target, int id, long n, int gate) {
  journal *j = NULL;
  gg_error err;
  gg_error_clear(&err);
  if (journal_open(target, JOURNAL_OPEN_CREATE, &j, &err) != GG_OK) {
    fprintf(stderr, "writer %d: %s\n", id, gg_error_message(&err));
    return 1;
  }
  char c;
  while (read(gate, &c, 1) > 0) {
  }
  char pad[900];
  memset(pad, 'x', sizeof pad - 1);
  pad[sizeof pad - 1] = '\0';
  for (long i = 0; i < n; i++) {
    json_t *content = json_pack("{s:s, s:i, s:I, s:s}", "decision", "GO", "writer", id, "i", (json_int_t)i,
                                "observed", pad);
    gg_status s = journal_append(j, JOURNAL_EVALUATION, "1", "bench", content, NULL, &err);
    json_decref(content);
    if (s != GG_OK) {
      fprintf(stderr, "writer %d: %s\n", id, gg_error_message(&err));
      journal_close(j);
      return 1;
    }
  }
  journal_close(j);
  return 0;
}

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: journal_bench TARGET WRITERS APPENDS_PER_WRITER SAMPLES_PER_BATCH\n");
    return 2;
  }
  const char *target = argv[1];
  long writers = parse(argv[2], "WRITERS"), per = parse(argv[3], "APPENDS_PER_WRITER");
  long batch = parse(argv[4], "SAMPLES_PER_BATCH");
  journal *j = NULL;
  gg_error err;
  gg_error_clear(&err);
  if (journal_open(target, JOURNAL_OPEN_CREATE, &j, &err) != GG_OK) {
    fprintf(stderr, "journal_bench: %s\n", gg_error_message(&err));
    return 1;
  }
  int gate[2];
  if (pipe(gate) != 0) return 1;
  pid_t *pids = calloc((size_t)writers, sizeof *pids);
  for (long w = 0; w < writers; w++) {
    pids[w] = fork();
    if (pids[w] == 0) {
      close(gate[1]);
      _exit(writer(target, (int)w, per, gate[0]));
    }
  }
  close(gate[0]);
  usleep(300 * 1000); /* let every writer connect before the clock starts */
  double t0 = mono();
  close(gate[1]);
  int failed = 0;
  for (long w = 0; w < writers; w++) {
    int status = 0;
    if (waitpid(pids[w], &status, 0) != pids[w] || !WIFEXITED(status) || WEXITSTATUS(status) != 0) failed = 1;
  }
  double took = mono() - t0;
  free(pids);
  if (failed) {
    journal_close(j);
    return 1;
  }

  /* What check and watch wait for: one approval, one batch of samples (medians of 21). */
  double appr[21], samp[21];
  journal_sample *s = calloc((size_t)batch, sizeof *s);
  char labels[64];
  bool bad = false;
  for (int r = 0; r < 21 && !bad; r++) {
    double a = mono();
    if ((bad = journal_approve(j, "1", "platform-lead", "alice", "go", "h", NULL, NULL, &err) != GG_OK))
      break;
    appr[r] = mono() - a;
    snprintf(labels, sizeof labels, "{\"stream\":\"AA_CORE_HOT\"}");
    for (long i = 0; i < batch; i++)
      s[i] = (journal_sample){
          .name = "nats_stream_messages", .labels = labels, .time = (double)time(NULL), .value = (double)i};
    a = mono();
    if ((bad = journal_samples_add(j, s, (size_t)batch, &err) != GG_OK)) break;
    samp[r] = mono() - a;
  }
  free(s);
  if (bad) {
    fprintf(stderr, "journal_bench: %s\n", gg_error_message(&err));
    journal_close(j);
    return 1;
  }
  for (int a = 0; a < 21; a++)
    for (int b = a + 1; b < 21; b++) {
      if (appr[b] < appr[a]) {
        double t = appr[a];
        appr[a] = appr[b];
        appr[b] = t;
      }
      if (samp[b] < samp[a]) {
        double t = samp[a];
        samp[a] = samp[b];
        samp[b] = t;
      }
    }
  journal_verify_result vr;
  if (journal_verify(j, &vr, &err) != GG_OK || !vr.ok) {
    fprintf(stderr, "journal_bench: the chain does not verify: %s\n", vr.what);
    journal_close(j);
    return 1;
  }
  printf(
      "writers=%ld appends=%ld seconds=%.3f appends_per_s=%.0f approval_ms=%.2f samples%ld_ms=%.2f "
      "rows=%lld\n",
      writers, writers * per, took, (double)(writers * per) / took, appr[10] * 1000.0, batch,
      samp[10] * 1000.0, vr.rows);
  journal_close(j);
  return 0;
}
