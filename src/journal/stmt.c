/*
 * stmt.c: the one seam between the journal and its two backends (journal_int.h). Every query the
 * journal makes goes through journal_prepare / journal_step / journal_column_*, written once in
 * SQLite's dialect; for PostgreSQL the statement is translated (pg.c) and run with libpq, its
 * parameters sent as typed text.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "journal/journal_int.h"

struct journal_stmt {
  journal *j;
  sqlite3_stmt *lite; /* SQLITE */
  char *sql;          /* PG: translated */
  int nparams;
  char *vals[JOURNAL_STMT_MAX_PARAMS];
  Oid types[JOURNAL_STMT_MAX_PARAMS];
  PGresult *res;
  int next; /* the next row to return */
  int cur;  /* the current row */
};

/* Type OIDs of the parameters we send (pg_type.h). */
#define OID_INT8 20
#define OID_TEXT 25
#define OID_FLOAT8 701

bool journal_is_pg(const journal *j) {
  return j->backend == JOURNAL_BACKEND_PG;
}

gg_status journal_sql_fail(journal *j, gg_error *err, const char *what) {
  if (journal_is_pg(j)) {
    bool gone = !j->pg || PQstatus(j->pg) != CONNECTION_OK;
    return gg_error_set(err, gone ? GG_ERR_CONNECT : GG_ERR_PG, "journal '%s': %s: %s", j->path, what,
                        j->pg_err[0] ? j->pg_err : "connection lost");
  }
  return gg_error_set(err, GG_ERR_SQLITE, "journal '%s': %s: %s", j->path, what, sqlite3_errmsg(j->db));
}

gg_status journal_exec(journal *j, const char *sql, gg_error *err) {
  if (journal_is_pg(j)) return journal_pg_exec(j, sql, err);
  char *msg = NULL;
  if (sqlite3_exec(j->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
    gg_status s =
        gg_error_set(err, GG_ERR_SQLITE, "journal '%s': %s", j->path, msg ? msg : sqlite3_errmsg(j->db));
    sqlite3_free(msg);
    return s;
  }
  return GG_OK;
}

gg_status journal_begin(journal *j, gg_error *err) {
  if (journal_is_pg(j)) return journal_pg_begin(j, true, err);
  if (sqlite3_exec(j->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
    return journal_sql_fail(j, err, "begin a write transaction");
  return GG_OK;
}

gg_status journal_begin_read(journal *j, gg_error *err) {
  if (journal_is_pg(j)) return journal_pg_begin(j, false, err);
  return journal_exec(j, "BEGIN", err);
}

gg_status journal_commit(journal *j, gg_error *err) {
  if (journal_is_pg(j)) {
    gg_status s = j->pending_seq > 0 ? journal_pg_anchor_advance(j, err) : GG_OK;
    if (s == GG_OK) s = journal_pg_commit(j, err);
    if (s != GG_OK) journal_rollback(j);
    j->pending_seq = 0;
    return s;
  }
  if (sqlite3_exec(j->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
    gg_status s = journal_sql_fail(j, err, "commit");
    journal_rollback(j);
    return s;
  }
  if (j->pending_seq > 0) journal_anchor_advance(j);
  j->pending_seq = 0;
  return GG_OK;
}

void journal_rollback(journal *j) {
  j->pending_seq = 0;
  if (journal_is_pg(j)) {
    journal_pg_rollback(j);
    return;
  }
  if (!sqlite3_get_autocommit(j->db)) sqlite3_exec(j->db, "ROLLBACK", NULL, NULL, NULL);
}

gg_status journal_prepare(journal *j, const char *sql, journal_stmt **out, gg_error *err) {
  *out = NULL;
  journal_stmt *st = calloc(1, sizeof *st);
  if (!st) return gg_error_set(err, GG_ERR_NOMEM, "out of memory");
  st->j = j;
  st->cur = -1;
  if (journal_is_pg(j)) {
    st->sql = journal_pg_sql(sql);
    if (!st->sql) {
      free(st);
      return gg_error_set(err, GG_ERR_NOMEM, "out of memory");
    }
  } else if (sqlite3_prepare_v2(j->db, sql, -1, &st->lite, NULL) != SQLITE_OK) {
    free(st);
    return journal_sql_fail(j, err, "prepare query");
  }
  *out = st;
  return GG_OK;
}

static void pg_bind(journal_stmt *st, int idx, char *text, Oid type) {
  if (idx < 1 || idx > JOURNAL_STMT_MAX_PARAMS) {
    free(text);
    return;
  }
  free(st->vals[idx - 1]);
  st->vals[idx - 1] = text;
  st->types[idx - 1] = type;
  if (idx > st->nparams) st->nparams = idx;
}

void journal_bind_text(journal_stmt *st, int idx, const char *text) {
  if (st->lite) {
    sqlite3_bind_text(st->lite, idx, text, -1, SQLITE_TRANSIENT);
    return;
  }
  pg_bind(st, idx, text ? strdup(text) : NULL, OID_TEXT);
}

void journal_bind_int64(journal_stmt *st, int idx, long long v) {
  if (st->lite) {
    sqlite3_bind_int64(st->lite, idx, v);
    return;
  }
  char buf[32];
  snprintf(buf, sizeof buf, "%lld", v);
  pg_bind(st, idx, strdup(buf), OID_INT8);
}

void journal_bind_double(journal_stmt *st, int idx, double v) {
  if (st->lite) {
    sqlite3_bind_double(st->lite, idx, v);
    return;
  }
  char buf[40];
  snprintf(buf, sizeof buf, "%.17g", v);
  pg_bind(st, idx, strdup(buf), OID_FLOAT8);
}

void journal_bind_null(journal_stmt *st, int idx) {
  if (st->lite) {
    sqlite3_bind_null(st->lite, idx);
    return;
  }
  pg_bind(st, idx, NULL, OID_TEXT); /* every NULL we bind stands for a text (a phase, a kind) */
}

/* Keep libpq's message (one line, no trailing newline) for journal_sql_fail. */
static void pg_keep_error(journal *j, const char *msg) {
  snprintf(j->pg_err, sizeof j->pg_err, "%s", msg && msg[0] ? msg : "unknown error");
  size_t n = strlen(j->pg_err);
  while (n > 0 && (j->pg_err[n - 1] == '\n' || j->pg_err[n - 1] == ' ')) j->pg_err[--n] = '\0';
  for (char *p = j->pg_err; *p; p++)
    if (*p == '\n' || *p == '\t') *p = ' ';
}

int journal_step(journal_stmt *st) {
  if (st->lite) return sqlite3_step(st->lite);
  journal *j = st->j;
  if (!st->res) {
    if (!j->pg) return JOURNAL_FAIL;
    /* A read outside our transactions reconnects a dropped connection (the server restarted);
     * inside one it must not: what follows would run without the transaction's lock. */
    if (PQstatus(j->pg) != CONNECTION_OK && !j->in_tx) PQreset(j->pg);
    st->res =
        PQexecParams(j->pg, st->sql, st->nparams, st->types, (const char *const *)st->vals, NULL, NULL, 0);
    ExecStatusType es = st->res ? PQresultStatus(st->res) : PGRES_FATAL_ERROR;
    if (es != PGRES_TUPLES_OK && es != PGRES_COMMAND_OK) {
      pg_keep_error(j, st->res ? PQresultErrorMessage(st->res) : PQerrorMessage(j->pg));
      PQclear(st->res);
      st->res = NULL;
      return JOURNAL_FAIL;
    }
    const char *changed = PQcmdTuples(st->res);
    j->changes = changed && changed[0] ? strtoll(changed, NULL, 10) : 0;
    st->next = 0;
  }
  if (st->next < PQntuples(st->res)) {
    st->cur = st->next++;
    return JOURNAL_ROW;
  }
  st->cur = -1;
  return JOURNAL_DONE;
}

static const char *pg_value(journal_stmt *st, int col) {
  if (!st->res || st->cur < 0 || col < 0 || col >= PQnfields(st->res) || PQgetisnull(st->res, st->cur, col))
    return NULL;
  return PQgetvalue(st->res, st->cur, col);
}

const unsigned char *journal_column_text(journal_stmt *st, int col) {
  if (st->lite) return sqlite3_column_text(st->lite, col);
  return (const unsigned char *)pg_value(st, col);
}

long long journal_column_int64(journal_stmt *st, int col) {
  if (st->lite) return sqlite3_column_int64(st->lite, col);
  const char *v = pg_value(st, col);
  if (!v) return 0;
  char *end = NULL;
  long long n = strtoll(v, &end, 10);
  if (end && (*end == '.' || *end == 'e' || *end == 'E')) n = (long long)strtod(v, NULL); /* a JSON real */
  return n;
}

double journal_column_double(journal_stmt *st, int col) {
  if (st->lite) return sqlite3_column_double(st->lite, col);
  const char *v = pg_value(st, col);
  return v ? strtod(v, NULL) : 0.0;
}

int journal_column_type(journal_stmt *st, int col) {
  if (st->lite) return sqlite3_column_type(st->lite, col) == SQLITE_NULL ? JOURNAL_NULL : JOURNAL_VALUE;
  return pg_value(st, col) ? JOURNAL_VALUE : JOURNAL_NULL;
}

void journal_reset(journal_stmt *st) {
  if (st->lite) {
    sqlite3_reset(st->lite);
    return;
  }
  PQclear(st->res);
  st->res = NULL;
  st->cur = -1;
}

void journal_finalize(journal_stmt *st) {
  if (!st) return;
  if (st->lite) sqlite3_finalize(st->lite);
  PQclear(st->res);
  for (int i = 0; i < JOURNAL_STMT_MAX_PARAMS; i++) free(st->vals[i]);
  free(st->sql);
  free(st);
}

long long journal_changes(journal *j) {
  if (journal_is_pg(j)) return j->changes;
  return sqlite3_changes(j->db);
}

char *journal_col_strdup(journal_stmt *st, int col) {
  const unsigned char *t = journal_column_text(st, col);
  if (!t) return NULL;
  return strdup((const char *)t);
}

void journal_bind_phase(journal_stmt *st, int idx, const char *phase) {
  if (phase)
    journal_bind_text(st, idx, phase);
  else
    journal_bind_null(st, idx);
}
