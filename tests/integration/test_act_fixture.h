/*
 * test_act_fixture.h: what the act integration tests share — the ACT_* topology on the sandbox,
 * a publisher (a Nats-Msg-Id per message, retrying "no responders" within a budget) and a
 * consumer (pull subscriptions bound by stream and durable, acking, counting every id), running
 * `gonogo` as a child process, and reading its journal.
 *
 * Environment: NATS_URL (the sandbox's), GONOGO_BIN, GONOGO_SOURCE_DIR (for the plan), ACT_PLAN
 * (another plan of tests/integration/plans than act.yaml, read by actx_init).
 * Every function fails the running cmocka test on error.
 */
#ifndef GG_TEST_ACT_FIXTURE_H
#define GG_TEST_ACT_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <nats/nats.h>

/* Connect, set ACT_ID (journal name), remove any ACT_* stream left over; replicas for the plan. */
void actx_init(const char *id, int replicas);
/* Delete the ACT_* streams, stop threads, close the connection. */
void actx_cleanup(void);
jsCtx *actx_js(void);

/* The legacy stream ACT_LEGACY (act.vendor.>, act.core.>, work-queue retention) and its consumers
 * oura (act.vendor.>) and hrv (act.core.>). */
void actx_legacy_create(void);

/* Publisher: about `rate` messages per second alternating act.vendor.oura.N / act.core.hrv.N with
 * Nats-Msg-Id "m-N"; a message that finds no stream is retried for up to 5 s. */
void actx_publisher_start(int rate);
void actx_publisher_stop(void);
long actx_published(void); /* messages acknowledged by JetStream (ids 0 .. n-1) */
/* With the publisher stopped: publish n more ids, all on act.vendor.oura.* (synchronously, each
 * acknowledged); returns the first id's number. */
long actx_publish_vendor(long n);
long actx_publish_failures(void);

/* Consumer: binds ACT_LEGACY/oura, ACT_LEGACY/hrv, ACT_VENDOR/oura, ACT_CORE/hrv as they appear,
 * acks everything, counts deliveries per id. pause_legacy_hrv stops fetching ACT_LEGACY/hrv. */
void actx_consumer_start(void);
void actx_consumer_stop(void);
void actx_pause_legacy_hrv(bool paused);
/* Stop fetching (and drop the subscription of) binding stream/durable, or resume it: a stalled
 * service. */
void actx_pause(const char *stream, const char *durable, bool paused);
/* A consumer's num_pending + num_ack_pending; -1 when it does not exist. */
long actx_consumer_backlog(const char *stream, const char *durable);
/* Wait until every published id was received (at least once) or timeout seconds; returns how
 * many ids are still missing. */
long actx_wait_consumed(double timeout);
/* Ids delivered more than once (new deliveries, not counting redeliveries the server flags). */
long actx_duplicates(void);
/* Deliveries counted per stream: "ACT_LEGACY", "ACT_VENDOR", "ACT_CORE". */
long actx_received_from(const char *stream);

/* Run `gonogo ARGS...` (NULL-terminated) with the test plan and journal appended
 * (PLAN --journal J); output into a log that actx_output returns. Returns the exit code. */
int actx_gonogo(const char *const *args);
/* The same, not waiting: the child's pid. */
pid_t actx_gonogo_spawn(const char *const *args);
int actx_gonogo_wait(pid_t pid);
/* The last command's combined output (static buffer). */
const char *actx_output(void);

/* Journal: number of events of `kind` (NULL any) whose content contains `needle` (NULL any). */
int actx_journal_count(const char *kind, const char *needle);
/* Wait until actx_journal_count(kind, needle) >= n or timeout; returns whether it happened. */
bool actx_journal_wait(const char *kind, const char *needle, int n, double timeout);
/* Content of the latest event of kind (static buffer, "" when none). */
const char *actx_journal_last(const char *kind, const char *needle);
const char *actx_journal_path(void);

/* Stream facts: exists, holds subject exactly, message count. */
bool actx_stream_exists(const char *name);
bool actx_stream_has_subject(const char *name, const char *subject);
long actx_stream_msgs(const char *name);
/* Wait until the stream holds no message (work-queue retention removes acknowledged messages a
 * moment after the ack); whether it happened within timeout seconds. */
bool actx_wait_stream_empty(const char *name, double timeout);

#endif
