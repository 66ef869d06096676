/*
 * plan.h: the migration plan (DESIGN §4) as plain C structs, and its loader.
 *
 * plan_load_file / plan_load_buffer read the YAML with libyaml's document API, substitute
 * `${VAR}` / `${VAR:-default}` from the environment in every scalar value, type every field,
 * parse every expression (keeping its AST), resolve cross references (streams, consumers,
 * phases, roles) and report every problem of the file in one pass as a plan_diag with the
 * line and column it concerns. A plan is immutable once loaded; everything in it is owned by
 * the plan and freed by plan_free. Strings are NUL-terminated and never NULL unless the
 * field says "NULL when absent". Durations are seconds, sizes bytes (double), and "unset"
 * numbers are negative (-1) unless the field says otherwise.
 *
 * Secrets (nats token/password, database URLs, notify webhooks) are gg_secret (base/secret.h):
 * they never reach output, and the plan's content hash excludes them.
 *
 * The risk matrix maps probability (low/medium/high) x impact (low/medium/high/critical) to a
 * level (LOW/MEDIUM/HIGH/CRITICAL). The default is the risk assessment's:
 *
 *                   impact: low      medium    high      critical
 *   probability low         LOW      MEDIUM    MEDIUM    HIGH
 *               medium      LOW      MEDIUM    HIGH      CRITICAL
 *               high        MEDIUM   HIGH      CRITICAL  CRITICAL
 *
 * The four anchor cells are the document's (CRITICAL high/high, HIGH medium/high, MEDIUM
 * low/medium, LOW low/low); the others rise by one level per step of probability or impact,
 * with impact weighing slightly more (a likely small problem is less than an unlikely
 * critical one). A plan replaces cells with `risk_matrix: { low: { high: high }, ... }`
 * (rows probability, keys impact); cells it does not name keep the default.
 */
#ifndef GG_PLAN_H
#define GG_PLAN_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "base/secret.h"
#include "base/sigkey.h"
#include "expr/expr.h"

/* ---- positions and diagnostics ---- */

typedef struct {
  int line; /* 1-based; 0 when not from the file */
  int col;  /* 1-based */
} plan_pos;

typedef enum { PLAN_DIAG_ERROR = 0, PLAN_DIAG_WARNING } plan_severity;

typedef struct {
  plan_severity severity;
  int line, col; /* 1-based position in the file */
  char *message; /* "unknown key 'aprovals' in phase '2'" */
  char *hint;    /* "did you mean 'approvals'?"; NULL when none */
  char *source;  /* the file's line at `line` (no newline); NULL when unknown */
} plan_diag;

typedef struct {
  char *file; /* the name errors are reported under (the path given) */
  plan_diag *items;
  size_t count, cap;
  size_t errors, warnings;
} plan_diags;

/* Start empty. Allocates nothing. */
void plan_diags_init(plan_diags *d);

/* Free every diagnostic; d is empty afterwards. NULL-safe. */
void plan_diags_release(plan_diags *d);

/* Every diagnostic as JSON, what `validate --json` prints:
 *   {"file", "errors", "warnings", "diagnostics": [{"severity": "error"|"warning", "line",
 *    "column", "message", "hint" (or null), "source" (or null)}]}
 * You own the reference; NULL on ENOMEM. */
json_t *plan_diags_to_json(const plan_diags *d);

/* Format one diagnostic as
 *   plan.yaml:12:5: unknown key 'aprovals' in phase '2'
 *       aprovals: [platform-lead]
 *       ^
 *   did you mean 'approvals'?
 * (warnings read "plan.yaml:L:C: warning: ..."). Every line ends in '\n'.
 * You own the result (free()); NULL on ENOMEM. */
char *plan_diag_format(const plan_diags *d, const plan_diag *item);

/* ---- the model ---- */

/* Risk levels, lowest first: X(constant suffix, display name, key as the plan and JSON write it). */
#define PLAN_LEVEL_MAP(X)       \
  X(LOW, "LOW", "low")          \
  X(MEDIUM, "MEDIUM", "medium") \
  X(HIGH, "HIGH", "high")       \
  X(CRITICAL, "CRITICAL", "critical")

typedef enum {
#define PLAN_LEVEL_ENUM(name, display, key) PLAN_LEVEL_##name,
  PLAN_LEVEL_MAP(PLAN_LEVEL_ENUM)
#undef PLAN_LEVEL_ENUM
} plan_level;

/* How many; a macro, not an enumerator, so switches need not handle it. */
#define PLAN_LEVEL_COUNT (0 PLAN_LEVEL_MAP(GG_COUNT_ONE))
#define PLAN_PROBABILITY_LEVELS 3 /* low medium high */
#define PLAN_IMPACT_LEVELS 4      /* low medium high critical */

/* "LOW", "MEDIUM", "HIGH", "CRITICAL" ("?" out of range). */
const char *plan_level_name(plan_level l);
/* "low", "medium", "high", "critical": the key the plan and JSON use ("?" out of range). */
const char *plan_level_key(plan_level l);

typedef struct {
  plan_level cell[PLAN_PROBABILITY_LEVELS][PLAN_IMPACT_LEVELS]; /* [probability][impact] */
  bool is_default;
} plan_risk_matrix;

/* The default matrix documented above. */
void plan_risk_matrix_default(plan_risk_matrix *m);

/* The inherent level of probability x impact. */
plan_level plan_risk_level(const plan_risk_matrix *m, plan_level probability, plan_level impact);

/* An expression as written, with its AST. text is the substituted text. */
typedef struct {
  char *text;
  expr_node *ast; /* owned; never NULL in a loaded plan where the field is present */
  plan_pos pos;   /* where the expression starts in the file */
  bool exact;     /* one line as written: pos.col + (an expression column - 1) is its file column */
} plan_expr;

/* A public key allowed to sign for a role (`keys:`), read and checked when the plan loads. */
typedef struct {
  char *path; /* as written (after ${VAR}): what output names it by */
  char *file; /* the file read: path, relative to the plan's directory unless absolute */
  unsigned char pub[GG_SIGKEY_PUBLIC_LEN];
  plan_pos pos;
} plan_key;

typedef struct {
  char *name;
  char *title;
  bool optional;
  plan_pos pos;
  plan_key *keys; /* `keys:`: an approval for the role counts only when signed by one of them */
  size_t nkeys;
} plan_role;

/* The key of role r whose public key is pub; NULL when r lists no such key. */
const plan_key *plan_role_key(const plan_role *r, const unsigned char pub[GG_SIGKEY_PUBLIC_LEN]);

typedef struct {
  char *name;
  plan_expr expr;
} plan_define;

typedef struct {
  char *name;    /* "ingest" */
  char *health;  /* health URL; NULL when absent */
  char *metrics; /* metrics URL; NULL when absent */
  char *url;     /* base URL for canary paths; defaults to the origin of health or metrics */
  plan_pos pos;
} plan_target;

typedef struct {
  char *name;    /* "main" */
  gg_secret url; /* libpq connection string or URL */
  plan_pos pos;
} plan_database;

typedef struct {
  gg_secret webhook; /* URL */
  plan_pos pos;
} plan_notify;

typedef struct {
  char **servers; /* NATS URLs (comma-separated lists are split) */
  size_t nservers;
  char **monitor; /* monitoring base URLs, http://host:8222 */
  size_t nmonitor;
  /* One way to authenticate at most (validate refuses two): user + password, token, an nkey
   * seed file, or a .creds file (JWT + seed). Empty values read as absent, so a plan can say
   * "${NATS_USER:-}" and work on a cluster without auth too. Files are checked at load. */
  char *credentials;  /* path of a .creds file (`creds:` or `credentials:`); NULL when absent */
  gg_secret token;    /* unset when absent */
  char *user;         /* NULL when absent */
  gg_secret password; /* unset when absent */
  char *nkey;         /* path of an nkey user seed file; NULL when absent */
  char *tls_ca;       /* tls.ca: PEM of the CAs to trust; NULL: TLS only when a URL says tls:// */
  char *tls_cert;     /* tls.cert + tls.key: a client certificate (mutual TLS); NULL when absent */
  char *tls_key;
  /* system: the system account, for the server-level series when no monitor URL answers
   * (user + password, or creds); sys_user and sys_creds both NULL when absent. */
  char *sys_user;
  gg_secret sys_password;
  char *sys_creds;
  int expect_servers; /* 0 when not declared */
  double api_timeout; /* seconds a JetStream API request waits for its answer (`api_timeout`, 10 s) */
} plan_nats;

typedef struct {
  plan_nats nats;
  plan_database *databases;
  size_t ndatabases;
  plan_target *targets;
  size_t ntargets;
  char *prometheus;   /* NULL when absent or empty */
  char *alertmanager; /* NULL when absent or empty */
  plan_notify *notify;
  size_t nnotify;
} plan_connect;

typedef struct {
  char *timezone;  /* "UTC" by default */
  char **holidays; /* "YYYY-MM-DD" */
  size_t nholidays;
  char *off_hours; /* "Mon-Fri 20:00-06:00; Sat-Sun"; NULL when absent */
  char **freezes;  /* "YYYY-MM-DD" or "YYYY-MM-DD..YYYY-MM-DD" (inclusive), checked at load */
  size_t nfreezes;
  char **window_names; /* calendar.windows: name -> spec, in file order */
  char **window_specs;
  size_t nwindows;
} plan_calendar;

typedef struct {
  char *name; /* stream name */
  plan_pos pos;
  bool existing; /* exists before the migration (the legacy stream); never created by it */
  char **subjects;
  size_t nsubjects;
  int replicas;                 /* -1 unset */
  char *storage;                /* "file" | "memory"; NULL unset */
  char *retention;              /* "limits" | "interest" | "workqueue"; NULL unset */
  char *discard;                /* "old" | "new"; NULL unset */
  double max_age;               /* seconds, -1 unset */
  double max_bytes;             /* bytes, -1 unset */
  int64_t max_msgs;             /* -1 unset */
  int64_t max_msgs_per_subject; /* -1 unset */
  double max_msg_size;          /* bytes, -1 unset */
  double duplicates;            /* seconds, -1 unset */
} plan_stream;

typedef struct {
  char *stream; /* "AA_CORE_HOT" */
  char *name;   /* durable name, "normalize-hrv-durable" */
  plan_pos pos;
  bool existing;
  char **filters; /* filter subjects (`filter:` one, or a list) */
  size_t nfilters;
  double ack_wait;         /* seconds, -1 unset */
  int64_t max_deliver;     /* -1 unset */
  int64_t max_ack_pending; /* -1 unset */
  char *deliver_policy;    /* "all" | "last" | "new" | "last_per_subject"; NULL unset */
  char *ack_policy;        /* "explicit" | "none" | "all"; NULL unset */
} plan_consumer;

typedef struct {
  plan_stream *streams;
  size_t nstreams;
  plan_consumer *consumers;
  size_t nconsumers;
} plan_topology;

/* Criterion kinds: X(constant suffix, the plan's key). */
#define PLAN_CRIT_KIND_MAP(X) X(EXPECT, "expect") X(RUN, "run") X(ATTEST, "attest") X(CANARY, "canary")

typedef enum {
#define PLAN_CRIT_KIND_ENUM(name, key) PLAN_CRIT_##name,
  PLAN_CRIT_KIND_MAP(PLAN_CRIT_KIND_ENUM)
#undef PLAN_CRIT_KIND_ENUM
} plan_crit_kind;

/* How many; a macro, not an enumerator, so switches need not handle it. */
#define PLAN_CRIT_COUNT (0 PLAN_CRIT_KIND_MAP(GG_COUNT_ONE))

/* "expect", "run", "attest", "canary" ("?" out of range). */
const char *plan_crit_kind_name(plan_crit_kind k);

/* A go criterion, preflight criterion or checkpoint item. Exactly one kind. */
typedef struct {
  char *name;
  plan_pos pos;
  plan_crit_kind kind;
  double timeout;   /* seconds: probe timeout (default 5) or run timeout (default 60) or canary */
  plan_expr expect; /* EXPECT and CANARY */
  char *run;        /* RUN: a shell command line, ${VAR} expanded: for running it only */
  char *run_shown;  /* RUN: the command for output and the journal (plan_load_shown) */
  char *attest;     /* ATTEST: the item id a person confirms */
  char *signed_by;  /* ATTEST: a role (with keys:) one of whose keys must sign it; NULL: no key needed */
  double valid_for; /* ATTEST: seconds an attestation stays valid; -1 forever */
  /* CANARY: an HTTP POST to url, or a NATS publish to subject (exactly one is non-NULL). The
   * body is sent as written; the gate expands {{id}} and {{now}} at send time. */
  char *canary_target; /* target name when the URL came from connect.targets; NULL otherwise */
  char *canary_url;
  char *canary_subject;
  char *canary_body;         /* "" when absent */
  char *canary_content_type; /* "application/json" by default */
  double within;             /* seconds the expect is retried for (default 30) */
} plan_criterion;

/* What a no-go condition that holds does: X(constant suffix, the plan's word). */
#define PLAN_OUTCOME_MAP(X) X(NOGO, "no-go") X(DEFER, "defer")

typedef enum {
#define PLAN_OUTCOME_ENUM(name, word) PLAN_OUTCOME_##name,
  PLAN_OUTCOME_MAP(PLAN_OUTCOME_ENUM)
#undef PLAN_OUTCOME_ENUM
} plan_outcome;

/* How many; a macro, not an enumerator, so switches need not handle it. */
#define PLAN_OUTCOME_COUNT (0 PLAN_OUTCOME_MAP(GG_COUNT_ONE))

/* "no-go", "defer" ("?" out of range). */
const char *plan_outcome_name(plan_outcome o);

typedef struct {
  char *name;
  plan_pos pos;
  plan_expr when;
  plan_outcome outcome;
} plan_nogo;

typedef struct {
  char *risk;
  plan_pos pos;
  plan_level probability; /* LOW..HIGH */
  plan_level impact;      /* LOW..CRITICAL */
  plan_level inherent;    /* computed from the plan's risk matrix */
  char *mitigation;       /* "" when absent */
  plan_level residual;    /* declared */
} plan_risk;

typedef struct {
  char *phase;       /* the phase id required */
  double stable_for; /* seconds; 0 when only completion is required */
  plan_pos pos;
} plan_requirement;

typedef struct {
  char *role;    /* a role id of plan->roles */
  bool optional; /* the role's own flag unless the phase overrides it */
  plan_pos pos;
} plan_approval;

/* Action kinds (DESIGN §7): X(constant suffix, the plan's key). */
#define PLAN_ACTION_KIND_MAP(X)             \
  X(CREATE_STREAM, "create_stream")         \
  X(UPDATE_STREAM, "update_stream")         \
  X(DELETE_STREAM, "delete_stream")         \
  X(MOVE_SUBJECTS, "move_subjects")         \
  X(CREATE_CONSUMER, "create_consumer")     \
  X(DRAIN, "drain")                         \
  X(VERIFY_CONTINUITY, "verify_continuity") \
  X(WAIT, "wait")                           \
  X(EXEC, "exec")                           \
  X(KV_PUT, "kv_put")                       \
  X(SHIFT, "shift")

typedef enum {
#define PLAN_ACTION_KIND_ENUM(name, key) PLAN_ACT_##name,
  PLAN_ACTION_KIND_MAP(PLAN_ACTION_KIND_ENUM)
#undef PLAN_ACTION_KIND_ENUM
      PLAN_ACT_COUNT /* an enumerator, as before: src/act's switches name it */
} plan_action_kind;

/* "create_stream", ... */
const char *plan_action_kind_name(plan_action_kind k);

typedef struct {
  plan_action_kind kind;
  plan_pos pos;
  char *stream;    /* CREATE/UPDATE/DELETE_STREAM, DRAIN, CREATE_CONSUMER (its stream) */
  char *consumer;  /* CREATE_CONSUMER, DRAIN: the durable name */
  char **subjects; /* MOVE_SUBJECTS, VERIFY_CONTINUITY */
  size_t nsubjects;
  char *from, *to;              /* MOVE_SUBJECTS, VERIFY_CONTINUITY: stream names */
  char *publisher_counter;      /* VERIFY_CONTINUITY: optional series counting published messages; NULL */
  bool allow_data_loss;         /* DELETE_STREAM */
  plan_stream *update;          /* UPDATE_STREAM: settings given inline (NULL: apply the topology's) */
  double until;                 /* DRAIN: pending at or below which it is drained (default 0) */
  double timeout;               /* DRAIN, WAIT-until, EXEC: seconds; -1 unset */
  double duration;              /* WAIT: seconds, -1 when it waits for `until_expr` */
  plan_expr until_expr;         /* WAIT: ast NULL unless waiting for a condition */
  char *run, *undo;             /* EXEC: undo NULL when absent; run with ${VAR} expanded */
  char *run_shown, *undo_shown; /* EXEC: the same as plan_shown_command gives them, for output */
  char *bucket, *key, *value;   /* KV_PUT; SHIFT: bucket and key of `kv: BUCKET/KEY` */
  bool create_bucket;           /* KV_PUT: `create: true` makes the bucket when it does not exist */
  /* SHIFT (DESIGN §14): the share of traffic sent to the new topology, step by step. The steps
   * rise strictly, each in (0, 100] percent; each is held for `hold` seconds while the phase's
   * monitor rules are evaluated, then its `gate` criteria must pass. `target` is the plan target
   * whose metrics report the share in force (ingest_shift_share); stream/consumer, from
   * `drain: STREAM/CONSUMER`, the new side the inverse drains (NULL when not given). */
  double *steps; /* percent, 0 < s <= 100, rising */
  size_t nsteps;
  double hold; /* seconds */
  plan_criterion *gate;
  size_t ngate;
  char *target; /* "ingest" by default */
} plan_action;

/* One-line description "move_subjects core.> ATHLETE_ALLY_EVENTS -> AA_CORE_HOT" and its
 * inverse "move core.> back AA_CORE_HOT -> ATHLETE_ALLY_EVENTS" (or "none (observes only)").
 * Written into out (at most n bytes); return out. */
char *plan_action_describe(const plan_action *a, char *out, size_t n);
char *plan_action_inverse(const plan_action *a, char *out, size_t n);

/* What a failed action does to its phase: X(constant suffix, the plan's word). */
#define PLAN_ON_FAILURE_MAP(X) X(ROLLBACK, "rollback") X(STOP, "stop")

typedef enum {
#define PLAN_ON_FAILURE_ENUM(name, word) PLAN_ON_FAILURE_##name,
  PLAN_ON_FAILURE_MAP(PLAN_ON_FAILURE_ENUM)
#undef PLAN_ON_FAILURE_ENUM
} plan_on_failure;

/* How many; a macro, not an enumerator, so switches need not handle it. */
#define PLAN_ON_FAILURE_COUNT (0 PLAN_ON_FAILURE_MAP(GG_COUNT_ONE))

/* "rollback", "stop" ("?" out of range). */
const char *plan_on_failure_name(plan_on_failure f);

typedef struct {
  char *id;   /* "2" */
  char *name; /* "Migrate core subjects" */
  plan_pos pos;
  char *description; /* "" when absent */
  plan_requirement *requires;
  size_t nrequires;
  plan_risk *risks;
  size_t nrisks;
  bool risk_declared; /* overall risk was written as `risk:` */
  plan_level risk;    /* declared, or derived: the highest residual (LOW with no risks) */
  plan_pos risk_pos;
  char *rollback_complexity; /* "trivial" | "simple" | "moderate" | "complex"; NULL absent */
  double rollback_estimate;  /* seconds, -1 absent */
  char *rollback_note;       /* NULL absent */
  plan_approval *approvals;
  size_t napprovals;
  plan_criterion *go;
  size_t ngo;
  plan_nogo *no_go;
  size_t nno_go;
  plan_action *prepare; /* run before the go decision; the criteria observe them */
  size_t nprepare;
  plan_action *actions;
  size_t nactions;
  /* Checked right after the actions (a canary through the new path, the new consumer bound):
   * any that does not PASS within its time fails the phase, and on_failure applies. This is
   * where checks that JetStream cannot satisfy before a cutover go (see the example plan). */
  plan_criterion *verify;
  size_t nverify;
  plan_on_failure on_failure;
} plan_phase;

/* What a monitor rule does when it fires: X(constant suffix, the plan's word). */
#define PLAN_THEN_MAP(X) X(ROLLBACK, "rollback") X(ADVISE, "advise") X(NOTIFY, "notify")

typedef enum {
#define PLAN_THEN_ENUM(name, word) PLAN_THEN_##name,
  PLAN_THEN_MAP(PLAN_THEN_ENUM)
#undef PLAN_THEN_ENUM
} plan_then;

/* How many; a macro, not an enumerator, so switches need not handle it. */
#define PLAN_THEN_COUNT (0 PLAN_THEN_MAP(GG_COUNT_ONE))

/* "rollback", "advise", "notify" ("?" out of range). */
const char *plan_then_name(plan_then t);

typedef struct {
  char *name;
  plan_pos pos;
  plan_expr when;
  double for_; /* seconds the condition must hold at every evaluation (0: at once) */
  plan_then then;
  /* on_error: hold — a probe ERROR keeps the rule's state (pending stays pending) instead
   * of counting as "condition not held" (on_error: ignore, the default). */
  bool on_error_hold;
  char **phases; /* phases after which the rule applies; none = every phase */
  size_t nphases;
} plan_rule;

typedef struct {
  double interval; /* seconds, default 15 */
  plan_rule *rules;
  size_t nrules;
} plan_monitor;

typedef struct {
  double at;  /* seconds after a phase completes (T+at) */
  char *name; /* "T+5m" unless named */
  plan_pos pos;
  char **phases; /* phases it follows; none = every phase */
  size_t nphases;
  plan_criterion *items;
  size_t nitems;
} plan_checkpoint;

typedef struct {
  char *title;
  char *url;
} plan_reference;

/* Default `ready_timeout:` of a rehearsal service, and the most it may be. */
#define PLAN_REHEARSAL_READY_TIMEOUT 30.0
#define PLAN_REHEARSAL_READY_TIMEOUT_MAX 1800.0

/* One command `gonogo rehearse` starts in place of the reference services (`rehearsal.services`). */
typedef struct {
  char *name;
  char *run;                      /* the command (/bin/sh -c, in the plan's workdir); never printed */
  char *ready_url;                /* polled until it answers 2xx; or */
  plan_expr ready;                /* ready.ast set: an expression evaluated until true */
  double ready_timeout;           /* seconds it has to become ready (PLAN_REHEARSAL_READY_TIMEOUT) */
  char **env_names, **env_values; /* `env:` added to the sandbox's environment */
  size_t nenv;
  plan_pos pos;
} plan_rehearsal_service;

/* `rehearsal:` what `gonogo rehearse` starts and how it counts; every field optional. */
typedef struct {
  plan_rehearsal_service *services; /* none: the reference ingest-service and normalize-service */
  size_t nservices;
  char *publish_url;  /* NULL: ${INGEST_URL}/v1/hrv */
  char *publish_body; /* NULL: an HRV reading; `{{id}}` the unique id, `{{now}}` the time (RFC 3339) */
  char *consumed_db;  /* a `connect.databases` name; NULL: PG_URL */
  char *consumed_sql; /* the ids that arrived; NULL: SELECT msg_id FROM hrv_data */
} plan_rehearsal;

typedef struct plan {
  char *file; /* the name it was loaded under */
  char *migration;
  char *description; /* "" when absent */
  gg_secret journal; /* `journal:` the journal's path or postgres:// URL (${VAR} allowed); unset: the
                        default file beside the plan */
  /* Where `run:` commands (criteria, checkpoints, command actions) execute: the `workdir:` key,
   * relative to the plan's directory, else the plan's directory; an absolute path. NULL for a
   * plan loaded from a buffer whose name is no file (the caller's directory then). */
  char *workdir;
  char hash[65]; /* SHA-256 hex of the substituted content, secrets excluded, and of the
                    roles' public keys (hash.c) */
  plan_connect connect;
  plan_calendar calendar;
  plan_define *defines;
  size_t ndefines;
  plan_risk_matrix risk_matrix;
  plan_role *roles;
  size_t nroles;
  plan_criterion *preflight;
  size_t npreflight;
  plan_topology topology;
  plan_phase *phases;
  size_t nphases;
  plan_monitor monitor;
  plan_checkpoint *validation;
  size_t nvalidation;
  plan_reference *references;
  size_t nreferences;
  json_t *values;             /* the resolved values, secrets left out (plan_values); NULL on ENOMEM */
  double rehearsal_valid_for; /* seconds a passed `gonogo rehearse` counts (rehearsal.passed); 7d default */
  plan_rehearsal rehearsal;
} plan;

#define PLAN_REHEARSAL_VALID_FOR (7.0 * 86400.0)

/* Where `${VAR}` values come from. NULL lookup means getenv. */
typedef struct {
  const char *(*lookup)(const char *name, void *ctx); /* NULL result: unset */
  void *ctx;
  /* Called (when not NULL) with each table of keys a mapping of the file is checked against:
   * site is the loader's "src/plan/FILE.c:LINE", where the section ("connect.nats"). The
   * reference test collects every key the loader knows this way. */
  void (*on_keys)(void *ctx, const char *site, const char *where, const char *const *keys, size_t n);
} plan_load_opts;

/* Load the plan at path. On GG_OK you own *out (plan_free); diags may still hold warnings.
 * GG_ERR_PLAN when the file has errors: *out is NULL and every error (and warning) is in
 * diags, err says how many. GG_ERR_IO / GG_ERR_NOT_FOUND / GG_ERR_TOO_BIG when the file
 * cannot be read (over GG_BUF_PLAN_MAX). diags must be initialised; opts may be NULL. */
gg_status plan_load_file(const char *path, const plan_load_opts *opts, plan **out, plan_diags *diags,
                         gg_error *err) GG_WUR;

/* The same from memory: data (len bytes, need not be NUL-terminated) is reported as `name`. */
gg_status plan_load_buffer(const char *name, const char *data, size_t len, const plan_load_opts *opts,
                           plan **out, plan_diags *diags, gg_error *err) GG_WUR;

/* Free the plan and everything it owns. NULL-safe. */
void plan_free(plan *p);

/* ---- lookups (borrowed pointers into p; NULL when not found) ---- */

const plan_phase *plan_find_phase(const plan *p, const char *id);
const plan_stream *plan_find_stream(const plan *p, const char *name);
const plan_consumer *plan_find_consumer(const plan *p, const char *stream, const char *name);
const plan_role *plan_find_role(const plan *p, const char *id);
const plan_target *plan_find_target(const plan *p, const char *name);
const plan_define *plan_find_define(const plan *p, const char *name);

/* Counts for `validate`: preflight + go + no-go + verify + checkpoint items. */
size_t plan_count_criteria(const plan *p);

/* The plan's resolved values as an approval keeps them: {"vars": {NAME: value}, "keys":
 * {path: value}}, a path such as `phases[2].actions[3].drain.timeout`, values over 40
 * characters as "#" and the start of their SHA-256, secrets left out. Borrowed from p; NULL
 * when p is NULL. */
const json_t *plan_values(const plan *p);

/* What differs between a snapshot an approval kept (`then`, from plan_values of the plan it
 * approved) and p: "DRAIN_TIMEOUT: 30m → 5m; phases[1].actions[2].drain.timeout: 30m → 5m",
 * variables first, at most max_lines entries and "and N more". You own the result (free());
 * NULL when `then` is not a snapshot (an approval older than snapshots) or on ENOMEM. */
char *plan_values_diff(const json_t *then, const plan *p, size_t max_lines);

/* The whole plan as JSON (what `show --json` prints): every field, computed risk levels,
 * action inverses, the hash; secrets as their labels only. You own the reference. */
json_t *plan_to_json(const plan *p);

/* NATS subject patterns ('*' one token, '>' one or more): whether some subject matches both
 * a and b; whether every subject inner matches also matches outer. */
bool plan_subjects_overlap(const char *a, const char *b);
bool plan_subject_within(const char *inner, const char *outer);

/* Edit distance (Levenshtein) between a and b, capped at 100; for suggestions. */
int plan_edit_distance(const char *a, const char *b);

#endif
