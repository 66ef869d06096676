/*
 * pg.c: the PostgreSQL backend: one database (or the schema its URL's search_path names) holds a
 * whole journal, shared by every host of a team (journal.h, SHARED JOURNAL). The tables and views
 * mirror the SQLite schema so every query of the journal runs on both (stmt.c); appends are
 * serialised by a transaction-scoped advisory lock, so the chain never forks whoever appends.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/secret.h"
#include "journal/journal_int.h"

/* The meta row that marks a database as a gonogo journal. */
#define PG_APPLICATION "gonogo-journal"

bool journal_target_is_pg(const char *target) {
  return strncmp(target, "postgres://", 11) == 0 || strncmp(target, "postgresql://", 13) == 0;
}

static bool word_at(const char *p, const char *word) {
  size_t n = strlen(word);
  return strncmp(p, word, n) == 0 && !(p[n] >= 'A' && p[n] <= 'Z');
}

char *journal_pg_sql(const char *sql) {
  /* Worst case " IS " (4 bytes) becomes " IS NOT DISTINCT FROM " (22): never more than 6 times. */
  size_t cap = strlen(sql) * 6 + 64;
  char *out = malloc(cap);
  if (!out) return NULL;
  size_t o = 0;
  int highest = 0;
  bool quoted = false;
  for (const char *p = sql; *p && o + 32 < cap; p++) {
    if (*p == '\'') quoted = !quoted;
    if (!quoted && *p == '?') {
      int n = 0;
      while (p[1] >= '0' && p[1] <= '9') n = n * 10 + (*++p - '0');
      if (n == 0) n = highest + 1;
      if (n > highest) highest = n;
      o += (size_t)snprintf(out + o, cap - o, "$%d", n);
      continue;
    }
    /* SQLite's null-safe "a IS b" (b not NULL / NOT) is PostgreSQL's IS NOT DISTINCT FROM. */
    if (!quoted && p > sql && p[-1] == ' ' && word_at(p, "IS") && p[2] == ' ' && !word_at(p + 3, "NULL") &&
        !word_at(p + 3, "NOT")) {
      static const char repl[] = "IS NOT DISTINCT FROM";
      memcpy(out + o, repl, sizeof repl - 1);
      o += sizeof repl - 1;
      p++;
      continue;
    }
    out[o++] = *p;
  }
  out[o] = '\0';
  return out;
}

static void keep_error(journal *j, const char *msg) {
  char *masked = gg_secret_mask_text(msg && msg[0] ? msg : "unknown error");
  snprintf(j->pg_err, sizeof j->pg_err, "%s", masked ? masked : "unknown error");
  free(masked);
  size_t n = strlen(j->pg_err);
  while (n > 0 && (j->pg_err[n - 1] == '\n' || j->pg_err[n - 1] == ' ')) j->pg_err[--n] = '\0';
  for (char *p = j->pg_err; *p; p++)
    if (*p == '\n' || *p == '\t') *p = ' ';
}

/* A dropped connection (server restart, network) is reconnected once before a transaction. */
static gg_status ensure_connected(journal *j, gg_error *err) {
  if (PQstatus(j->pg) == CONNECTION_OK) return GG_OK;
  PQreset(j->pg);
  if (PQstatus(j->pg) == CONNECTION_OK) return GG_OK;
  keep_error(j, PQerrorMessage(j->pg));
  return gg_error_set(err, GG_ERR_CONNECT, "journal '%s': database unreachable: %s", j->path, j->pg_err);
}

gg_status journal_pg_exec(journal *j, const char *sql, gg_error *err) {
  PGresult *r = PQexec(j->pg, sql);
  ExecStatusType es = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
  gg_status s = GG_OK;
  if (es != PGRES_COMMAND_OK && es != PGRES_TUPLES_OK) {
    keep_error(j, r ? PQresultErrorMessage(r) : PQerrorMessage(j->pg));
    s = journal_sql_fail(j, err, "run statement");
  }
  PQclear(r);
  return s;
}

gg_status journal_pg_begin(journal *j, bool write, gg_error *err) {
  gg_status s = ensure_connected(j, err);
  if (s != GG_OK) return s;
  /* One advisory lock per schema serialises every writer of this journal, on every host: the
   * head read inside the transaction is the head the new row chains to. */
  s = journal_pg_exec(
      j,
      write ? "BEGIN; SELECT pg_advisory_xact_lock(hashtext('gonogo journal ' || current_schema()))"
            : "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
      err);
  if (s != GG_OK) {
    journal_pg_rollback(j);
    gg_error_prefix(err, "begin a %s transaction: ", write ? "write" : "read");
  } else {
    j->in_tx = true;
  }
  return s;
}

gg_status journal_pg_commit(journal *j, gg_error *err) {
  gg_status s = journal_pg_exec(j, "COMMIT", err);
  j->in_tx = false;
  if (s != GG_OK) gg_error_prefix(err, "commit: ");
  return s;
}

void journal_pg_rollback(journal *j) {
  j->in_tx = false;
  if (j->pg && PQtransactionStatus(j->pg) != PQTRANS_IDLE && PQstatus(j->pg) == CONNECTION_OK)
    PQclear(PQexec(j->pg, "ROLLBACK"));
}

gg_status journal_pg_anchor_advance(journal *j, gg_error *err) {
  journal_stmt *st = NULL;
  gg_status s = journal_prepare(j,
                                "INSERT INTO head_anchor (id, seq, hash) VALUES (1, ?1, ?2) ON CONFLICT (id)"
                                " DO UPDATE SET seq = excluded.seq, hash = excluded.hash"
                                " WHERE head_anchor.seq < excluded.seq",
                                &st, err);
  if (s != GG_OK) return s;
  journal_bind_int64(st, 1, j->pending_seq);
  journal_bind_text(st, 2, j->pending_hash);
  if (journal_step(st) != JOURNAL_DONE) s = journal_sql_fail(j, err, "move the head anchor forward");
  journal_finalize(st);
  return s;
}

gg_status journal_pg_anchor_read(journal *j, bool *found, long long *seq, char *hash, gg_error *err) {
  *found = false;
  journal_stmt *st = NULL;
  gg_status s = journal_prepare(j, "SELECT seq, hash FROM head_anchor WHERE id = 1", &st, err);
  if (s != GG_OK) return s;
  int rc = journal_step(st);
  if (rc == JOURNAL_ROW) {
    const unsigned char *h = journal_column_text(st, 1);
    *seq = journal_column_int64(st, 0);
    snprintf(hash, JOURNAL_HASH_HEX, "%s", h ? (const char *)h : "");
    *found = true;
  } else if (rc != JOURNAL_DONE) {
    s = journal_sql_fail(j, err, "read the head anchor");
  }
  journal_finalize(st);
  return s;
}

/* The schema, version 1. Text columns compare bytewise (COLLATE "C"), as SQLite's do, so both
 * backends order roles, items and labels alike. */
static const char pg_schema_v1[] =
    "CREATE TABLE events (seq bigint PRIMARY KEY, time_ms bigint NOT NULL, kind text COLLATE \"C\" NOT NULL,"
    "  phase text COLLATE \"C\", actor text COLLATE \"C\" NOT NULL, os_user text COLLATE \"C\" NOT NULL,"
    "  host text COLLATE \"C\" NOT NULL, content text COLLATE \"C\" NOT NULL, prev_hash text NOT NULL,"
    "  hash text NOT NULL);"
    "CREATE INDEX events_kind_phase ON events(kind, phase, seq);"
    "CREATE INDEX events_time ON events(time_ms);"
    /* Append-only as far as the database can say it; verify never relies on it. */
    "CREATE FUNCTION journal_refuse_change() RETURNS trigger LANGUAGE plpgsql AS"
    "  $f$BEGIN RAISE EXCEPTION 'journal events are append-only'; END$f$;"
    "CREATE TRIGGER events_no_change BEFORE UPDATE OR DELETE ON events FOR EACH ROW"
    "  EXECUTE FUNCTION journal_refuse_change();"
    "CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events FOR EACH STATEMENT"
    "  EXECUTE FUNCTION journal_refuse_change();"
    "REVOKE UPDATE, DELETE, TRUNCATE ON events FROM PUBLIC;"
    "CREATE TABLE meta (key text COLLATE \"C\" PRIMARY KEY, value text NOT NULL);"
    "CREATE TABLE samples (rowid bigserial PRIMARY KEY, name text COLLATE \"C\" NOT NULL,"
    "  labels text COLLATE \"C\" NOT NULL, time double precision NOT NULL, value double precision NOT NULL);"
    "CREATE INDEX samples_name_time ON samples(name, time);"
    "CREATE INDEX samples_time ON samples(time);"
    "CREATE TABLE lease (id integer PRIMARY KEY CHECK (id = 1), holder text NOT NULL, host text NOT NULL,"
    "  pid bigint NOT NULL, token text NOT NULL, since double precision NOT NULL,"
    "  expires double precision NOT NULL);"
    /* The head anchor: kept apart from the chain and only ever moved forward. */
    "CREATE TABLE head_anchor (id integer PRIMARY KEY CHECK (id = 1), seq bigint NOT NULL, hash text NOT "
    "NULL);"
    "CREATE FUNCTION journal_anchor_forward() RETURNS trigger LANGUAGE plpgsql AS"
    "  $f$BEGIN IF TG_OP = 'DELETE' OR NEW.seq < OLD.seq THEN"
    "  RAISE EXCEPTION 'the journal head anchor only moves forward'; END IF; RETURN NEW; END$f$;"
    "CREATE TRIGGER head_anchor_forward BEFORE UPDATE OR DELETE ON head_anchor FOR EACH ROW"
    "  EXECUTE FUNCTION journal_anchor_forward();"
    /* SQLite's json_extract for the paths the journal uses ('$.a' and '$.a.b'), as text. */
    "CREATE FUNCTION json_extract(doc text, path text) RETURNS text LANGUAGE sql IMMUTABLE AS"
    "  $f$SELECT (doc::jsonb) #>> string_to_array(substr(path, 3), '.')$f$;"
    "CREATE VIEW approvals AS SELECT seq, time_ms, phase, actor AS by_name, os_user, host,"
    "  json_extract(content, '$.role') COLLATE \"C\" AS role, json_extract(content, '$.decision') AS "
    "decision,"
    "  json_extract(content, '$.plan_hash') AS plan_hash, json_extract(content, '$.note') AS note"
    "  FROM events WHERE kind = 'approval';"
    "CREATE VIEW attestations AS SELECT seq, time_ms, phase, actor AS by_name, os_user, host,"
    "  json_extract(content, '$.item') COLLATE \"C\" AS item,"
    "  json_extract(content, '$.valid_for')::double precision AS valid_for,"
    "  CASE WHEN json_extract(content, '$.valid_for')::double precision > 0 THEN time_ms +"
    "    trunc(json_extract(content, '$.valid_for')::double precision * 1000)::bigint END AS expires_ms,"
    "  json_extract(content, '$.plan_hash') AS plan_hash, json_extract(content, '$.note') AS note"
    "  FROM events WHERE kind = 'attestation';"
    "CREATE VIEW marks AS SELECT seq, time_ms, actor AS by_name,"
    "  json_extract(content, '$.mark') COLLATE \"C\" AS mark,"
    "  json_extract(content, '$.at_ms')::bigint AS at_ms, json_extract(content, '$.note') AS note"
    "  FROM events WHERE kind = 'mark';"
    "CREATE VIEW phase_lifecycle AS SELECT seq, time_ms, phase, kind,"
    "  json_extract(content, '$.reason') AS reason FROM events WHERE kind IN"
    "  ('phase_prepared', 'phase_started', 'phase_completed', 'phase_failed', 'phase_rolled_back');"
    "CREATE VIEW latest_evaluation AS SELECT e.* FROM events e WHERE e.kind = 'evaluation' AND"
    "  e.seq = (SELECT max(x.seq) FROM events x WHERE x.kind = 'evaluation'"
    "  AND x.phase IS NOT DISTINCT FROM e.phase);"
    "INSERT INTO meta (key, value) VALUES ('application', '" PG_APPLICATION "'), ('schema_version', '1');";

/* One row, one column of text (NULL when no row or NULL); false on failure (message kept). */
static bool query_text(journal *j, const char *sql, char *out, size_t n, bool *found) {
  PGresult *r = PQexec(j->pg, sql);
  bool ok = r && PQresultStatus(r) == PGRES_TUPLES_OK;
  *found = false;
  if (!ok) {
    keep_error(j, r ? PQresultErrorMessage(r) : PQerrorMessage(j->pg));
  } else if (PQntuples(r) > 0 && !PQgetisnull(r, 0, 0)) {
    snprintf(out, n, "%s", PQgetvalue(r, 0, 0));
    *found = true;
  }
  PQclear(r);
  return ok;
}

/* Check (and with create, make) the schema, under the advisory lock so that processes opening a
 * new journal at once create it once. */
static gg_status pg_schema(journal *j, bool create, gg_error *err) {
  /* Only a creator needs the lock (a read-only role or a standby may not take it). */
  gg_status s = journal_pg_begin(j, create, err);
  if (s != GG_OK) return s;
  char v[64];
  bool found = false;
  if (!query_text(j, "SELECT to_regclass('events')::text", v, sizeof v, &found)) {
    s = journal_sql_fail(j, err, "look for the journal's tables");
    goto out;
  }
  if (!found) {
    if (!create) {
      s = gg_error_set(err, GG_ERR_NOT_FOUND, "cannot open journal '%s': the database holds no journal yet",
                       j->path);
      goto out;
    }
    s = journal_pg_exec(j, pg_schema_v1, err);
    if (s != GG_OK) {
      gg_error_prefix(err, "create the journal schema: ");
      goto out;
    }
    j->version = 1;
    return journal_pg_commit(j, err);
  }
  if (!query_text(j, "SELECT value FROM meta WHERE key = 'application'", v, sizeof v, &found) || !found ||
      strcmp(v, PG_APPLICATION) != 0) {
    s = gg_error_set(err, GG_ERR_INVALID,
                     "'%s' has an 'events' table but is not a gonogo journal (use a database or schema of "
                     "its own)",
                     j->path);
    goto out;
  }
  if (!query_text(j, "SELECT value FROM meta WHERE key = 'schema_version'", v, sizeof v, &found) || !found) {
    s = gg_error_set(err, GG_ERR_INVALID, "journal '%s': its schema version is missing", j->path);
    goto out;
  }
  char *end = NULL;
  long version = strtol(v, &end, 10);
  if (!end || *end || version < 1) {
    s = gg_error_set(err, GG_ERR_INVALID, "journal '%s': schema version '%s' is not a number", j->path, v);
    goto out;
  }
  if (version > JOURNAL_SCHEMA_VERSION) {
    s = gg_error_set(err, GG_ERR_UNSUPPORTED,
                     "journal '%s' has schema version %ld, newer than the %d this gonogo understands: "
                     "upgrade gonogo to read it",
                     j->path, version, JOURNAL_SCHEMA_VERSION);
    goto out;
  }
  j->version = (int)version;
  return journal_pg_commit(j, err);
out:
  journal_pg_rollback(j);
  return s;
}

static void quiet_notices(void *arg, const char *message) {
  (void)arg;
  (void)message;
}

gg_status journal_pg_open(journal *j, bool create, gg_error *err) {
  /* A journal database that does not answer fails in seconds, not after TCP's minutes; a
   * connect_timeout in the URL wins (it comes later). */
  const char *keys[] = {"connect_timeout", "dbname", "application_name", NULL};
  const char *vals[] = {"5", j->target, "gonogo journal", NULL};
  j->pg = PQconnectdbParams(keys, vals, 1);
  if (!j->pg) return gg_error_set(err, GG_ERR_NOMEM, "out of memory");
  if (PQstatus(j->pg) != CONNECTION_OK) {
    keep_error(j, PQerrorMessage(j->pg));
    return gg_error_set(
        err, GG_ERR_CONNECT,
        "cannot open journal '%s': cannot connect (database unreachable or login refused): %s", j->path,
        j->pg_err);
  }
  PQsetNoticeProcessor(j->pg, quiet_notices, NULL);
  return pg_schema(j, create, err);
}

void journal_pg_close(journal *j) {
  if (j->pg) PQfinish(j->pg);
  j->pg = NULL;
}
