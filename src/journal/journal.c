/*
 * journal.c: opening, the schema and its migrations, the hash chain, reading events, verify.
 */
#include "journal/journal.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/secret.h"
#include "journal/journal_int.h"

/* 'gong': marks the SQLite file as a gonogo journal (PRAGMA application_id). */
#define JOURNAL_APPLICATION_ID 0x676f6e67
/* Seconds an empty file may be another process's journal being created right now. */
#define JOURNAL_EMPTY_GRACE_S 10

const char journal_any_phase[] = "*any*";

static const char *const kind_names[] = {
#define JOURNAL_KIND_NAME(name, text) text,
    JOURNAL_KIND_MAP(JOURNAL_KIND_NAME)
#undef JOURNAL_KIND_NAME
};

const char *journal_kind_name(journal_kind kind) {
  if ((int)kind < 0 || kind >= JOURNAL_KIND_COUNT) return "?";
  return kind_names[kind];
}

gg_status journal_kind_parse(const char *text, journal_kind *out, gg_error *err) {
  for (int i = 0; i < JOURNAL_KIND_COUNT; i++) {
    if (strcmp(text, kind_names[i]) == 0) {
      *out = (journal_kind)i;
      return GG_OK;
    }
  }
  char list[1024] = "";
  size_t used = 0;
  for (int i = 0; i < JOURNAL_KIND_COUNT && used < sizeof list; i++) {
    int w = snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "", kind_names[i]);
    if (w < 0) break;
    used += (size_t)w;
  }
  return gg_error_set(err, GG_ERR_INVALID, "unknown event kind '%s' (kinds: %s)", text, list);
}

/* ---- identity ---------------------------------------------------------------------------------- */

static pthread_once_t ident_once = PTHREAD_ONCE_INIT;
static char ident_user[256];
static char ident_host[256];

static void ident_init(void) {
  struct passwd pw, *res = NULL;
  char buf[4096];
  if (getpwuid_r(geteuid(), &pw, buf, sizeof buf, &res) == 0 && res && res->pw_name && res->pw_name[0])
    snprintf(ident_user, sizeof ident_user, "%s", res->pw_name);
  else
    snprintf(ident_user, sizeof ident_user, "uid %ld", (long)geteuid());
  if (gethostname(ident_host, sizeof ident_host) != 0 || ident_host[0] == '\0')
    snprintf(ident_host, sizeof ident_host, "unknown-host");
  ident_host[sizeof ident_host - 1] = '\0';
}

const char *journal_os_user(void) {
  pthread_once(&ident_once, ident_init);
  return ident_user;
}

const char *journal_host(void) {
  pthread_once(&ident_once, ident_init);
  return ident_host;
}

gg_status journal_need_writable(journal *j, const char *what, gg_error *err) {
  if (j->readonly)
    return gg_error_set(err, GG_ERR_STATE, "journal '%s': %s: opened read-only", j->path, what);
  return GG_OK;
}

/* ---- schema ------------------------------------------------------------------------------------ */

/* migrations[v] takes a file from version v to v + 1. Never edit a released step: add one. */
static const char *const migrations[JOURNAL_SCHEMA_VERSION] = {
    /* 0 -> 1: the first schema. */
    "CREATE TABLE events ("
    "  seq INTEGER PRIMARY KEY,"
    "  time_ms INTEGER NOT NULL,"
    "  kind TEXT NOT NULL,"
    "  phase TEXT,"
    "  actor TEXT NOT NULL,"
    "  os_user TEXT NOT NULL,"
    "  host TEXT NOT NULL,"
    "  content TEXT NOT NULL,"
    "  prev_hash TEXT NOT NULL,"
    "  hash TEXT NOT NULL);"
    "CREATE INDEX events_kind_phase ON events(kind, phase, seq);"
    "CREATE INDEX events_time ON events(time_ms);"
    /* Append-only by construction: an edit has to drop these first, and verify still sees it. */
    "CREATE TRIGGER events_no_update BEFORE UPDATE ON events"
    "  BEGIN SELECT RAISE(ABORT, 'journal events are append-only'); END;"
    "CREATE TRIGGER events_no_delete BEFORE DELETE ON events"
    "  BEGIN SELECT RAISE(ABORT, 'journal events are append-only'); END;"
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE samples (name TEXT NOT NULL, labels TEXT NOT NULL, time REAL NOT NULL,"
    "  value REAL NOT NULL);"
    "CREATE INDEX samples_name_time ON samples(name, time);"
    "CREATE INDEX samples_time ON samples(time);"
    "CREATE TABLE lease (id INTEGER PRIMARY KEY CHECK (id = 1), holder TEXT NOT NULL,"
    "  host TEXT NOT NULL, pid INTEGER NOT NULL, token TEXT NOT NULL, since REAL NOT NULL,"
    "  expires REAL NOT NULL);"
    "CREATE VIEW approvals AS SELECT seq, time_ms, phase, actor AS by_name, os_user, host,"
    "  json_extract(content, '$.role') AS role, json_extract(content, '$.decision') AS decision,"
    "  json_extract(content, '$.plan_hash') AS plan_hash, json_extract(content, '$.note') AS note"
    "  FROM events WHERE kind = 'approval';"
    "CREATE VIEW attestations AS SELECT seq, time_ms, phase, actor AS by_name, os_user, host,"
    "  json_extract(content, '$.item') AS item, json_extract(content, '$.valid_for') AS valid_for,"
    "  CASE WHEN json_extract(content, '$.valid_for') > 0 THEN time_ms +"
    "    CAST(json_extract(content, '$.valid_for') * 1000 AS INTEGER) END AS expires_ms,"
    "  json_extract(content, '$.plan_hash') AS plan_hash, json_extract(content, '$.note') AS note"
    "  FROM events WHERE kind = 'attestation';"
    "CREATE VIEW marks AS SELECT seq, time_ms, actor AS by_name, json_extract(content, '$.mark') AS mark,"
    "  json_extract(content, '$.at_ms') AS at_ms, json_extract(content, '$.note') AS note"
    "  FROM events WHERE kind = 'mark';"
    "CREATE VIEW phase_lifecycle AS SELECT seq, time_ms, phase, kind,"
    "  json_extract(content, '$.reason') AS reason FROM events WHERE kind IN"
    "  ('phase_prepared', 'phase_started', 'phase_completed', 'phase_failed', 'phase_rolled_back');"
    "CREATE VIEW latest_evaluation AS SELECT e.* FROM events e WHERE e.kind = 'evaluation' AND"
    "  e.seq = (SELECT max(x.seq) FROM events x WHERE x.kind = 'evaluation' AND x.phase IS e.phase);",
};

static gg_status pragma_int(journal *j, const char *sql, int *out, gg_error *err) {
  journal_stmt *st = NULL;
  gg_status s = journal_prepare(j, sql, &st, err);
  if (s != GG_OK) return s;
  int rc = journal_step(st);
  if (rc == JOURNAL_ROW) {
    *out = (int)journal_column_int64(st, 0);
    s = GG_OK;
  } else {
    s = journal_sql_fail(j, err, "read schema version");
  }
  journal_finalize(st);
  return s;
}

static gg_status refuse_newer(journal *j, int version, gg_error *err) {
  return gg_error_set(err, GG_ERR_UNSUPPORTED,
                      "journal '%s' has schema version %d, newer than the %d this gonogo understands: "
                      "upgrade gonogo to read it",
                      j->path, version, JOURNAL_SCHEMA_VERSION);
}

static gg_status check_identity(journal *j, int version, gg_error *err) {
  int app = 0, tables = 0;
  gg_status s = pragma_int(j, "PRAGMA application_id", &app, err);
  if (s != GG_OK) return s;
  s = pragma_int(j, "SELECT count(*) FROM sqlite_master", &tables, err);
  if (s != GG_OK) return s;
  if (app != JOURNAL_APPLICATION_ID && (version > 0 || tables > 0))
    return gg_error_set(err, GG_ERR_INVALID, "'%s' is an SQLite file but not a gonogo journal", j->path);
  return GG_OK;
}

static gg_status migrate(journal *j, gg_error *err) {
  gg_status s = journal_begin(j, err);
  if (s != GG_OK) return s;
  int version = 0;
  s = pragma_int(j, "PRAGMA user_version", &version, err); /* again, inside the transaction */
  if (s != GG_OK) goto out;
  if (version > JOURNAL_SCHEMA_VERSION) {
    s = refuse_newer(j, version, err);
    goto out;
  }
  s = check_identity(j, version, err);
  if (s != GG_OK) goto out;
  for (int v = version; v < JOURNAL_SCHEMA_VERSION; v++) {
    s = journal_exec(j, migrations[v], err);
    if (s != GG_OK) {
      gg_error_prefix(err, "migrate schema from version %d to %d: ", v, v + 1);
      goto out;
    }
  }
  if (version < JOURNAL_SCHEMA_VERSION) {
    char sql[128];
    snprintf(sql, sizeof sql, "PRAGMA user_version = %d; PRAGMA application_id = %d", JOURNAL_SCHEMA_VERSION,
             JOURNAL_APPLICATION_ID);
    s = journal_exec(j, sql, err);
    if (s != GG_OK) goto out;
  }
  s = journal_commit(j, err);
  if (s == GG_OK) j->version = JOURNAL_SCHEMA_VERSION;
  return s;
out:
  journal_rollback(j);
  return s;
}

static gg_status make_parent_dir(const char *path, gg_error *err) {
  const char *slash = strrchr(path, '/');
  if (!slash || slash == path) return GG_OK;
  size_t n = (size_t)(slash - path);
  char *dir = strndup(path, n);
  if (!dir) return gg_error_set(err, GG_ERR_NOMEM, "out of memory");
  gg_status s = GG_OK;
  if (mkdir(dir, 0755) != 0 && errno != EEXIST)
    s = gg_error_set(err, GG_ERR_IO, "create directory '%s': %s", dir, strerror(errno));
  free(dir);
  return s;
}

static gg_status open_sqlite(const char *path, int flags, journal **out, gg_error *err) {
  *out = NULL;
  bool readonly = (flags & JOURNAL_OPEN_READONLY) != 0;
  bool create = (flags & JOURNAL_OPEN_CREATE) != 0 && !readonly;
  struct stat sb;
  if (stat(path, &sb) != 0) {
    if (errno != ENOENT || !create)
      return gg_error_set(err, errno == ENOENT ? GG_ERR_NOT_FOUND : GG_ERR_IO, "cannot open journal '%s': %s",
                          path, strerror(errno));
    gg_status s = make_parent_dir(path, err);
    if (s != GG_OK) return s;
    /* A new journal: an anchor left by one that was deleted does not belong to it. */
    size_t n = strlen(path) + sizeof ".head";
    char *anchor = malloc(n);
    if (anchor) {
      snprintf(anchor, n, "%s.head", path);
      (void)unlink(anchor);
      free(anchor);
    }
  } else if (sb.st_size == 0 && (readonly || !create || time(NULL) - sb.st_mtime > JOURNAL_EMPTY_GRACE_S)) {
    /* A journal is never empty for longer than its creator takes to write the schema: an empty
     * file is a truncated journal (or not one at all), and starting a fresh chain in it would
     * hide that. */
    return gg_error_set(err, GG_ERR_INVALID,
                        "journal '%s' is empty (0 bytes): not a gonogo journal, or one that was truncated; "
                        "move it away to start a new journal",
                        path);
  }
  journal *j = calloc(1, sizeof *j);
  if (j) j->samples_cap = JOURNAL_SAMPLES_MAX_ROWS;
  if (!j || !(j->path = strdup(path))) {
    free(j);
    return gg_error_set(err, GG_ERR_NOMEM, "out of memory");
  }
  j->readonly = readonly;
  gg_status s = GG_OK;
  int oflags = readonly ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  if (sqlite3_open_v2(path, &j->db, oflags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
    s = journal_sql_fail(j, err, "open");
    goto fail;
  }
  sqlite3_busy_timeout(j->db, JOURNAL_BUSY_TIMEOUT_MS);
  sqlite3_extended_result_codes(j->db, 1);
  int version = 0;
  for (int attempt = 0;; attempt++) { /* busy while another process creates the file: see below */
    s = pragma_int(j, "PRAGMA user_version", &version, err);
    if (s == GG_OK || (sqlite3_errcode(j->db) & 0xff) != SQLITE_BUSY ||
        attempt * 20 >= JOURNAL_BUSY_TIMEOUT_MS)
      break;
    gg_error_clear(err);
    usleep(20 * 1000);
  }
  if (s != GG_OK) goto fail;
  if (version > JOURNAL_SCHEMA_VERSION) {
    s = refuse_newer(j, version, err);
    goto fail;
  }
  if (readonly) {
    s = check_identity(j, version, err);
    if (s != GG_OK) goto fail;
    if (version < JOURNAL_SCHEMA_VERSION) {
      s = gg_error_set(err, GG_ERR_STATE,
                       "journal '%s' has schema version %d and needs migrating to %d: open it once "
                       "with a command that writes (approve, mark, check)",
                       path, version, JOURNAL_SCHEMA_VERSION);
      goto fail;
    }
    j->version = version;
    *out = j;
    return GG_OK;
  }
  /* WAL: readers never block the writer; FULL sync: a committed event survives a power cut.
   * Several processes creating the same journal at once can meet SQLITE_BUSY here without the
   * busy handler being consulted (switching to WAL, creating the schema): try again for as long
   * as the busy timeout would have waited. */
  for (int attempt = 0;; attempt++) {
    s = journal_exec(j, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON",
                     err);
    if (s == GG_OK) s = migrate(j, err);
    if (s == GG_OK || (sqlite3_errcode(j->db) & 0xff) != SQLITE_BUSY ||
        attempt * 20 >= JOURNAL_BUSY_TIMEOUT_MS)
      break;
    gg_error_clear(err);
    usleep(20 * 1000);
  }
  if (s != GG_OK) goto fail;
  *out = j;
  return GG_OK;
fail:
  journal_close(j);
  return s;
}

static gg_status open_pg(const char *url, int flags, journal **out, gg_error *err) {
  *out = NULL;
  journal *j = calloc(1, sizeof *j);
  if (!j) return gg_error_set(err, GG_ERR_NOMEM, "out of memory");
  j->backend = JOURNAL_BACKEND_PG;
  j->samples_cap = JOURNAL_SAMPLES_MAX_ROWS;
  j->readonly = (flags & JOURNAL_OPEN_READONLY) != 0;
  j->target = strdup(url);
  j->path = gg_secret_mask_text(url); /* every message names the journal without its password */
  if (!j->target || !j->path) {
    journal_close(j);
    return gg_error_set(err, GG_ERR_NOMEM, "out of memory");
  }
  gg_status s = journal_pg_open(j, (flags & JOURNAL_OPEN_CREATE) != 0 && !j->readonly, err);
  if (s != GG_OK) {
    journal_close(j);
    return s;
  }
  *out = j;
  return GG_OK;
}

gg_status journal_open(const char *target, int flags, journal **out, gg_error *err) {
  *out = NULL;
  if (journal_target_is_pg(target)) return open_pg(target, flags, out, err);
  const char *path = strncmp(target, "sqlite:", 7) == 0 ? target + 7 : target;
  if (!path[0])
    return gg_error_set(err, GG_ERR_INVALID, "journal '%s': no file path after 'sqlite:'", target);
  gg_status s = open_sqlite(path, flags, out, err);
  if (s == GG_OK && !((*out)->target = strdup(target))) {
    journal_close(*out);
    *out = NULL;
    s = gg_error_set(err, GG_ERR_NOMEM, "out of memory");
  }
  return s;
}

gg_status journal_reopen(const journal *j, int flags, journal **out, gg_error *err) {
  return journal_open(j->target ? j->target : j->path, flags, out, err);
}

bool journal_is_shared(const journal *j) {
  return j->backend == JOURNAL_BACKEND_PG;
}

void journal_close(journal *j) {
  if (!j) return;
  if (j->db) sqlite3_close(j->db);
  journal_pg_close(j);
  free(j->target);
  free(j->path);
  free(j);
}

const char *journal_path(const journal *j) {
  return j->path;
}

int journal_schema_version(const journal *j) {
  return j->version;
}

gg_status journal_default_path(const char *plan_path, const char *migration, char **out, gg_error *err) {
  *out = NULL;
  bool ok = migration[0] != '\0' && migration[0] != '.';
  for (const char *p = migration; ok && *p; p++) {
    char c = *p;
    ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
         c == '.';
  }
  if (!ok)
    return gg_error_set(err, GG_ERR_INVALID,
                        "migration name '%s' cannot name a journal file (use letters, digits, '-', '_', '.')",
                        migration);
  const char *slash = strrchr(plan_path, '/');
  int dirlen = slash ? (int)(slash - plan_path) : 1;
  const char *dir = slash ? plan_path : ".";
  if (slash == plan_path) dirlen = 0; /* plan in "/" */
  size_t n = (size_t)dirlen + strlen(migration) + 16;
  char *p = malloc(n);
  if (!p) return gg_error_set(err, GG_ERR_NOMEM, "out of memory");
  snprintf(p, n, "%.*s/.gonogo/%s.db", dirlen, dir, migration);
  *out = p;
  return GG_OK;
}

/* ---- canonical encoding and hashing ---------------------------------------------------------- */

char *journal_canonical(const json_t *value) {
  return json_dumps(value, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY | JSON_REAL_PRECISION(17));
}

static void hex_encode(const unsigned char *d, size_t n, char *out) {
  static const char hex[] = "0123456789abcdef";
  for (size_t i = 0; i < n; i++) {
    out[2 * i] = hex[d[i] >> 4];
    out[2 * i + 1] = hex[d[i] & 15];
  }
  out[2 * n] = '\0';
}

gg_status journal_row_hash(long long seq, long long time_ms, const char *kind, const char *phase,
                           const char *actor, const char *os_user, const char *host,
                           const char *content_canonical, const char *prev_hex,
                           char hash_hex[JOURNAL_HASH_HEX], gg_error *err) {
  json_error_t jerr;
  json_t *content = json_loads(content_canonical, 0, &jerr);
  if (!content) return gg_error_set(err, GG_ERR_INVALID, "content is not JSON: %s", jerr.text);
  gg_status s = GG_OK;
  char *text = NULL;
  json_t *row =
      json_pack("{s:s, s:o, s:s, s:s, s:s, s:o, s:s, s:I, s:I}", "actor", actor, "content", content, "host",
                host, "kind", kind, "os_user", os_user, "phase", phase ? json_string(phase) : json_null(),
                "prev", prev_hex, "seq", (json_int_t)seq, "time_ms", (json_int_t)time_ms);
  if (!row) {
    s = gg_error_set(err, GG_ERR_INVALID, "cannot encode event row %lld (a field is not valid UTF-8)", seq);
    goto out;
  }
  text = journal_canonical(row);
  if (!text) {
    s = gg_error_set(err, GG_ERR_NOMEM, "out of memory");
    goto out;
  }
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256((const unsigned char *)text, strlen(text), digest);
  hex_encode(digest, sizeof digest, hash_hex);
out:
  free(text);
  json_decref(row);
  return s;
}

/* ---- appending --------------------------------------------------------------------------------- */

gg_status journal_append_in_tx(journal *j, journal_kind kind, const char *phase, const char *actor,
                               json_t *content, long long *seq_out, gg_error *err) {
  if (content && !json_is_object(content))
    return gg_error_set(err, GG_ERR_INVALID, "journal '%s': event content must be a JSON object", j->path);
  if (phase == JOURNAL_ANY_PHASE || (phase && !phase[0]))
    return gg_error_set(err, GG_ERR_INVALID, "journal '%s': an event needs a phase id or none", j->path);
  json_t *empty = NULL;
  if (!content) content = empty = json_object();
  char *ctext = journal_canonical(content);
  json_decref(empty);
  if (!ctext) return gg_error_set(err, GG_ERR_NOMEM, "out of memory");
  if (!actor || !actor[0]) actor = journal_os_user();
  const char *kname = journal_kind_name(kind);

  journal_stmt *st = NULL;
  long long seq = 1;
  char prev[JOURNAL_HASH_HEX], hash[JOURNAL_HASH_HEX];
  memcpy(prev, JOURNAL_ZERO_HASH, sizeof prev);
  gg_status s = journal_prepare(j, "SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1", &st, err);
  if (s != GG_OK) goto out;
  int rc = journal_step(st);
  if (rc == JOURNAL_ROW) {
    seq = journal_column_int64(st, 0) + 1;
    const unsigned char *h = journal_column_text(st, 1);
    snprintf(prev, sizeof prev, "%s", h ? (const char *)h : "");
  } else if (rc != JOURNAL_DONE) {
    s = journal_sql_fail(j, err, "read the chain head");
    goto out;
  }
  journal_finalize(st);
  st = NULL;

  long long time_ms = llround((j->append_time > 0 ? j->append_time : gg_clock_now()) * 1000.0);
  s = journal_row_hash(seq, time_ms, kname, phase, actor, journal_os_user(), journal_host(), ctext, prev,
                       hash, err);
  if (s != GG_OK) goto out;

  s = journal_prepare(j,
                      "INSERT INTO events (seq, time_ms, kind, phase, actor, os_user, host, content, "
                      "prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                      &st, err);
  if (s != GG_OK) goto out;
  journal_bind_int64(st, 1, seq);
  journal_bind_int64(st, 2, time_ms);
  journal_bind_text(st, 3, kname);
  journal_bind_phase(st, 4, phase);
  journal_bind_text(st, 5, actor);
  journal_bind_text(st, 6, journal_os_user());
  journal_bind_text(st, 7, journal_host());
  journal_bind_text(st, 8, ctext);
  journal_bind_text(st, 9, prev);
  journal_bind_text(st, 10, hash);
  if (journal_step(st) != JOURNAL_DONE) {
    s = journal_sql_fail(j, err, "append event");
    goto out;
  }
  journal_finalize(st);
  st = NULL;

  /* The head is recorded too, so rows removed from (or added to) the end are noticed. */
  s = journal_prepare(j,
                      "INSERT INTO meta (key, value) VALUES ('head_seq', ?), ('head_hash', ?)"
                      " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                      &st, err);
  if (s != GG_OK) goto out;
  char seqtext[32];
  snprintf(seqtext, sizeof seqtext, "%lld", seq);
  journal_bind_text(st, 1, seqtext);
  journal_bind_text(st, 2, hash);
  if (journal_step(st) != JOURNAL_DONE) {
    s = journal_sql_fail(j, err, "record the chain head");
    goto out;
  }
  if (seq_out) *seq_out = seq;
  j->pending_seq = seq;
  memcpy(j->pending_hash, hash, sizeof j->pending_hash);
out:
  journal_finalize(st);
  free(ctext);
  return s;
}

gg_status journal_append_at(journal *j, double time, journal_kind kind, const char *phase, const char *actor,
                            json_t *content, long long *seq, gg_error *err) {
  j->append_time = time;
  gg_status s = journal_append(j, kind, phase, actor, content, seq, err);
  j->append_time = 0;
  return s;
}

gg_status journal_append(journal *j, journal_kind kind, const char *phase, const char *actor, json_t *content,
                         long long *seq, gg_error *err) {
  gg_status s = journal_need_writable(j, "append", err);
  if (s != GG_OK) return s;
  s = journal_begin(j, err);
  if (s != GG_OK) return s;
  s = journal_append_in_tx(j, kind, phase, actor, content, seq, err);
  if (s != GG_OK) {
    journal_rollback(j);
    return s;
  }
  return journal_commit(j, err);
}

/* ---- reading events ------------------------------------------------------------------------------ */

journal_filter journal_filter_all(void) {
  journal_filter f = {.any_phase = true, .phase = JOURNAL_NO_PHASE};
  return f;
}

static gg_status read_event(journal_stmt *st, journal_event *ev, gg_error *err) {
  memset(ev, 0, sizeof *ev);
  ev->seq = journal_column_int64(st, 0);
  ev->time = (double)journal_column_int64(st, 1) / 1000.0;
  ev->phase = journal_col_strdup(st, 3);
  ev->kind = journal_col_strdup(st, 2);
  ev->actor = journal_col_strdup(st, 4);
  ev->os_user = journal_col_strdup(st, 5);
  ev->host = journal_col_strdup(st, 6);
  ev->content = journal_col_strdup(st, 7);
  const unsigned char *p = journal_column_text(st, 8), *h = journal_column_text(st, 9);
  snprintf(ev->prev_hash, sizeof ev->prev_hash, "%s", p ? (const char *)p : "");
  snprintf(ev->hash, sizeof ev->hash, "%s", h ? (const char *)h : "");
  if (!ev->kind || !ev->actor || !ev->os_user || !ev->host || !ev->content)
    return gg_error_set(err, GG_ERR_NOMEM, "out of memory (or a NULL column) reading event %lld", ev->seq);
  return GG_OK;
}

static void event_release(journal_event *ev) {
  free(ev->kind);
  free(ev->phase);
  free(ev->actor);
  free(ev->os_user);
  free(ev->host);
  free(ev->content);
}

void journal_events_free(journal_event *events, size_t n) {
  if (!events) return;
  for (size_t i = 0; i < n; i++) event_release(&events[i]);
  free(events);
}

static gg_status collect_events(journal *j, journal_stmt *st, journal_event **out, size_t *n, gg_error *err) {
  journal_event *arr = NULL;
  size_t len = 0, cap = 0;
  gg_status s = GG_OK;
  int rc;
  while ((rc = journal_step(st)) == JOURNAL_ROW) {
    if (len == cap) {
      size_t ncap = cap ? cap * 2 : 16;
      journal_event *na = realloc(arr, ncap * sizeof *na);
      if (!na) {
        s = gg_error_set(err, GG_ERR_NOMEM, "out of memory");
        goto out;
      }
      arr = na;
      cap = ncap;
    }
    s = read_event(st, &arr[len], err);
    len++;
    if (s != GG_OK) goto out;
  }
  if (rc != JOURNAL_DONE) s = journal_sql_fail(j, err, "read events");
out:
  if (s != GG_OK) {
    journal_events_free(arr, len);
    arr = NULL;
    len = 0;
  }
  *out = arr;
  *n = len;
  return s;
}

gg_status journal_events(journal *j, const journal_filter *f, journal_event **out, size_t *n, gg_error *err) {
  *out = NULL;
  *n = 0;
  journal_filter all = journal_filter_all();
  if (!f) f = &all;
  journal_stmt *st = NULL;
  gg_status s = journal_prepare(j,
                                "SELECT " EVENT_COLUMNS
                                " FROM events WHERE seq > ?1 AND time_ms >= ?2"
                                " AND (?3 = 1 OR phase IS ?4) AND (?5 IS NULL OR kind = ?5)"
                                " ORDER BY seq LIMIT ?6",
                                &st, err);
  if (s != GG_OK) return s;
  journal_bind_int64(st, 1, f->after_seq);
  journal_bind_int64(st, 2, f->since > 0 ? llround(f->since * 1000.0) : 0);
  journal_bind_int64(st, 3, f->any_phase ? 1 : 0);
  journal_bind_phase(st, 4, f->phase);
  if (f->kind)
    journal_bind_text(st, 5, f->kind);
  else
    journal_bind_null(st, 5);
  journal_bind_int64(st, 6, f->limit ? (long long)f->limit : LLONG_MAX);
  s = collect_events(j, st, out, n, err);
  journal_finalize(st);
  return s;
}

gg_status journal_last_event(journal *j, journal_kind kind, const char *phase, journal_event **out,
                             gg_error *err) {
  *out = NULL;
  journal_stmt *st = NULL;
  gg_status s = journal_prepare(j,
                                "SELECT " EVENT_COLUMNS
                                " FROM events WHERE kind = ?1 AND (?2 = 1 OR phase IS ?3)"
                                " ORDER BY seq DESC LIMIT 1",
                                &st, err);
  if (s != GG_OK) return s;
  journal_bind_text(st, 1, journal_kind_name(kind));
  journal_bind_int64(st, 2, phase == JOURNAL_ANY_PHASE);
  journal_bind_phase(st, 3, phase == JOURNAL_ANY_PHASE ? NULL : phase);
  size_t n = 0;
  s = collect_events(j, st, out, &n, err);
  journal_finalize(st);
  if (s == GG_OK && n == 0)
    s = gg_error_set(err, GG_ERR_NOT_FOUND, "journal '%s': no %s event", j->path, journal_kind_name(kind));
  return s;
}

json_t *journal_event_content(const journal_event *ev) {
  if (!ev || !ev->content) return NULL;
  return json_loads(ev->content, 0, NULL);
}
