/*
 * expr.h: the expression language of DESIGN §5 (go criteria, no-go conditions, monitor
 * rules, checkpoints).
 *
 * CONTRACT (fixed before the implementation, other modules code against it):
 *   expr_parse   text → AST, or an error with the 1-based column inside the text
 *   expr_free    NULL-safe
 *   expr_print   AST → canonical text that parses back to the same AST
 * The evaluator API (series source, history source, values, vectors) is declared below
 * by the expression module itself.
 *
 * How it fits: the plan loader parses every expression once (expr_parse) and keeps the
 * AST; `check`, `watch` and the monitor evaluate it (expr_eval) against an expr_ctx that
 * carries "now", the plan's calendar, its `define:` entries, a chain of series sources
 * (the probes: built-in series first, then metrics scraped from the targets) and a
 * history source (the journal's samples, Prometheus, or two fresh samples taken by `check`).
 * Library code never prints: results and errors come back as values and gg_error.
 */
#ifndef GG_EXPR_H
#define GG_EXPR_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "base/error.h"

typedef struct expr_node expr_node;

/* ---------------------------------------------------------------------------------
 * Parsing and printing
 * ------------------------------------------------------------------------------- */

/* Parse text. On error returns GG_ERR_EXPR with err->msg holding the bare message
 * ("expected ')' to close '('") and *err_column (if not NULL) the 1-based column in
 * text where the problem is. On success you own *out (expr_free).
 *
 * Checked at parse time, each with its column: the grammar of DESIGN §5, units
 * (`20GB`, `5m`, `80%`; a `%` right after a number is the percent unit, write `7 % 2`
 * for the remainder), unknown function names (with a "did you mean" suggestion),
 * argument counts, regular expressions of `=~`/`!~` matchers and of files_matching()
 * (POSIX extended; at most 512 bytes, and patterns whose repetitions would make glibc's
 * regcomp copy them thousands of times, such as `(a+)+…` or `(x{200}){30}`, are
 * refused), and window specs given literally to in_window(). Strings take "…" or '…' with the
 * escapes \" \' \\ \n \t; any other backslash is kept as written (handy for regexes).
 * Input longer than EXPR_TEXT_MAX or nested deeper than EXPR_DEPTH_MAX is refused. */
gg_status expr_parse(const char *text, expr_node **out, int *err_column, gg_error *err) GG_WUR;

#define EXPR_TEXT_MAX (64u << 10)
#define EXPR_DEPTH_MAX 200

void expr_free(expr_node *node);

/* Canonical text of the AST; you own it (free()). NULL on ENOMEM.
 * Canonical means: binary operators surrounded by one space, `f(a, b)`,
 * `name{a="x", b!="y"}`, strings in double quotes, numbers in their shortest exact
 * form followed by their unit as written, and only the parentheses the precedence
 * needs. parse(print(parse(x))) equals parse(x) (expr_equal). */
char *expr_print(const expr_node *node);

/* Two lines for an error report: the text and a caret under `column`:
 *   rate(x, 5m) >> 3
 *                ^
 * Written into out (at most n bytes); returns out. */
char *expr_caret(const char *text, int column, char *out, size_t n);

/* Structural equality (kinds, operators, names, literal values, units, arguments);
 * columns are ignored. Two NULLs are equal. */
bool expr_equal(const expr_node *a, const expr_node *b);

/* ---------------------------------------------------------------------------------
 * The AST, read-only, for callers that walk it (the plan loader checks names, the
 * probes prefetch every selector concurrently before evaluating).
 * ------------------------------------------------------------------------------- */

typedef enum {
  EXPR_NUM,      /* number literal, unit applied */
  EXPR_STR,      /* string literal */
  EXPR_SELECTOR, /* name{label="v", ...} */
  EXPR_CALL,     /* f(args) */
  EXPR_NEG,      /* -x */
  EXPR_NOT,      /* not x */
  EXPR_BINARY    /* a op b */
} expr_kind;

typedef enum {
  EXPR_OP_OR,
  EXPR_OP_AND,
  EXPR_OP_LT,
  EXPR_OP_LE,
  EXPR_OP_GT,
  EXPR_OP_GE,
  EXPR_OP_EQ,
  EXPR_OP_NE,
  EXPR_OP_ADD,
  EXPR_OP_SUB,
  EXPR_OP_MUL,
  EXPR_OP_DIV,
  EXPR_OP_MOD
} expr_op;

/* "<", "and", "+" ... (static string). */
const char *expr_op_text(expr_op op);

typedef enum {
  EXPR_MATCH_EQ,    /* label="v" */
  EXPR_MATCH_NE,    /* label!="v" */
  EXPR_MATCH_RE,    /* label=~"re" (anchored, POSIX ERE, like PromQL) */
  EXPR_MATCH_NOT_RE /* label!~"re" */
} expr_match_op;

typedef struct {
  const char *label;
  expr_match_op op;
  const char *value;
} expr_matcher;

/* What a selector asks for. Strings are borrowed from the AST (valid while it lives). */
typedef struct {
  const char *name;
  const expr_matcher *matchers;
  size_t n_matchers;
} expr_selector;

expr_kind expr_node_kind(const expr_node *n);
int expr_node_column(const expr_node *n); /* 1-based column in the text; a binary node: its operator */

/* EXPR_NUM: the value in base units (seconds, bytes, fraction); unit kind 'd' duration,
 * 's' size, '%' percent, 0 none. */
double expr_node_number(const expr_node *n);
char expr_node_unit_kind(const expr_node *n);
/* EXPR_STR: the string; EXPR_CALL: the function name; EXPR_SELECTOR: the metric name. */
const char *expr_node_text(const expr_node *n);
/* EXPR_SELECTOR: fills *sel with borrowed pointers. */
void expr_node_selector(const expr_node *n, expr_selector *sel);
/* EXPR_BINARY: the operator. */
expr_op expr_node_op(const expr_node *n);
/* Children: EXPR_CALL its arguments, EXPR_NEG/EXPR_NOT one, EXPR_BINARY two (lhs, rhs);
 * others none. */
size_t expr_node_child_count(const expr_node *n);
const expr_node *expr_node_child(const expr_node *n, size_t i);

/* Visit every node depth-first, parents before children; stops when fn returns false. */
void expr_walk(const expr_node *n, bool (*fn)(const expr_node *node, void *user), void *user);

/* ---------------------------------------------------------------------------------
 * Values
 * ------------------------------------------------------------------------------- */

typedef struct {
  char *name;
  char *value;
} expr_label;

/* A label set: sorted by name, names unique. The metric name, if a source reports it,
 * is the label "__name__" and is ignored when vectors are matched. */
typedef struct {
  expr_label *v;
  size_t n;
} expr_labels;

typedef struct {
  expr_labels labels;
  double value;
  double ts; /* seconds since the epoch when the value was observed (0 = unknown) */
} expr_sample;

typedef struct {
  expr_sample *v;
  size_t n;
  size_t cap;
} expr_vector;

/* Value kinds: X(constant suffix, name in JSON output, word in error messages). */
#define EXPR_VALUE_KIND_MAP(X) \
  X(NUM, "number", "number") X(STR, "string", "string") X(BOOL, "bool", "boolean") X(VEC, "vector", "vector")

typedef enum {
#define EXPR_VALUE_KIND_ENUM(name, key, word) EXPR_VAL_##name,
  EXPR_VALUE_KIND_MAP(EXPR_VALUE_KIND_ENUM)
#undef EXPR_VALUE_KIND_ENUM
} expr_value_kind;

/* How many; a macro, not an enumerator, so switches need not handle it. */
#define EXPR_VAL_COUNT (0 EXPR_VALUE_KIND_MAP(GG_COUNT_ONE))

/* "number", "string", "bool", "vector": the kind as JSON output names it ("?" out of range). */
const char *expr_value_kind_name(expr_value_kind k);

/* One member of a comparison: the observed value against the threshold. For a scalar
 * comparison there is one member with empty labels. */
typedef struct {
  expr_labels labels;
  double value;     /* left side */
  double threshold; /* right side */
  expr_op op;       /* the comparison (after `not`, the negated one: < becomes >=) */
  char unit;        /* unit hint as in expr_value.unit */
  bool ok;          /* the comparison held for this member */
} expr_member;

/* The result of evaluating an expression. Owned by whoever holds it;
 * expr_value_release frees what it holds. */
typedef struct {
  expr_value_kind kind;
  double num;      /* EXPR_VAL_NUM */
  bool truth;      /* EXPR_VAL_BOOL */
  char *str;       /* EXPR_VAL_STR */
  expr_vector vec; /* EXPR_VAL_VEC */
  /* Unit hint for formatting: 'd' seconds, 's' bytes, '%' fraction, 0 plain. Taken
   * from the literal a value was compared or combined with (`> 20GB` makes 's'). */
  char unit;
  /* EXPR_VAL_BOOL from comparisons: every member compared, failing ones have ok false.
   * `and`/`or` concatenate their operands' members, `not` flips their ok flags and
   * negates their operators. String comparisons list no members. */
  expr_member *members;
  size_t n_members;
  size_t n_failed;
} expr_value;

void expr_value_init(expr_value *v);    /* an empty number 0 */
void expr_value_release(expr_value *v); /* frees the contents; v becomes expr_value_init's */

/* Label sets and vectors. All copy their inputs; the vector owns its samples. */
void expr_labels_release(expr_labels *l);
gg_status expr_labels_set(expr_labels *l, const char *name, const char *value) GG_WUR;
const char *expr_labels_get(const expr_labels *l, const char *name); /* NULL if absent */
gg_status expr_labels_copy(expr_labels *dst, const expr_labels *src) GG_WUR;
/* `{a="x", b="y"}` ("{}" when empty); written into out (at most n bytes); returns out. */
char *expr_labels_format(const expr_labels *l, char *out, size_t n);

void expr_vector_release(expr_vector *v);
/* Append a sample; `labels` alternates names and values, NULL-terminated:
 *   expr_vector_add(&v, 12.1e9, ts, "server", "n2", NULL);  */
gg_status expr_vector_add(expr_vector *v, double value, double ts, ...) GG_WUR;
/* Append a sample with a copy of the given label set. */
gg_status expr_vector_add_labels(expr_vector *v, double value, double ts, const expr_labels *l) GG_WUR;

/* ---------------------------------------------------------------------------------
 * Calendar (DESIGN §4 `calendar:`): timezone, holidays, off_hours
 * ------------------------------------------------------------------------------- */

/* Set the process's time zone (setenv TZ + tzset) after checking that `name` exists
 * under /usr/share/zoneinfo ("UTC", "Europe/Berlin"). Calendar functions convert "now"
 * with localtime_r, so they follow this zone. Not thread-safe: call it once, at
 * startup, before any thread starts. GG_ERR_INVALID naming the zone when unknown. */
gg_status expr_calendar_set_timezone(const char *name, gg_error *err) GG_WUR;

/* A parsed window spec such as "Mon-Fri 20:00-06:00; Sat-Sun".
 *   spec  := item (';' item)*
 *   item  := days [range] | range
 *   days  := day ('-' day)? (',' day ('-' day)?)*      day: Mon Tue Wed Thu Fri Sat Sun
 *   range := HH:MM '-' HH:MM                            (00:00 .. 24:00 for the end)
 * Day names are case-insensitive; a range of days may wrap (`Sat-Mon`). A day without a
 * range means the whole day; a range without days means every day. A range is
 * [start, end). When end <= start the range wraps midnight and the day names its START:
 * `Fri 20:00-06:00` holds from Friday 20:00 to Saturday 06:00 (the ops convention), so
 * `Mon-Fri 20:00-06:00` covers Saturday 03:00 but not Monday 03:00. */
typedef struct expr_window expr_window;

/* Parse a spec. On error GG_ERR_INVALID with a message naming the spec and the
 * problem, and *err_pos (if not NULL) the 1-based position in spec. You own *out. */
gg_status expr_window_parse(const char *spec, expr_window **out, int *err_pos, gg_error *err) GG_WUR;
void expr_window_free(expr_window *w);
/* Whether the local time `tm` (tm_wday, tm_hour, tm_min) lies inside the window. */
bool expr_window_contains(const expr_window *w, const struct tm *tm);

/* The plan's calendar. Holidays are local dates. */
typedef struct expr_calendar expr_calendar;

expr_calendar *expr_calendar_new(void); /* NULL on ENOMEM; free with expr_calendar_free */
void expr_calendar_free(expr_calendar *c);
/* Dates as the calendar writes them: "YYYY-MM-DD" or an inclusive range
 * "YYYY-MM-DD..YYYY-MM-DD" (at most 400 days), each into yyyymmdd (*last = *first for one
 * date). GG_ERR_INVALID naming the text when it is neither or the range is backwards. */
gg_status expr_calendar_parse_dates(const char *text, int *first, int *last, gg_error *err) GG_WUR;
/* Add a holiday: a date or a range as above; GG_ERR_INVALID naming the text. */
gg_status expr_calendar_add_holiday(expr_calendar *c, const char *date, gg_error *err) GG_WUR;
/* Add a freeze: a date or a range as above (`calendar.freeze`, read by frozen()). */
gg_status expr_calendar_add_freeze(expr_calendar *c, const char *dates, gg_error *err) GG_WUR;
/* Add a named window (`calendar.windows`, read by window("NAME")); a second window of the
 * same name is GG_ERR_INVALID; spec and *err_pos as expr_window_parse. */
gg_status expr_calendar_add_window(expr_calendar *c, const char *name, const char *spec, int *err_pos,
                                   gg_error *err) GG_WUR;
/* The named window, borrowed from c, or NULL. */
const expr_window *expr_calendar_window(const expr_calendar *c, const char *name);
/* Whether the local date of t lies in a freeze. */
bool expr_calendar_is_frozen(const expr_calendar *c, double t);
/* When the freeze holding t ends (local midnight after its last day, back-to-back freezes
 * followed through), or t itself when t is not frozen. */
double expr_calendar_frozen_until(const expr_calendar *c, double t);
/* The earliest whole minute at or after `from` that is in no freeze, on no holiday and, when
 * window is not NULL, inside that named window; 0 when none comes within `horizon` seconds
 * (time inside a freeze does not count against the horizon) or the window is unknown. */
double expr_calendar_next_open(const expr_calendar *c, const char *window, double from, double horizon);
/* Set the off_hours spec (see expr_window_parse; *err_pos as there). */
gg_status expr_calendar_set_off_hours(expr_calendar *c, const char *spec, int *err_pos, gg_error *err) GG_WUR;
/* Whether the local date of t is a holiday. */
bool expr_calendar_is_holiday(const expr_calendar *c, double t);

/* ---------------------------------------------------------------------------------
 * Sources: where series and their history come from
 * ------------------------------------------------------------------------------- */

typedef struct expr_ctx expr_ctx;

/* A series source, implemented by the probes (issue 5). The evaluator asks the sources
 * of the context in order and takes the first answer that is not GG_ERR_NOT_FOUND.
 * Each callback appends samples to `out` (empty on entry; the evaluator owns it and
 * frees it whatever the status). A callback may be NULL (the source does not serve it).
 *
 *   select  the samples of a selector. GG_ERR_NOT_FOUND: the name is not this source's
 *           (the chain goes on); GG_OK with no samples: the name is known but has no
 *           data now. Any other status is an error whose message names the endpoint and
 *           cause ("GET http://127.0.0.1:8222/jsz: connection refused"). The evaluator
 *           filters the answer by the matchers again, so a source may return more.
 *   promql  promql("query"): the result of an instant query, as samples.
 *   sql     sql(db, "select …"): one sample (or one per row) of a scalar query.
 */
typedef struct {
  const char *name; /* for messages: "probes", "targets" */
  gg_status (*select)(void *user, const expr_selector *sel, const expr_ctx *ctx, expr_vector *out,
                      gg_error *err);
  gg_status (*promql)(void *user, const char *query, const expr_ctx *ctx, expr_vector *out, gg_error *err);
  gg_status (*sql)(void *user, const char *db, const char *query, const expr_ctx *ctx, expr_vector *out,
                   gg_error *err);
  void *user;
} expr_series_source;

typedef struct {
  double t;
  double v;
} expr_point;

/* The history of one label set, oldest point first. */
typedef struct {
  expr_labels labels;
  expr_point *points;
  size_t n;
} expr_series;

/* What a history source returns. range_start/range_end is the interval the points
 * stand for: normally [now - window, now]; `check`'s two fresh samples stand for
 * [t1, t2]. Left at 0/0 the evaluator takes [now - window, now]. */
typedef struct {
  expr_series *v;
  size_t n;
  size_t cap;
  double range_start;
  double range_end;
} expr_matrix;

void expr_matrix_release(expr_matrix *m);
/* Append a series with a copy of `labels` and of the n points. */
gg_status expr_matrix_add(expr_matrix *m, const expr_labels *labels, const expr_point *points,
                          size_t n) GG_WUR;

/* Keep only the samples (series) whose labels satisfy sel's matchers, as the evaluator
 * does with every answer (regexes anchored, a missing label matches ""). GG_ERR_EXPR for a
 * regex that does not compile. */
gg_status expr_vector_filter(expr_vector *v, const expr_selector *sel, gg_error *err) GG_WUR;
gg_status expr_matrix_filter(expr_matrix *m, const expr_selector *sel, gg_error *err) GG_WUR;

/* Why the history is wanted: rate/increase/delta may be served from two fresh samples
 * (`check`), *_over_time need the window covered. */
typedef enum { EXPR_HISTORY_CHANGE, EXPR_HISTORY_OVER_TIME } expr_history_use;

/* A history source (the journal's samples, written by `watch`).
 *   range   the points of `sel` within [now - window, now] per label set. When there
 *           is not enough, return GG_ERR_NO_DATA with "insufficient history: have X of
 *           Y" (X, Y durations). The evaluator filters by the matchers again. */
typedef struct {
  gg_status (*range)(void *user, const expr_selector *sel, double window, expr_history_use use,
                     const expr_ctx *ctx, expr_matrix *out, gg_error *err);
  void *user;
} expr_history_source;

/* A `define:` entry: a name and its parsed expression (borrowed). */
typedef struct {
  const char *name;
  const expr_node *expr;
} expr_define;

/* ---------------------------------------------------------------------------------
 * Evaluation
 * ------------------------------------------------------------------------------- */

struct expr_ctx {
  double now;                    /* seconds since the epoch */
  const expr_calendar *calendar; /* NULL: no holidays, off_hours() is an error */
  const expr_define *defines;    /* resolved first, by name */
  size_t n_defines;
  const expr_series_source *sources; /* then these, in order */
  size_t n_sources;
  const expr_history_source *history; /* NULL: rate() & co. are errors */
};

/* Everything empty, now = gg_clock_now() (the injectable clock). */
void expr_ctx_init(expr_ctx *ctx);

/* Evaluate. On success *out holds the result (you own it: expr_value_release).
 *
 * Names: a selector's name is looked up in ctx->defines first (extra matchers on a
 * define that is itself a selector are added to its own; on any other define they
 * filter the resulting vector), then in the sources in order. Each define is followed
 * once per lookup, so `pg.ping: pg.ping{db="main"}` narrows the sources' pg.ping. Defines
 * that refer to each other in a cycle are GG_ERR_EXPR. A name no source knows is
 * GG_ERR_NOT_FOUND "unknown series 'x'". An error of a source is returned with the
 * series named in front: "series 'nats.server.up': GET http://…: connection refused".
 *
 * Semantics and errors (each message quotes the subexpression):
 *  - Numbers broadcast over vectors; vector op vector pairs members whose label sets are
 *    identical after dropping __name__; unpaired members are dropped; when none pair the
 *    result is "no data". The result keeps the left side's labels (without __name__).
 *    Unlike PromQL, two vectors of exactly one member each always pair, whatever their
 *    labels: `rate(dlq, 5m) / (rate(ok, 5m) + rate(dlq, 5m))` with ok and dlq told apart
 *    by a label is the ratio an operator means.
 *  - An empty vector is GG_ERR_NO_DATA "no data for 'x'" wherever it is used, and as the
 *    final result — never a pass — except as the argument of absent() and count().
 *  - Comparisons give EXPR_VAL_BOOL. On a vector it holds iff it holds for every member;
 *    all members are listed in out->members with ok flags. Numbers, strings (== != < …,
 *    bytewise) and booleans (== !=) compare among their kind; other mixes are errors.
 *  - Division or remainder by zero (scalar or any member) is GG_ERR_EXPR "division by
 *    zero in 'a / b'" — never Inf. An arithmetic result that is NaN is GG_ERR_EXPR. A NaN
 *    sample reported by a source fails every comparison (member listed with NaN).
 *  - `and`/`or`/`not` take booleans only; both sides of `and`/`or` are evaluated (the
 *    report lists all members), an error on either side is the result's error. `not`
 *    on a comparison negates it member by member (`not v > 20GB` holds when every
 *    member is <= 20GB); on anything else it negates the truth value.
 *  - Functions: min max sum avg count (vector → number; on a number, itself / 1) abs
 *    (elementwise) absent (bool: vector empty); rate increase delta (x, window) with
 *    Prometheus' extrapolation, counter resets corrected for rate and increase;
 *    min_over_time max_over_time avg_over_time (x, window); age(x) = now - x (x holds
 *    timestamps in seconds since the epoch); now() seconds since the epoch; hour()
 *    0..23 and weekday() 1 = Monday … 7 = Sunday in the process's time zone; holiday()
 *    bool; in_window("spec") and off_hours() bool (see expr_window_parse);
 *    files_matching("regex", "dir") the number of regular files in dir whose names
 *    match the (unanchored, POSIX extended) regex; promql("query") and sql(db, "query")
 *    are routed to the sources' promql/sql callbacks (db a bare name or a string; the
 *    parser stores a bare name as a string, so sql(main, …) prints as sql("main", …)). */
gg_status expr_eval(const expr_node *node, const expr_ctx *ctx, expr_value *out, gg_error *err) GG_WUR;

/* ---------------------------------------------------------------------------------
 * Built-in series (series.c): the one table of the names the probes and the journal
 * answer, with their labels, unit and source. The plan loader checks expressions
 * against it; docs/plan-reference.md documents every row.
 * ------------------------------------------------------------------------------- */

#define EXPR_SERIES_LABELS_MAX 4

typedef struct {
  const char *name;                           /* "nats.stream.messages" */
  const char *labels[EXPR_SERIES_LABELS_MAX]; /* the labels it carries, NULL-terminated early */
  const char *unit;                           /* "bytes", "seconds", "1/0", "count" ... */
  const char *source;                         /* where the value comes from */
  const char *what;                           /* one line for the reference */
} expr_series_info;

/* The whole table (static); *n rows. */
const expr_series_info *expr_series_builtin(size_t *n);
/* The row of `name`, or NULL. */
const expr_series_info *expr_series_find(const char *name);
/* Whether name lies in a built-in namespace (nats. pg. http. alerts. file. fs.): such a name
 * is never a scraped metric, so one the table lacks is an unknown series. */
bool expr_series_reserved(const char *name);
/* Whether the series carries `label`. */
bool expr_series_has_label(const expr_series_info *s, const char *label);

/* Names of all functions the language knows, NULL-terminated (for help and suggestions). */
const char *const *expr_function_names(void);

#endif
