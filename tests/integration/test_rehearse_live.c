/*
 * `gonogo rehearse --from-live` reads the legacy topology off the live cluster (#14): on the
 * sandbox, a legacy stream and consumer whose settings differ from what the plan says (more
 * subjects, a size limit, limits retention, R1; a filter, ack wait and max deliver) are what the
 * rehearsal builds, with the plan's R5 lowered to the nodes there are; a legacy stream the live
 * cluster does not have is refused by name. No rehearsal runs: this is the topology step alone
 * (rehearse_topology_adapt), against the live servers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "plan/plan.h"
#include "rehearse/internal.h"
#include "support.h"

static const char *plan_text =
    "migration: rehearse-live\n"
    "connect:\n"
    "  nats: { servers: \"${NATS_URL}\" }\n"
    "topology:\n"
    "  streams:\n"
    "    RL_LEGACY: { existing: true, subjects: [\"rl.a.>\"], replicas: 5, storage: file }\n"
    "    RL_NEW: { subjects: [\"rl.new.>\"], replicas: 5, storage: file }\n"
    "  consumers:\n"
    "    RL_LEGACY/work: { existing: true, filter: \"rl.a.>\" }\n"
    "phases:\n"
    "  - { id: 1, name: one }\n";

static natsConnection *nc;
static jsCtx *js;

static int setup(void **state) {
  (void)state;
  if (!getenv("NATS_URL")) return 0;
  if (support_nats_connect(getenv("NATS_URL"), &nc, &js) != 0) return -1;
  js_DeleteStream(js, "RL_LEGACY", NULL, NULL);
  const char *subjects[] = {"rl.a.>", "rl.b.>"};
  jsStreamConfig sc;
  jsStreamConfig_Init(&sc);
  sc.Name = "RL_LEGACY";
  sc.Subjects = subjects;
  sc.SubjectsLen = 2;
  sc.Storage = js_FileStorage;
  sc.Replicas = 1;
  sc.MaxBytes = 64 << 20;
  sc.MaxAge = (int64_t)3600 * 1000000000;
  jsErrCode je = 0;
  if (js_AddStream(NULL, js, &sc, NULL, &je) != NATS_OK) {
    fprintf(stderr, "create RL_LEGACY: jetstream error %d\n", (int)je);
    return -1;
  }
  jsConsumerConfig cc;
  jsConsumerConfig_Init(&cc);
  cc.Durable = "work";
  cc.FilterSubject = "rl.b.>";
  cc.AckPolicy = js_AckExplicit;
  cc.AckWait = (int64_t)45 * 1000000000;
  cc.MaxDeliver = 7;
  if (js_AddConsumer(NULL, js, "RL_LEGACY", &cc, NULL, &je) != NATS_OK) {
    fprintf(stderr, "create RL_LEGACY/work: jetstream error %d\n", (int)je);
    return -1;
  }
  return 0;
}

static int teardown(void **state) {
  (void)state;
  if (!js) return 0;
  js_DeleteStream(js, "RL_LEGACY", NULL, NULL);
  jsCtx_Destroy(js);
  natsConnection_Destroy(nc);
  return 0;
}

/* The plan of `text`, its existing-marked topology adapted from the live cluster as `rehearse
 * --from-live` does on 3 nodes; *st what that returned. You own the plan, *adj and *err's text. */
typedef struct {
  plan *p;
  char **adj;
  size_t nadj;
  gg_error err;
  gg_status st;
} adapted;

static adapted adapt_from_live(const char *text) {
  adapted a = {0};
  plan_diags d;
  plan_diags_init(&d);
  plan *live = NULL;
  gg_error_clear(&a.err);
  if (plan_load_buffer("plan.yaml", text, strlen(text), NULL, &live, &d, &a.err) != GG_OK ||
      plan_load_buffer("plan.yaml", text, strlen(text), NULL, &a.p, &d, &a.err) != GG_OK)
    fail_msg("plan: %s", d.count ? d.items[0].message : gg_error_message(&a.err));
  plan_diags_release(&d);
  a.st = rehearse_topology_adapt(a.p, live, true, 3, &a.adj, &a.nadj, &a.err);
  plan_free(live);
  return a;
}

static void adapted_release(adapted *a) {
  rehearse_list_free(a->adj, a->nadj);
  plan_free(a->p);
}

static bool said(char **adj, size_t n, const char *text) {
  for (size_t i = 0; i < n; i++)
    if (strstr(adj[i], text)) return true;
  return false;
}

static void live_settings_replace_the_plans(void **state) {
  (void)state;
  if (!js) skip();
  adapted a = adapt_from_live(plan_text);
  assert_int_equal(a.st, GG_OK);
  for (size_t i = 0; i < a.nadj; i++) print_message("adjusted: %s\n", a.adj[i]);
  const plan *p = a.p;

  const plan_stream *s = plan_find_stream(p, "RL_LEGACY");
  assert_non_null(s);
  assert_int_equal(s->nsubjects, 2); /* the live subjects, not the plan's one */
  assert_string_equal(s->subjects[0], "rl.a.>");
  assert_string_equal(s->subjects[1], "rl.b.>");
  assert_int_equal(s->replicas, 1); /* live R1, not the plan's R5 */
  assert_true(s->max_bytes == 64 << 20);
  assert_true(s->max_age == 3600);
  assert_string_equal(s->retention, "limits");
  const plan_consumer *c = plan_find_consumer(p, "RL_LEGACY", "work");
  assert_non_null(c);
  assert_int_equal(c->nfilters, 1);
  assert_string_equal(c->filters[0], "rl.b.>");
  assert_true(c->ack_wait == 45);
  assert_int_equal(c->max_deliver, 7);
  /* a stream the live cluster does not have yet keeps the plan's settings, R5 lowered */
  const plan_stream *n = plan_find_stream(p, "RL_NEW");
  assert_int_equal(n->replicas, 3);
  assert_true(said(a.adj, a.nadj, "RL_NEW: R5 -> R3 (the local cluster has 3 nodes)"));
  assert_false(said(a.adj, a.nadj, "RL_LEGACY: R5"));
  adapted_release(&a);
}

static void missing_live_stream_is_refused_by_name(void **state) {
  (void)state;
  if (!js) skip();
  char text[2048];
  snprintf(text, sizeof text, "%s", plan_text);
  char *at = strstr(text, "RL_LEGACY: { existing");
  assert_non_null(at);
  memcpy(at, "RL_GONE__", 9); /* same length: the rest of the text stays put */
  char *cons = strstr(text, "RL_LEGACY/work");
  assert_non_null(cons);
  memcpy(cons, "RL_GONE__", 9);
  adapted a = adapt_from_live(text);
  assert_int_equal(a.st, GG_ERR_NATS);
  print_message("refused: %s\n", gg_error_message(&a.err));
  assert_string_equal(gg_error_message(&a.err),
                      "--from-live: stream 'RL_GONE__' on the live cluster: not found");
  adapted_release(&a);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(live_settings_replace_the_plans),
                                     cmocka_unit_test(missing_live_stream_is_refused_by_name)};
  return cmocka_run_group_tests(tests, setup, teardown);
}
