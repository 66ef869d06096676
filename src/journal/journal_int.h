/*
 * journal_int.h: what the journal's own source files share; not for other modules.
 */
#ifndef GG_JOURNAL_INT_H
#define GG_JOURNAL_INT_H

#include <libpq-fe.h>
#include <sqlite3.h>

#include "journal/journal.h"

/* Where the journal lives: an SQLite file (the default) or a PostgreSQL database. */
typedef enum { JOURNAL_BACKEND_SQLITE = 0, JOURNAL_BACKEND_PG } journal_backend;

struct journal {
  journal_backend backend;
  sqlite3 *db;       /* SQLITE */
  PGconn *pg;        /* PG */
  char *target;      /* what journal_open was given (a PG URL may hold a password: never print it) */
  char pg_err[512];  /* PG: the last failure's message, for journal_sql_fail */
  long long changes; /* PG: rows the last statement changed */
  char *path;        /* for messages: the file path, or the URL with its credentials masked */
  int version;
  bool readonly;
  bool lease_held;
  char lease_token[33];  /* random, identifies this handle's lease */
  long long samples_cap; /* rows of samples kept at most (JOURNAL_SAMPLES_MAX_ROWS unless set) */
  bool in_tx;            /* PG: inside a transaction of ours (a lost connection is not reset then) */
  double append_time;    /* the next append's time (journal_append_at); 0: now */
  long long pending_seq; /* head appended by the open transaction, anchored on commit (0: none) */
  char pending_hash[JOURNAL_HASH_HEX];
  char plan_hash[65];         /* journal_set_plan; "" until set */
  double rehearsal_valid_for; /* seconds */
};

/* ---- statements: one seam over both backends -------------------------------------------- */

/* A prepared statement of either backend. SQL is written once, in the subset both understand,
 * with SQLite's placeholders ("?", "?N"); for PostgreSQL (pg.c) the placeholders become $N,
 * "a IS b" becomes "a IS NOT DISTINCT FROM b" (outside string literals) and json_extract is a
 * function the schema defines. Where the dialects differ beyond that, code asks journal_is_pg. */
typedef struct journal_stmt journal_stmt;

enum { JOURNAL_ROW = 100, JOURNAL_DONE = 101, JOURNAL_FAIL = 1 };
enum { JOURNAL_NULL = 5, JOURNAL_VALUE = 3 };
#define JOURNAL_STMT_MAX_PARAMS 16

bool journal_is_pg(const journal *j);
/* Bind parameter idx (1-based). Text is copied. */
void journal_bind_text(journal_stmt *st, int idx, const char *text);
void journal_bind_int64(journal_stmt *st, int idx, long long v);
void journal_bind_double(journal_stmt *st, int idx, double v);
void journal_bind_null(journal_stmt *st, int idx);
/* Run (the first call) and move to the next row: JOURNAL_ROW, JOURNAL_DONE or JOURNAL_FAIL
 * (the message for journal_sql_fail kept in the handle). */
int journal_step(journal_stmt *st);
/* The current row's columns (0-based); text is valid until the next step, reset or finalize. */
const unsigned char *journal_column_text(journal_stmt *st, int col);
long long journal_column_int64(journal_stmt *st, int col);
double journal_column_double(journal_stmt *st, int col);
int journal_column_type(journal_stmt *st, int col); /* JOURNAL_NULL or JOURNAL_VALUE */
/* Run again with the bindings kept. */
void journal_reset(journal_stmt *st);
void journal_finalize(journal_stmt *st); /* NULL-safe */
/* Rows the last INSERT / UPDATE / DELETE changed. */
long long journal_changes(journal *j);
/* BEGIN a read-only snapshot (verify): every read in it sees one state of the journal. */
gg_status journal_begin_read(journal *j, gg_error *err) GG_WUR;

/* ---- the PostgreSQL backend (pg.c) ------------------------------------------------------------ */

/* Whether `target` names a PostgreSQL database (postgres:// or postgresql://). */
bool journal_target_is_pg(const char *target);
/* Connect, create or check the schema; fills j->pg. */
gg_status journal_pg_open(journal *j, bool create, gg_error *err) GG_WUR;
void journal_pg_close(journal *j);
/* Translate SQLite-flavoured SQL for PostgreSQL; you own the result. NULL on ENOMEM. */
char *journal_pg_sql(const char *sql);
/* Run one statement without results / with a result; records the failure in j->pg_err. */
gg_status journal_pg_exec(journal *j, const char *sql, gg_error *err) GG_WUR;
/* Transactions: BEGIN and take the journal's advisory lock (writers), or a read-only
 * repeatable-read snapshot; COMMIT; ROLLBACK (never fails). */
gg_status journal_pg_begin(journal *j, bool write, gg_error *err) GG_WUR;
gg_status journal_pg_commit(journal *j, gg_error *err) GG_WUR;
void journal_pg_rollback(journal *j);
/* The head anchor table: move it forward inside the open write transaction; read it. */
gg_status journal_pg_anchor_advance(journal *j, gg_error *err) GG_WUR;
gg_status journal_pg_anchor_read(journal *j, bool *found, long long *seq, char *hash, gg_error *err) GG_WUR;

/* The columns of an event row, in the order read_event reads them. */
#define EVENT_COLUMNS "seq, time_ms, kind, phase, actor, os_user, host, content, prev_hash, hash"

/* The prev_hash of the first row. */
#define JOURNAL_ZERO_HASH "0000000000000000000000000000000000000000000000000000000000000000"

/* Move the head anchor beside the file forward to the head this handle just committed
 * (verify.c); best effort, never fails the commit. */
void journal_anchor_advance(journal *j);

/* Record a SQLite failure as GG_ERR_SQLITE: "journal 'PATH': WHAT: sqlite's message". */
gg_status journal_sql_fail(journal *j, gg_error *err, const char *what);

/* Run one statement without results. */
gg_status journal_exec(journal *j, const char *sql, gg_error *err) GG_WUR;

/* BEGIN IMMEDIATE (waits up to the busy timeout) / COMMIT / ROLLBACK (never fails). */
gg_status journal_begin(journal *j, gg_error *err) GG_WUR;
gg_status journal_commit(journal *j, gg_error *err) GG_WUR;
void journal_rollback(journal *j);

/* Prepare `sql`; on failure records the error. */
gg_status journal_prepare(journal *j, const char *sql, journal_stmt **st, gg_error *err) GG_WUR;

/* Append inside an open transaction (journal_append without BEGIN/COMMIT). */
gg_status journal_append_in_tx(journal *j, journal_kind kind, const char *phase, const char *actor,
                               json_t *content, long long *seq, gg_error *err) GG_WUR;

/* A malloc'd copy of a column's text, or NULL when the column is NULL (or on ENOMEM; check
 * journal_column_type when that matters). */
char *journal_col_strdup(journal_stmt *st, int col);

/* Bind a phase id (NULL binds SQL NULL). Phases compare with `IS`, so NULL matches unphased rows. */
void journal_bind_phase(journal_stmt *st, int idx, const char *phase);

/* Fail with GG_ERR_STATE when the journal was opened read-only. */
gg_status journal_need_writable(journal *j, const char *what, gg_error *err) GG_WUR;

#endif
