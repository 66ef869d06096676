/*
 * journal_int.h: what the journal's own source files share; not for other modules.
 */
#ifndef GG_JOURNAL_INT_H
#define GG_JOURNAL_INT_H

#include <sqlite3.h>

#include "journal/journal.h"

struct journal {
  sqlite3 *db;
  char *path;
  int version;
  bool readonly;
  bool lease_held;
  char lease_token[33];  /* random, identifies this handle's lease */
  long long samples_cap; /* rows of samples kept at most (JOURNAL_SAMPLES_MAX_ROWS unless set) */
  long long pending_seq; /* head appended by the open transaction, anchored on commit (0: none) */
  char pending_hash[JOURNAL_HASH_HEX];
  char plan_hash[65];         /* journal_set_plan; "" until set */
  double rehearsal_valid_for; /* seconds */
};

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
gg_status journal_prepare(journal *j, const char *sql, sqlite3_stmt **st, gg_error *err) GG_WUR;

/* Append inside an open transaction (journal_append without BEGIN/COMMIT). */
gg_status journal_append_in_tx(journal *j, journal_kind kind, const char *phase, const char *actor,
                               json_t *content, long long *seq, gg_error *err) GG_WUR;

/* A malloc'd copy of a column's text, or NULL when the column is NULL (or on ENOMEM; check
 * sqlite3_column_type when that matters). */
char *journal_col_strdup(sqlite3_stmt *st, int col);

/* Bind a phase id (NULL binds SQL NULL). Phases compare with `IS`, so NULL matches unphased rows. */
void journal_bind_phase(sqlite3_stmt *st, int idx, const char *phase);

/* Fail with GG_ERR_STATE when the journal was opened read-only. */
gg_status journal_need_writable(journal *j, const char *what, gg_error *err) GG_WUR;

#endif
