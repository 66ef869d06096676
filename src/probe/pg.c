/*
 * pg.c: PostgreSQL through libpq.
 *
 * One connection per database per evaluation context, opened on first use with
 * PQconnectStartParams and polled against the probe's deadline (libpq's connect_timeout
 * counts whole seconds per host). Queries are sent asynchronously and waited for with
 * poll(); one that outlives its deadline is cancelled. The database URL may hold a
 * password, so messages name the database by its plan name and host:port only.
 */
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "probe/internal.h"

/* "db 'main' (127.0.0.1:5432)" */
static void db_text(const probe_ctx *ctx, int idx, PGconn *conn, char *out, size_t n) {
  const char *host = conn ? PQhost(conn) : NULL;
  const char *port = conn ? PQport(conn) : NULL;
  if (host && *host)
    snprintf(out, n, "db '%s' (%s:%s)", ctx->cfg->databases[idx].name, host, port ? port : "");
  else
    snprintf(out, n, "db '%s'", ctx->cfg->databases[idx].name);
}

/* libpq's messages end with a newline; keep the first line. */
static void pq_message(PGconn *conn, char *out, size_t n) {
  const char *m = conn ? PQerrorMessage(conn) : "out of memory";
  size_t len = strcspn(m, "\n");
  snprintf(out, n, "%.*s", (int)len, m);
  if (!*out) snprintf(out, n, "unknown error");
}

static int wait_socket(PGconn *conn, bool for_write, double deadline) {
  double left = deadline - gg_clock_mono();
  if (left <= 0) return 0;
  struct pollfd pfd = {.fd = PQsocket(conn), .events = for_write ? POLLOUT : POLLIN};
  int r;
  do r = poll(&pfd, 1, (int)(left * 1000) + 1);
  while (r < 0 && errno == EINTR);
  return r;
}

static gg_status pg_connect(probe_ctx *ctx, int idx, double timeout, gg_error *err) {
  probe_pg *pg = &ctx->pg[idx];
  if (pg->conn && PQstatus(pg->conn) == CONNECTION_OK) return GG_OK;
  if (pg->conn) {
    PQfinish(pg->conn);
    pg->conn = NULL;
  }
  const char *keys[] = {"dbname", "application_name", NULL};
  const char *vals[] = {ctx->cfg->databases[idx].url, "gonogo-probe", NULL};
  double t0 = gg_clock_mono(), deadline = t0 + timeout;
  char where[256], msg[512];
  PGconn *conn = PQconnectStartParams(keys, vals, 1);
  if (!conn || PQstatus(conn) == CONNECTION_BAD) {
    db_text(ctx, idx, conn, where, sizeof where);
    pq_message(conn, msg, sizeof msg);
    PQfinish(conn);
    return gg_error_set(err, GG_ERR_PG, "connect to %s: %s", where, msg);
  }
  PostgresPollingStatusType ps = PGRES_POLLING_WRITING;
  while (ps != PGRES_POLLING_OK && ps != PGRES_POLLING_FAILED) {
    int r = wait_socket(conn, ps == PGRES_POLLING_WRITING, deadline);
    if (r == 0) {
      db_text(ctx, idx, conn, where, sizeof where);
      PQfinish(conn);
      return gg_error_set(err, GG_ERR_TIMEOUT, "connect to %s: timed out after %.1fs", where, timeout);
    }
    ps = PQconnectPoll(conn);
  }
  if (ps == PGRES_POLLING_FAILED) {
    db_text(ctx, idx, conn, where, sizeof where);
    pq_message(conn, msg, sizeof msg);
    PQfinish(conn);
    return gg_error_set(err, GG_ERR_CONNECT, "connect to %s: %s", where, msg);
  }
  pg->conn = conn;
  pg->connect_time = gg_clock_mono() - t0;
  return GG_OK;
}

/* Run one statement (with parameters: the extended protocol refuses several statements
 * in one string) and wait for its result until the deadline; cancel it after. */
static gg_status pg_exec(probe_ctx *ctx, int idx, const char *sql, double deadline, PGresult **out,
                         gg_error *err) {
  PGconn *conn = ctx->pg[idx].conn;
  char where[256], msg[512];
  *out = NULL;
  if (!PQsendQueryParams(conn, sql, 0, NULL, NULL, NULL, NULL, 0)) {
    db_text(ctx, idx, conn, where, sizeof where);
    pq_message(conn, msg, sizeof msg);
    return gg_error_set(err, GG_ERR_PG, "%s: %s", where, msg);
  }
  PGresult *last = NULL;
  for (;;) {
    while (PQisBusy(conn)) {
      if (wait_socket(conn, false, deadline) == 0) {
        PGcancel *c = PQgetCancel(conn);
        char buf[256];
        if (c) {
          PQcancel(c, buf, sizeof buf);
          PQfreeCancel(c);
        }
        PQclear(last);
        /* Drop the connection: its state after a cancel is not worth reasoning about. */
        db_text(ctx, idx, conn, where, sizeof where);
        PQfinish(conn);
        ctx->pg[idx].conn = NULL;
        return gg_error_set(err, GG_ERR_TIMEOUT, "%s: query timed out: %s", where, sql);
      }
      if (!PQconsumeInput(conn)) {
        db_text(ctx, idx, conn, where, sizeof where);
        pq_message(conn, msg, sizeof msg);
        PQclear(last);
        return gg_error_set(err, GG_ERR_PG, "%s: %s", where, msg);
      }
    }
    PGresult *r = PQgetResult(conn);
    if (!r) break;
    PQclear(last);
    last = r;
  }
  if (!last || (PQresultStatus(last) != PGRES_TUPLES_OK && PQresultStatus(last) != PGRES_COMMAND_OK)) {
    db_text(ctx, idx, conn, where, sizeof where);
    const char *m = last ? PQresultErrorMessage(last) : PQerrorMessage(conn);
    size_t len = strcspn(m, "\n");
    gg_status st = gg_error_set(err, GG_ERR_PG, "%s: %.*s", where, (int)len, m);
    PQclear(last);
    return st;
  }
  *out = last;
  return GG_OK;
}

static bool cell_number(const PGresult *r, int row, int col, double *out) {
  if (PQgetisnull(r, row, col)) return false;
  const char *v = PQgetvalue(r, row, col);
  if (strcmp(v, "t") == 0 || strcmp(v, "f") == 0) {
    *out = v[0] == 't';
    return true;
  }
  char *endp = NULL;
  double d = strtod(v, &endp);
  if (endp == v || *endp != '\0' || isnan(d)) return false;
  *out = d;
  return true;
}

void probe_pg_run(probe_ctx *ctx, probe_job *job) {
  int idx = probe_find_db(ctx, job->a);
  if (idx < 0) {
    job->status = gg_error_set(&job->err, GG_ERR_NO_DATA, "no database '%s' in connect.databases", job->a);
    return;
  }
  probe_pg *pg = &ctx->pg[idx];
  pthread_mutex_lock(&pg->lock);
  double deadline = gg_clock_mono() + job->timeout;
  double now = gg_clock_now();
  gg_error e;
  gg_error_clear(&e);
  PGresult *r = NULL;
  if (pg_connect(ctx, idx, job->timeout, &e) != GG_OK) {
    /* Down is a value (pg.up 0); the other pg.* series are errors carrying the cause. */
    probe_note(ctx, "pg.up{db=\"%s\"} = 0: %s", job->a, gg_error_message(&e));
    probe_job_add(job, "pg.up", 0, now, "db", job->a, NULL);
    job->status = e.code;
    job->err = e;
    goto out;
  }
  probe_job_add(job, "pg.up", 1, now, "db", job->a, NULL);
  probe_job_add(job, "pg.connect_time", pg->connect_time, now, "db", job->a, NULL);
  double t0 = gg_clock_mono();
  if ((job->status = pg_exec(ctx, idx, "SELECT 1", deadline, &r, &job->err)) != GG_OK) goto out;
  double ping = gg_clock_mono() - t0;
  PQclear(r);
  r = NULL;
  probe_job_add(job, "pg.ping", ping, now, "db", job->a, NULL);
  const char *stats =
      "SELECT (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'),"
      " current_setting('max_connections')::float8,"
      " (SELECT xact_commit FROM pg_stat_database WHERE datname = current_database())";
  if ((job->status = pg_exec(ctx, idx, stats, deadline, &r, &job->err)) != GG_OK) goto out;
  double conns, maxc, commits;
  if (PQntuples(r) != 1 || PQnfields(r) != 3 || !cell_number(r, 0, 0, &conns) ||
      !cell_number(r, 0, 1, &maxc) || !cell_number(r, 0, 2, &commits)) {
    job->status = gg_error_set(&job->err, GG_ERR_PROTOCOL,
                               "db '%s': unexpected answer to the statistics query", job->a);
    goto out;
  }
  probe_job_add(job, "pg.connections", conns, now, "db", job->a, NULL);
  probe_job_add(job, "pg.max_connections", maxc, now, "db", job->a, NULL);
  probe_job_add(job, "pg.pool_utilization", maxc > 0 ? conns / maxc : 0, now, "db", job->a, NULL);
  probe_job_add(job, "pg.xact_commit", commits, now, "db", job->a, NULL);
  PQclear(r);
  r = NULL;
  /* Rows inserted per table since the statistics were reset: a counter, so
   * increase(pg.rows_inserted{table="hrv_data"}, 10m) == 0 says inserts stopped, read from
   * the database itself (whoever the writer is, and whether or not it still answers). */
  const char *ins =
      "SELECT CASE WHEN schemaname = 'public' THEN relname ELSE schemaname || '.' || relname END,"
      " n_tup_ins::float8 FROM pg_stat_user_tables";
  if ((job->status = pg_exec(ctx, idx, ins, deadline, &r, &job->err)) != GG_OK) goto out;
  for (int i = 0; i < PQntuples(r); i++) {
    double n = 0;
    if (PQnfields(r) == 2 && cell_number(r, i, 1, &n))
      probe_job_add(job, "pg.rows_inserted", n, now, "db", job->a, "table", PQgetvalue(r, i, 0), NULL);
  }
out:
  PQclear(r);
  pthread_mutex_unlock(&pg->lock);
}

void probe_pg_run_sql(probe_ctx *ctx, probe_job *job) {
  int idx = probe_find_db(ctx, job->a);
  if (idx < 0) {
    job->status = gg_error_set(&job->err, GG_ERR_NO_DATA, "sql(%s, …): no database '%s' in connect.databases",
                               job->a, job->a);
    return;
  }
  probe_pg *pg = &ctx->pg[idx];
  pthread_mutex_lock(&pg->lock);
  double deadline = gg_clock_mono() + job->timeout;
  double now = gg_clock_now();
  PGresult *r = NULL;
  bool in_tx = false;
  if ((job->status = pg_connect(ctx, idx, job->timeout, &job->err)) != GG_OK) goto out;
  char begin[128];
  snprintf(begin, sizeof begin, "BEGIN READ ONLY");
  if ((job->status = pg_exec(ctx, idx, begin, deadline, &r, &job->err)) != GG_OK) goto out;
  in_tx = true;
  PQclear(r);
  char limit[128];
  long ms = (long)(job->timeout * 1000);
  snprintf(limit, sizeof limit, "SET LOCAL statement_timeout = %ld", ms > 0 ? ms : 1);
  if ((job->status = pg_exec(ctx, idx, limit, deadline, &r, &job->err)) != GG_OK) goto out;
  PQclear(r);
  r = NULL;
  if ((job->status = pg_exec(ctx, idx, job->b, deadline, &r, &job->err)) != GG_OK) {
    gg_error_prefix(&job->err, "sql(%s, \"%s\"): ", job->a, job->b);
    goto out;
  }
  int rows = PQntuples(r), cols = PQnfields(r);
  if (cols < 1) {
    job->status = gg_error_set(&job->err, GG_ERR_INVALID, "sql(%s, \"%s\"): the statement returns no columns",
                               job->a, job->b);
    goto out;
  }
  for (int i = 0; i < rows && job->status == GG_OK; i++) {
    double v;
    if (!cell_number(r, i, cols - 1, &v)) {
      job->status = gg_error_set(
          &job->err, GG_ERR_INVALID, "sql(%s, \"%s\"): row %d: column '%s' is %s, want a number", job->a,
          job->b, i + 1, PQfname(r, cols - 1), PQgetisnull(r, i, cols - 1) ? "NULL" : "not numeric");
      break;
    }
    expr_labels l = {0};
    gg_status st = expr_labels_set(&l, "__name__", "sql");
    for (int c = 0; c < cols - 1 && st == GG_OK; c++)
      st = expr_labels_set(&l, PQfname(r, c), PQgetisnull(r, i, c) ? "" : PQgetvalue(r, i, c));
    if (st == GG_OK) st = expr_vector_add_labels(&job->vec, v, now, &l);
    expr_labels_release(&l);
    if (st != GG_OK) job->status = gg_error_set(&job->err, GG_ERR_NOMEM, "out of memory");
  }
out:
  PQclear(r);
  if (in_tx && ctx->pg[idx].conn) {
    PGresult *rb = NULL;
    gg_error ignore;
    if (pg_exec(ctx, idx, "ROLLBACK", gg_clock_mono() + 2, &rb, &ignore) == GG_OK) PQclear(rb);
  }
  pthread_mutex_unlock(&pg->lock);
}

void probe_pg_close_all(probe_ctx *ctx) {
  if (!ctx->pg) return;
  for (size_t i = 0; i < ctx->cfg->n_databases; i++) {
    if (ctx->pg[i].conn) PQfinish(ctx->pg[i].conn);
    ctx->pg[i].conn = NULL;
  }
}
