/*
 * test_expr.c: evaluating expressions of src/expr against in-memory sources.
 *
 * The series sources and the history source here are real implementations of the
 * interfaces in expr.h backed by tables: a "probes" source that owns the built-in
 * series names (nats.*, pg.*, file.*), then a "targets" source for scraped metrics
 * (its samples carry __name__, as a scrape does), and a history source whose points
 * lie relative to "now". Every case is a row: expression, time, expected status and the
 * rendered result (or a piece of the error message).
 */
#include <dirent.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/buf.h"
#include "base/clock.h"
#include "expr/expr.h"

/* Saturday 2026-11-28 07:00:00 UTC, the default "now" of the cases. */
#define NOW 1795849200.0

/* ---- the series table ---- */

typedef struct {
  const char *name;
  const char *labels; /* "k=v,k=v" */
  double value;
  double age; /* ts = now - age */
} row;

static const row probe_rows[] = {
    {"nats.server.storage_free", "server=n1", 50e9, 1},
    {"nats.server.storage_free", "server=n2", 12.1e9, 1},
    {"nats.server.storage_free", "server=n3", 30e9, 1},
    {"nats.server.memory_free", "server=n1", 8e9, 1},
    {"nats.server.memory_free", "server=n2", 6e9, 1},
    {"nats.server.memory_free", "server=n4", 4e9, 1},
    {"nats.server.up", "server=n1", 1, 1},
    {"nats.server.up", "server=n2", 1, 1},
    {"nats.server.up", "server=n3", 1, 1},
    {"nats.consumer.num_pending", "stream=ATHLETE_ALLY_EVENTS,consumer=normalize-hrv-durable", 0, 1},
    {"nats.consumer.num_pending", "stream=AA_CORE_HOT,consumer=normalize-hrv-durable", 150, 1},
    {"nats.consumer.num_pending", "stream=AA_VENDOR_HOT,consumer=vendor", 5, 1},
    {"nats.stream.last_ts", "stream=AA_CORE_HOT", NOW - 120, 1},
    {"nats.stream.last_ts", "stream=AA_DLQ", NOW - 7200, 1},
    {"nats.stream.messages", NULL, 0, 0}, /* known, no data right now */
    {"nats.meta.cluster_size", "", 3, 1},
    {"pg.ping", "db=main", 0.012, 1},
    {"pg.connections", "db=main", 40, 1},
    {"pg.max_connections", "db=main", 100, 1},
    {"file.age", "path=/backups/latest.dump", 3 * 3600, 1},
    {"weird.gauge", "x=1", NAN, 1},
    {"zero.gauge", "", 0, 1},
    {"neg.gauge", "k=a", -5, 1},
    {"neg.gauge", "k=b", 3, 1},
    {"sql:main:select count(*) from outbox", "db=main", 0, 0},
};

static const row target_rows[] = {
    {"http_requests_total", "target=ingest,code=200", 1000, 1},
    {"http_requests_total", "target=ingest,code=500", 10, 1},
    {"http_requests_total", "target=normalize,code=200", 500, 1},
    {"http_errors_total", "target=ingest,code=200", 0, 1},
    {"http_errors_total", "target=ingest,code=500", 10, 1},
    {"http_errors_total", "target=normalize,code=200", 50, 1},
    {"normalize_hrv_messages_total", "target=normalize,result=success", 900, 1},
    {"normalize_hrv_messages_total", "target=normalize,result=dlq", 100, 1},
    {"build_info", "target=ingest,version=1.4.2", 1, 1},
    {"promql:sum(up)", "", 3, 0},
    {"promql:empty", NULL, 0, 0},
};

static gg_status add_row(expr_vector *out, const row *r, double now) {
  if (!r->labels) return GG_OK;
  expr_labels l = {0};
  char buf[256];
  snprintf(buf, sizeof buf, "%s", r->labels);
  gg_status s = GG_OK;
  for (char *save = NULL, *kv = strtok_r(buf, ",", &save); s == GG_OK && kv;
       kv = strtok_r(NULL, ",", &save)) {
    char *eq = strchr(kv, '=');
    assert_non_null(eq);
    *eq = '\0';
    s = expr_labels_set(&l, kv, eq + 1);
  }
  if (s == GG_OK) s = expr_vector_add_labels(out, r->value, r->age ? now - r->age : 0, &l);
  expr_labels_release(&l);
  return s;
}

typedef struct {
  const row *rows;
  size_t n;
  const char *prefixes; /* names this source owns: "nats.,pg.,..." or NULL for any in the table */
  bool scraped;         /* add __name__ as a scrape does */
} table_source;

static gg_status table_select(void *user, const expr_selector *sel, const expr_ctx *ctx, expr_vector *out,
                              gg_error *err) {
  const table_source *t = user;
  if (strcmp(sel->name, "nats.broken") == 0)
    return gg_error_set(err, GG_ERR_CONNECT, "GET http://127.0.0.1:8222/jsz: connection refused");
  bool known = false;
  for (size_t i = 0; i < t->n; i++) {
    if (strcmp(t->rows[i].name, sel->name) != 0) continue;
    known = true;
    size_t before = out->n;
    if (add_row(out, &t->rows[i], ctx->now) != GG_OK) return gg_error_set(err, GG_ERR_NOMEM, "out of memory");
    if (t->scraped && out->n > before &&
        expr_labels_set(&out->v[out->n - 1].labels, "__name__", sel->name) != GG_OK)
      return gg_error_set(err, GG_ERR_NOMEM, "out of memory");
  }
  if (known) return GG_OK;
  if (t->prefixes) {
    /* A built-in family name that is not in the table is still this source's: "no such
     * series" rather than "ask the next source". */
    char buf[128];
    snprintf(buf, sizeof buf, "%s", t->prefixes);
    for (char *save = NULL, *p = strtok_r(buf, ",", &save); p; p = strtok_r(NULL, ",", &save))
      if (strncmp(sel->name, p, strlen(p)) == 0)
        return gg_error_set(err, GG_ERR_INVALID, "no built-in series '%s'", sel->name);
  }
  return GG_ERR_NOT_FOUND;
}

static gg_status table_promql(void *user, const char *query, const expr_ctx *ctx, expr_vector *out,
                              gg_error *err) {
  const table_source *t = user;
  char name[256];
  snprintf(name, sizeof name, "promql:%s", query);
  for (size_t i = 0; i < t->n; i++)
    if (strcmp(t->rows[i].name, name) == 0 && add_row(out, &t->rows[i], ctx->now) != GG_OK)
      return GG_ERR_NOMEM;
  if (strcmp(query, "broken") == 0)
    return gg_error_set(err, GG_ERR_HTTP, "GET http://127.0.0.1:9090/api/v1/query: 400 bad_data");
  return GG_OK;
}

static gg_status table_sql(void *user, const char *db, const char *query, const expr_ctx *ctx,
                           expr_vector *out, gg_error *err) {
  const table_source *t = user;
  if (strcmp(db, "main") != 0) return GG_ERR_NOT_FOUND;
  char name[256];
  snprintf(name, sizeof name, "sql:%s:%s", db, query);
  for (size_t i = 0; i < t->n; i++)
    if (strcmp(t->rows[i].name, name) == 0) return add_row(out, &t->rows[i], ctx->now);
  return gg_error_set(err, GG_ERR_PG, "query on 'main': ERROR: relation does not exist");
}

static table_source probes = {probe_rows, sizeof probe_rows / sizeof probe_rows[0], "nats.,pg.,file.", false};
static table_source targets = {target_rows, sizeof target_rows / sizeof target_rows[0], NULL, true};

/* ---- the history table ---- */

typedef struct {
  const char *name;
  const char *labels;
  size_t n;
  double t[8]; /* seconds relative to now */
  double v[8];
  bool fresh; /* check's two fresh samples: the range is [t0, tn] */
} hrow;

static const hrow history_rows[] = {
    {"req_total", "target=a", 5, {-240, -180, -120, -60, 0}, {100, 160, 220, 280, 340}, false},
    {"req_total", "target=b", 5, {-240, -180, -120, -60, 0}, {100, 160, 10, 70, 130}, false},
    {"queue_depth", "q=x", 5, {-240, -180, -120, -60, 0}, {10, 8, 12, 5, 4}, false},
    {"sparse_total", "target=a", 1, {-10}, {7}, false},
    {"fresh_total", "target=a", 2, {-3, 0}, {100, 106}, true},
    {"zero_start_total", "target=a", 5, {-240, -180, -120, -60, 0}, {0, 60, 120, 180, 240}, false},
    {"normalize_hrv_messages_total",
     "target=normalize,result=success",
     5,
     {-240, -180, -120, -60, 0},
     {900, 960, 1020, 1080, 1140},
     false},
    {"normalize_hrv_messages_total",
     "target=normalize,result=dlq",
     5,
     {-240, -180, -120, -60, 0},
     {100, 100, 100, 100, 100},
     false},
};

static gg_status table_range(void *user, const expr_selector *sel, double window, expr_history_use use,
                             const expr_ctx *ctx, expr_matrix *out, gg_error *err) {
  (void)user;
  if (strcmp(sel->name, "young_total") == 0) {
    char have[32], want[32];
    snprintf(have, sizeof have, "%gs", 120.0);
    snprintf(want, sizeof want, "%gs", window);
    return gg_error_set(err, GG_ERR_NO_DATA, "insufficient history: have %s of %s", have, want);
  }
  for (size_t i = 0; i < sizeof history_rows / sizeof history_rows[0]; i++) {
    const hrow *h = &history_rows[i];
    if (strcmp(h->name, sel->name) != 0) continue;
    expr_labels l = {0};
    char buf[128];
    snprintf(buf, sizeof buf, "%s", h->labels);
    for (char *save = NULL, *kv = strtok_r(buf, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
      char *eq = strchr(kv, '=');
      *eq = '\0';
      assert_int_equal(expr_labels_set(&l, kv, eq + 1), GG_OK);
    }
    expr_point pts[8];
    size_t n = 0;
    for (size_t k = 0; k < h->n; k++)
      if (h->t[k] >= -window) pts[n++] = (expr_point){ctx->now + h->t[k], h->v[k]};
    assert_int_equal(expr_matrix_add(out, &l, pts, n), GG_OK);
    expr_labels_release(&l);
    if (h->fresh) {
      out->range_start = ctx->now + h->t[0];
      out->range_end = ctx->now + h->t[h->n - 1];
    }
  }
  (void)use;
  return GG_OK;
}

/* ---- defines ---- */

static const struct {
  const char *name;
  const char *text;
} define_texts[] = {
    {"hrv_ok", "normalize_hrv_messages_total{target=\"normalize\", result=\"success\"}"},
    {"hrv_dlq", "normalize_hrv_messages_total{target=\"normalize\", result=\"dlq\"}"},
    {"hrv_error_ratio", "rate(hrv_dlq, 5m) / (rate(hrv_ok, 5m) + rate(hrv_dlq, 5m))"},
    {"hrv_total_ratio", "hrv_dlq / (hrv_ok + hrv_dlq)"},
    {"free", "nats.server.storage_free"},
    {"free_gb", "nats.server.storage_free / 1GB"},
    {"min_free", "20GB"},
    {"cyc_a", "cyc_b + 1"},
    {"cyc_b", "cyc_a * 2"},
    {"pg.ping", "pg.ping{db=\"main\"}"},
    {"ingest_requests", "http_requests_total{target=\"ingest\"}"},
};
#define N_DEFINES (sizeof define_texts / sizeof define_texts[0])

static expr_define defines[N_DEFINES];
static expr_node *define_nodes[N_DEFINES];
static expr_calendar *calendar;

static int setup(void **state) {
  (void)state;
  for (size_t i = 0; i < N_DEFINES; i++) {
    gg_error err;
    if (expr_parse(define_texts[i].text, &define_nodes[i], NULL, &err) != GG_OK) return -1;
    defines[i].name = define_texts[i].name;
    defines[i].expr = define_nodes[i];
  }
  gg_error err;
  calendar = expr_calendar_new();
  if (!calendar || expr_calendar_set_timezone("UTC", &err) != GG_OK ||
      expr_calendar_add_holiday(calendar, "2026-12-25", &err) != GG_OK ||
      expr_calendar_add_holiday(calendar, "2027-01-01", &err) != GG_OK ||
      expr_calendar_set_off_hours(calendar, "Mon-Fri 20:00-06:00; Sat-Sun", NULL, &err) != GG_OK)
    return -1;
  return 0;
}

static int teardown(void **state) {
  (void)state;
  for (size_t i = 0; i < N_DEFINES; i++) expr_free(define_nodes[i]);
  expr_calendar_free(calendar);
  return 0;
}

static const expr_series_source sources[] = {
    {"probes", table_select, NULL, table_sql, &probes},
    {"targets", table_select, table_promql, NULL, &targets},
};
static const expr_history_source hist = {table_range, NULL};

static void make_ctx(expr_ctx *ctx, double now) {
  expr_ctx_init(ctx);
  ctx->now = now;
  ctx->calendar = calendar;
  ctx->defines = defines;
  ctx->n_defines = N_DEFINES;
  ctx->sources = sources;
  ctx->n_sources = 2;
  ctx->history = &hist;
}

/* ---- rendering a value ---- */

static void put_num(gg_buf *b, double v) {
  assert_int_equal(gg_buf_printf(b, "%.10g", v), GG_OK);
}

static char *render(const expr_value *v) {
  gg_buf b;
  gg_buf_init(&b, 0);
  char lab[256];
  switch (v->kind) {
    case EXPR_VAL_NUM:
      put_num(&b, v->num);
      break;
    case EXPR_VAL_STR:
      assert_int_equal(gg_buf_printf(&b, "\"%s\"", v->str), GG_OK);
      break;
    case EXPR_VAL_VEC:
      for (size_t i = 0; i < v->vec.n; i++) {
        assert_int_equal(gg_buf_printf(&b, "%s%s ", i ? "; " : "",
                                       expr_labels_format(&v->vec.v[i].labels, lab, sizeof lab)),
                         GG_OK);
        put_num(&b, v->vec.v[i].value);
      }
      break;
    case EXPR_VAL_BOOL:
      assert_int_equal(gg_buf_puts(&b, v->truth ? "true" : "false"), GG_OK);
      /* The members that failed, as check will print them. */
      if (v->n_failed && v->n_members) {
        assert_int_equal(gg_buf_puts(&b, " ["), GG_OK);
        bool first = true;
        for (size_t i = 0; i < v->n_members; i++) {
          const expr_member *m = &v->members[i];
          if (m->ok) continue;
          assert_int_equal(
              gg_buf_printf(&b, "%s%s ", first ? "" : ", ", expr_labels_format(&m->labels, lab, sizeof lab)),
              GG_OK);
          put_num(&b, m->value);
          assert_int_equal(gg_buf_printf(&b, " %s ", expr_op_text(m->op)), GG_OK);
          put_num(&b, m->threshold);
          first = false;
        }
        assert_int_equal(gg_buf_puts(&b, "]"), GG_OK);
      }
      break;
  }
  return gg_buf_detach(&b);
}

/* ---- the cases ---- */

typedef struct {
  const char *expr;
  const char *at; /* RFC 3339 UTC "now", NULL for NOW */
  gg_status status;
  const char *want; /* the rendered value, or a piece of the error message */
} eval_case;

static const eval_case cases[] = {
    /* arithmetic, precedence, unary minus */
    {"1 + 2 * 3", NULL, GG_OK, "7"},
    {"(1 + 2) * 3", NULL, GG_OK, "9"},
    {"10 - 4 - 3", NULL, GG_OK, "3"},
    {"2 * 3 % 4", NULL, GG_OK, "2"},
    {"7 % 3", NULL, GG_OK, "1"},
    {"-2 * 3", NULL, GG_OK, "-6"},
    {"--2", NULL, GG_OK, "2"},
    {"-(1 - 3)", NULL, GG_OK, "2"},
    {"1 - -1", NULL, GG_OK, "2"},
    {"1 / 4", NULL, GG_OK, "0.25"},
    /* units */
    {"5m", NULL, GG_OK, "300"},
    {"250ms", NULL, GG_OK, "0.25"},
    {"1h + 30m", NULL, GG_OK, "5400"},
    {"2w / 1d", NULL, GG_OK, "14"},
    {"20GB", NULL, GG_OK, "2e+10"},
    {"1GiB / 1MiB", NULL, GG_OK, "1024"},
    {"1TiB / 1GiB", NULL, GG_OK, "1024"},
    {"512B + 1KB", NULL, GG_OK, "1512"},
    {"80%", NULL, GG_OK, "0.8"},
    {"50% * 10", NULL, GG_OK, "5"},
    {"1.5h > 89m", NULL, GG_OK, "true"},
    {"6h < 5h", NULL, GG_OK, "false [{} 21600 < 18000]"},
    /* comparisons of numbers, strings and booleans */
    {"1 < 2", NULL, GG_OK, "true"},
    {"2 <= 2", NULL, GG_OK, "true"},
    {"3 >= 4", NULL, GG_OK, "false [{} 3 >= 4]"},
    {"1 == 1", NULL, GG_OK, "true"},
    {"1 != 1", NULL, GG_OK, "false [{} 1 != 1]"},
    {"\"abc\" == \"abc\"", NULL, GG_OK, "true"},
    {"\"abc\" != \"abd\"", NULL, GG_OK, "true"},
    {"\"abc\" < \"abd\"", NULL, GG_OK, "true"},
    {"\"b\" < \"a\"", NULL, GG_OK, "false"},
    {"(1 < 2) == (3 < 4)", NULL, GG_OK, "true"},
    {"(1 < 2) != (3 < 4)", NULL, GG_OK, "false"},
    {"\"a\" == 1", NULL, GG_ERR_EXPR, "cannot compare a string with a number"},
    {"(1 < 2) < (3 < 4)", NULL, GG_ERR_EXPR, "booleans compare only with == and !="},
    {"\"a\" + 1", NULL, GG_ERR_EXPR, "cannot apply '+' to a string"},
    {"(1 < 2) + 1", NULL, GG_ERR_EXPR, "cannot apply '+' to a boolean"},
    {"-\"a\"", NULL, GG_ERR_EXPR, "cannot negate a string"},
    /* booleans */
    {"1 < 2 and 2 < 3", NULL, GG_OK, "true"},
    {"1 < 2 and 3 < 2", NULL, GG_OK, "false [{} 3 < 2]"},
    {"1 > 2 or 2 < 3", NULL, GG_OK, "true [{} 1 > 2]"},
    {"1 > 2 or 3 < 2", NULL, GG_OK, "false [{} 1 > 2, {} 3 < 2]"},
    {"not 1 > 2", NULL, GG_OK, "true"},
    {"not 1 < 2", NULL, GG_OK, "false [{} 1 >= 2]"},
    {"not not 1 < 2", NULL, GG_OK, "true"},
    {"1 and 1 < 2", NULL, GG_ERR_EXPR, "'and' takes booleans"},
    {"not 1", NULL, GG_ERR_EXPR, "'not' takes booleans"},
    {"1 < 2 or \"x\"", NULL, GG_ERR_EXPR, "'or' takes booleans"},
    /* division by zero and NaN */
    {"1 / 0", NULL, GG_ERR_EXPR, "division by zero in '1 / 0'"},
    {"1 % 0", NULL, GG_ERR_EXPR, "division by zero"},
    {"0 / 0", NULL, GG_ERR_EXPR, "division by zero"},
    {"nats.server.up / max(zero.gauge)", NULL, GG_ERR_EXPR,
     "division by zero in 'nats.server.up / max(zero.gauge)' for {server=\"n1\"}"},
    {"nats.server.up / zero.gauge", NULL, GG_ERR_NO_DATA, "no label set appears on both sides"},
    {"1 / (nats.server.up - 1)", NULL, GG_ERR_EXPR, "division by zero"},
    /* overflow is an error, never +Inf that passes a comparison */
    {"1e308 * 10 > 0", NULL, GG_ERR_EXPR, "'1e+308 * 10' overflows"},
    {"1e308 + 1e308", NULL, GG_ERR_EXPR, "overflows"},
    {"-1e308 - 1e308 < 0", NULL, GG_ERR_EXPR, "overflows"},
    {"1e300 / 1e-10 > 0", NULL, GG_ERR_EXPR, "overflows"},
    {"weird.gauge > 0", NULL, GG_OK, "false [{x=\"1\"} nan > 0]"},
    {"weird.gauge < 0", NULL, GG_OK, "false [{x=\"1\"} nan < 0]"},
    {"weird.gauge != 0", NULL, GG_OK, "false [{x=\"1\"} nan != 0]"},
    {"weird.gauge + 1", NULL, GG_ERR_EXPR, "is not a number for {x=\"1\"}"},
    /* vectors, matchers, broadcasting */
    {"nats.server.storage_free", NULL, GG_OK,
     "{server=\"n1\"} 5e+10; {server=\"n2\"} 1.21e+10; {server=\"n3\"} 3e+10"},
    {"nats.server.storage_free{server=\"n2\"}", NULL, GG_OK, "{server=\"n2\"} 1.21e+10"},
    {"nats.server.storage_free{server!=\"n2\"}", NULL, GG_OK, "{server=\"n1\"} 5e+10; {server=\"n3\"} 3e+10"},
    {"nats.server.storage_free{server=~\"n[12]\"}", NULL, GG_OK,
     "{server=\"n1\"} 5e+10; {server=\"n2\"} 1.21e+10"},
    {"nats.server.storage_free{server=~\"n\"}", NULL, GG_ERR_NO_DATA, "no data for"},
    {"nats.server.storage_free{server!~\"n[12]\"}", NULL, GG_OK, "{server=\"n3\"} 3e+10"},
    {"nats.server.storage_free{server=\"n1\", server=\"n2\"}", NULL, GG_ERR_NO_DATA, "no data"},
    {"nats.server.storage_free{zone=\"\"}", NULL, GG_OK,
     "{server=\"n1\"} 5e+10; {server=\"n2\"} 1.21e+10; {server=\"n3\"} 3e+10"},
    {"nats.server.storage_free / 1GB", NULL, GG_OK,
     "{server=\"n1\"} 50; {server=\"n2\"} 12.1; {server=\"n3\"} 30"},
    {"100 - nats.consumer.num_pending{consumer=\"normalize-hrv-durable\"}", NULL, GG_OK,
     "{consumer=\"normalize-hrv-durable\", stream=\"ATHLETE_ALLY_EVENTS\"} 100; "
     "{consumer=\"normalize-hrv-durable\", stream=\"AA_CORE_HOT\"} -50"},
    {"-neg.gauge", NULL, GG_OK, "{k=\"a\"} 5; {k=\"b\"} -3"},
    {"nats.server.storage_free > 20GB", NULL, GG_OK, "false [{server=\"n2\"} 1.21e+10 > 2e+10]"},
    {"nats.server.storage_free > 10GB", NULL, GG_OK, "true"},
    {"20GB < nats.server.storage_free", NULL, GG_OK, "false [{server=\"n2\"} 2e+10 < 1.21e+10]"},
    {"nats.server.storage_free > nats.server.memory_free", NULL, GG_OK, "true"},
    {"nats.server.memory_free * 2 > nats.server.storage_free", NULL, GG_OK,
     "false [{server=\"n1\"} 1.6e+10 > 5e+10, {server=\"n2\"} 1.2e+10 > 1.21e+10]"},
    {"nats.server.storage_free - nats.server.memory_free", NULL, GG_OK,
     "{server=\"n1\"} 4.2e+10; {server=\"n2\"} 6100000000"},
    {"nats.server.storage_free{server=\"n3\"} - nats.server.memory_free{server=\"n4\"}", NULL, GG_OK,
     "{server=\"n3\"} 2.6e+10"},
    {"nats.server.storage_free{server=\"n3\"} - nats.server.memory_free{server=~\"n[14]\"}", NULL,
     GG_ERR_NO_DATA, "no label set appears on both sides"},
    {"nats.server.storage_free{server=\"n3\"} > nats.server.memory_free{server=~\"n[14]\"}", NULL,
     GG_ERR_NO_DATA, "no label set appears on both sides"},
    {"nats.consumer.num_pending{stream=\"ATHLETE_ALLY_EVENTS\", consumer=\"normalize-hrv-durable\"} == 0",
     NULL, GG_OK, "true"},
    {"nats.consumer.num_pending{stream=\"AA_CORE_HOT\"} < 10", NULL, GG_OK,
     "false [{consumer=\"normalize-hrv-durable\", stream=\"AA_CORE_HOT\"} 150 < 10]"},
    {"nats.consumer.num_pending < 100", NULL, GG_OK,
     "false [{consumer=\"normalize-hrv-durable\", stream=\"AA_CORE_HOT\"} 150 < 100]"},
    {"nats.server.up == 1 and nats.server.storage_free > 20GB", NULL, GG_OK,
     "false [{server=\"n2\"} 1.21e+10 > 2e+10]"},
    {"not nats.server.storage_free > 20GB", NULL, GG_OK,
     "false [{server=\"n1\"} 5e+10 <= 2e+10, {server=\"n3\"} 3e+10 <= 2e+10]"},
    /* scraped metrics: __name__ is dropped when vectors meet */
    {"http_errors_total / http_requests_total", NULL, GG_OK,
     "{code=\"200\", target=\"ingest\"} 0; {code=\"500\", target=\"ingest\"} 1; {code=\"200\", "
     "target=\"normalize\"} 0.1"},
    {"http_requests_total{target=\"ingest\"}", NULL, GG_OK,
     "{__name__=\"http_requests_total\", code=\"200\", target=\"ingest\"} 1000; "
     "{__name__=\"http_requests_total\", code=\"500\", target=\"ingest\"} 10"},
    {"http_requests_total{code=~\"5..\"} > 0", NULL, GG_OK, "true"},
    {"http_requests_total{code=~\"5..\"} == 0", NULL, GG_OK,
     "false [{code=\"500\", target=\"ingest\"} 10 == 0]"},
    {"build_info{version=~\"1\\\\.4\\\\..*\"} == 1", NULL, GG_OK, "true"},
    /* names */
    {"no.such.metric", NULL, GG_ERR_NOT_FOUND, "unknown series 'no.such.metric'"},
    {"nats.no_such", NULL, GG_ERR_INVALID, "series 'nats.no_such': no built-in series 'nats.no_such'"},
    {"nats.broken > 1", NULL, GG_ERR_CONNECT,
     "series 'nats.broken': GET http://127.0.0.1:8222/jsz: connection refused"},
    {"free{server=\"n2\"} > min_free", NULL, GG_OK, "false [{server=\"n2\"} 1.21e+10 > 2e+10]"},
    {"free_gb{server=\"n1\"}", NULL, GG_OK, "{server=\"n1\"} 50"},
    {"min_free{server=\"n1\"}", NULL, GG_ERR_EXPR, "define 'min_free' is not a vector"},
    {"hrv_total_ratio", NULL, GG_OK, "{result=\"dlq\", target=\"normalize\"} 0.1"},
    {"hrv_ok", NULL, GG_OK,
     "{__name__=\"normalize_hrv_messages_total\", result=\"success\", target=\"normalize\"} 900"},
    {"pg.ping < 50ms", NULL, GG_OK, "true"},
    {"pg.ping{db=\"other\"} < 50ms", NULL, GG_ERR_NO_DATA, "no data"},
    {"cyc_a", NULL, GG_ERR_EXPR, "refers to itself"},
    {"sum(ingest_requests)", NULL, GG_OK, "1010"},
    /* no data */
    {"nats.stream.messages", NULL, GG_ERR_NO_DATA, "no data for 'nats.stream.messages'"},
    {"nats.stream.messages > 0", NULL, GG_ERR_NO_DATA, "no data for 'nats.stream.messages'"},
    {"nats.stream.messages == 0", NULL, GG_ERR_NO_DATA, "no data"},
    {"not nats.stream.messages > 0", NULL, GG_ERR_NO_DATA, "no data"},
    {"nats.stream.messages > 0 or 1 < 2", NULL, GG_ERR_NO_DATA, "no data"},
    {"sum(nats.stream.messages)", NULL, GG_ERR_NO_DATA, "no data"},
    {"max(nats.stream.messages) > 1", NULL, GG_ERR_NO_DATA, "no data"},
    {"absent(nats.stream.messages)", NULL, GG_OK, "true"},
    {"absent(nats.server.up)", NULL, GG_OK, "false"},
    {"absent(nats.server.up{server=\"n9\"})", NULL, GG_OK, "true"},
    {"absent(no.such.metric)", NULL, GG_ERR_NOT_FOUND, "unknown series"},
    {"absent(nats.broken)", NULL, GG_ERR_CONNECT, "connection refused"},
    {"count(nats.stream.messages)", NULL, GG_OK, "0"},
    {"count(nats.stream.messages) == 0", NULL, GG_OK, "true"},
    {"count(nats.server.up{server=\"n9\"}) > 0", NULL, GG_OK, "false [{} 0 > 0]"},
    /* aggregations */
    {"min(nats.server.storage_free)", NULL, GG_OK, "1.21e+10"},
    {"max(nats.server.storage_free)", NULL, GG_OK, "5e+10"},
    {"sum(nats.server.storage_free)", NULL, GG_OK, "9.21e+10"},
    {"avg(nats.server.storage_free) / 1GB", NULL, GG_OK, "30.7"},
    {"count(nats.server.up)", NULL, GG_OK, "3"},
    {"count(nats.server.up) == nats.meta.cluster_size", NULL, GG_OK, "true"},
    {"sum(nats.server.up) < 3", NULL, GG_OK, "false [{} 3 < 3]"},
    {"max(5)", NULL, GG_OK, "5"},
    {"count(5)", NULL, GG_OK, "1"},
    {"min(\"a\")", NULL, GG_ERR_EXPR, "min() takes a vector or a number"},
    {"abs(neg.gauge)", NULL, GG_OK, "{k=\"a\"} 5; {k=\"b\"} 3"},
    {"abs(-3)", NULL, GG_OK, "3"},
    {"pg.connections / pg.max_connections < 80%", NULL, GG_OK, "true"},
    /* age */
    {"age(nats.stream.last_ts)", NULL, GG_OK, "{stream=\"AA_CORE_HOT\"} 120; {stream=\"AA_DLQ\"} 7200"},
    {"age(nats.stream.last_ts) < 1h", NULL, GG_OK, "false [{stream=\"AA_DLQ\"} 7200 < 3600]"},
    {"age(now() - 90)", NULL, GG_OK, "90"},
    {"file.age{path=\"/backups/latest.dump\"} < 6h", NULL, GG_OK, "true"},
    /* rate & co (Prometheus extrapolation) */
    {"rate(req_total{target=\"a\"}, 5m)", NULL, GG_OK, "{target=\"a\"} 1"},
    {"increase(req_total{target=\"a\"}, 5m)", NULL, GG_OK, "{target=\"a\"} 300"},
    {"rate(req_total{target=\"b\"}, 5m)", NULL, GG_OK, "{target=\"b\"} 0.7916666667"},
    {"increase(req_total{target=\"b\"}, 5m)", NULL, GG_OK, "{target=\"b\"} 237.5"},
    {"rate(zero_start_total, 5m)", NULL, GG_OK, "{target=\"a\"} 0.8"},
    {"delta(queue_depth, 5m)", NULL, GG_OK, "{q=\"x\"} -7.5"},
    {"rate(req_total, 5m) * 60 > 100", NULL, GG_OK,
     "false [{target=\"a\"} 60 > 100, {target=\"b\"} 47.5 > 100]"},
    {"rate(req_total, 2m)", NULL, GG_OK, "{target=\"a\"} 1; {target=\"b\"} 1"},
    {"rate(fresh_total, 5m)", NULL, GG_OK, "{target=\"a\"} 2"},
    {"increase(fresh_total, 5m)", NULL, GG_OK, "{target=\"a\"} 600"},
    {"rate(sparse_total, 5m)", NULL, GG_ERR_NO_DATA,
     "insufficient history for {target=\"a\"}: have 1 sample, need 2"},
    {"rate(young_total, 5m)", NULL, GG_ERR_NO_DATA,
     "rate(young_total, 5m): insufficient history: have 120s of 300s"},
    {"max_over_time(young_total, 5m)", NULL, GG_ERR_NO_DATA, "insufficient history: have 120s of 300s"},
    {"rate(never_total, 5m)", NULL, GG_ERR_NO_DATA, "no data for 'rate(never_total, 5m)'"},
    {"rate(req_total, 0s)", NULL, GG_ERR_EXPR, "must be a positive duration"},
    {"rate(req_total, \"5m\")", NULL, GG_ERR_EXPR, "must be a positive duration"},
    {"rate(free_gb, 5m)", NULL, GG_ERR_EXPR,
     "rate() needs a series, but 'free_gb' is defined as an expression"},
    {"min_over_time(queue_depth, 5m)", NULL, GG_OK, "{q=\"x\"} 4"},
    {"max_over_time(queue_depth, 5m)", NULL, GG_OK, "{q=\"x\"} 12"},
    {"avg_over_time(queue_depth, 5m)", NULL, GG_OK, "{q=\"x\"} 7.8"},
    {"max_over_time(queue_depth, 90s)", NULL, GG_OK, "{q=\"x\"} 5"},
    {"min_over_time(sparse_total, 5m)", NULL, GG_OK, "{target=\"a\"} 7"},
    {"hrv_error_ratio", NULL, GG_OK, "{result=\"dlq\", target=\"normalize\"} 0"},
    {"hrv_error_ratio > 0.5", NULL, GG_OK, "false [{result=\"dlq\", target=\"normalize\"} 0 > 0.5]"},
    {"rate(hrv_ok, 5m)", NULL, GG_OK, "{result=\"success\", target=\"normalize\"} 1"},
    {"rate(req_total, 5m)", NULL, GG_OK, "{target=\"a\"} 1; {target=\"b\"} 0.7916666667"},
    /* promql and sql go to the sources */
    {"promql(\"sum(up)\") == 3", NULL, GG_OK, "true"},
    {"promql(\"empty\")", NULL, GG_ERR_NO_DATA, "no data"},
    {"promql(\"broken\")", NULL, GG_ERR_HTTP,
     "promql(\"broken\"): GET http://127.0.0.1:9090/api/v1/query: 400 bad_data"},
    {"sql(main, \"select count(*) from outbox\") == 0", NULL, GG_OK, "true"},
    {"sql(\"main\", \"select count(*) from outbox\")", NULL, GG_OK, "{db=\"main\"} 0"},
    {"sql(main, \"select nope\")", NULL, GG_ERR_PG, "relation does not exist"},
    {"sql(other, \"select 1\")", NULL, GG_ERR_UNSUPPORTED, "no database 'other' is configured"},
    /* calendar functions (the process runs in UTC for these) */
    {"now()", NULL, GG_OK, "1795849200"},
    {"hour()", NULL, GG_OK, "7"},
    {"hour()", "2026-11-28T23:59:59Z", GG_OK, "23"},
    {"hour()", "2026-11-29T00:00:00Z", GG_OK, "0"},
    {"weekday()", NULL, GG_OK, "6"},
    {"weekday()", "2026-11-29T12:00:00Z", GG_OK, "7"},
    {"weekday()", "2026-11-30T00:00:00Z", GG_OK, "1"},
    {"weekday()", "2026-12-31T23:59:59Z", GG_OK, "4"},
    {"weekday()", "2027-01-01T00:00:00Z", GG_OK, "5"},
    {"weekday()", "2024-02-29T10:00:00Z", GG_OK, "4"},
    {"weekday()", "2000-01-01T00:00:00Z", GG_OK, "6"},
    {"weekday()", "1970-01-01T00:00:00Z", GG_OK, "4"},
    {"weekday() >= 6", NULL, GG_OK, "true"},
    {"holiday()", NULL, GG_OK, "false"},
    {"holiday()", "2026-12-25T00:00:00Z", GG_OK, "true"},
    {"holiday()", "2026-12-25T23:59:59Z", GG_OK, "true"},
    {"holiday()", "2026-12-26T00:00:00Z", GG_OK, "false"},
    {"holiday()", "2026-12-31T23:59:59Z", GG_OK, "false"},
    {"holiday()", "2027-01-01T00:00:01Z", GG_OK, "true"},
    {"holiday() or weekday() >= 6", "2026-12-25T10:00:00Z", GG_OK, "true [{} 5 >= 6]"},
    {"holiday() or weekday() >= 6", "2026-12-23T10:00:00Z", GG_OK, "false [{} 3 >= 6]"},
    {"off_hours()", NULL, GG_OK, "true"},
    {"off_hours()", "2026-11-30T12:00:00Z", GG_OK, "false"},
    {"off_hours()", "2026-11-30T05:59:00Z", GG_OK, "false"},
    {"off_hours()", "2026-12-01T05:59:00Z", GG_OK, "true"},
    {"off_hours()", "2026-12-01T06:00:00Z", GG_OK, "false"},
    {"off_hours()", "2026-12-04T20:00:00Z", GG_OK, "true"},
    {"off_hours()", "2026-12-04T19:59:59Z", GG_OK, "false"},
    {"in_window(\"Mon-Fri 09:00-17:00\")", "2026-11-30T09:00:00Z", GG_OK, "true"},
    {"in_window(\"Mon-Fri 09:00-17:00\")", "2026-11-30T17:00:00Z", GG_OK, "false"},
    {"in_window(\"Fri 20:00-06:00\")", "2026-11-28T03:00:00Z", GG_OK, "true"},
    {"in_window(\"Fri 20:00-06:00\")", "2026-11-28T06:00:00Z", GG_OK, "false"},
    {"in_window(\"Fri 20:00-06:00\")", "2026-11-27T03:00:00Z", GG_OK, "false"},
    {"in_window(\"Thu 23:00-01:00\")", "2027-01-01T00:30:00Z", GG_OK, "true"},
    {"in_window(\"Thu 23:00-01:00\")", "2026-12-31T23:59:00Z", GG_OK, "true"},
    {"in_window(\"Sun 22:00-02:00\")", "2026-11-30T01:00:00Z", GG_OK, "true"},
    {"in_window(\"Sat-Mon\")", "2026-11-30T12:00:00Z", GG_OK, "true"},
    {"in_window(\"Sat-Mon\")", "2026-12-01T12:00:00Z", GG_OK, "false"},
    {"in_window(\"22:00-24:00\")", "2026-12-01T23:59:00Z", GG_OK, "true"},
    {"in_window(\"mon,wed,fri\")", "2026-12-02T08:00:00Z", GG_OK, "true"},
    {"not in_window(\"Sat-Sun\") and not holiday()", "2026-12-02T08:00:00Z", GG_OK, "true"},
    {"hour() >= 8 and hour() < 18", "2026-12-02T18:00:00Z", GG_OK, "false [{} 18 < 18]"},
};
#define N_CASES (sizeof cases / sizeof cases[0])

static double parse_at(const char *at) {
  double t = 0;
  gg_error err;
  if (gg_time_parse(at, &t, &err) != GG_OK) fail_msg("time '%s': %s", at, err.msg);
  return t;
}

/* Every row runs; the failures are listed together, then the test fails. */
static void test_eval_table(void **state) {
  (void)state;
  int failures = 0;
  for (size_t i = 0; i < N_CASES; i++) {
    const eval_case *c = &cases[i];
    expr_node *n = NULL;
    gg_error err;
    gg_error_clear(&err);
    int col = 0;
    if (expr_parse(c->expr, &n, &col, &err) != GG_OK) {
      print_error("case %zu '%s': parse: col %d: %s\n", i, c->expr, col, err.msg);
      failures++;
      continue;
    }
    /* Every evaluated expression also survives the round trip. */
    char *canon = expr_print(n);
    expr_node *again = NULL;
    if (!canon || expr_parse(canon, &again, &col, &err) != GG_OK || !expr_equal(n, again)) {
      print_error("case %zu '%s': round trip through '%s' failed\n", i, c->expr, canon ? canon : "(null)");
      failures++;
    }
    free(canon);
    expr_free(again);
    expr_ctx ctx;
    make_ctx(&ctx, c->at ? parse_at(c->at) : NOW);
    expr_value v;
    gg_status s = expr_eval(n, &ctx, &v, &err);
    char *got = s == GG_OK ? render(&v) : NULL;
    if (s != c->status) {
      print_error("case %zu '%s': status %s (%s), want %s\n", i, c->expr, gg_status_name(s),
                  got ? got : err.msg, gg_status_name(c->status));
      failures++;
    } else if (s == GG_OK && strcmp(got, c->want) != 0) {
      print_error("case %zu '%s': got '%s', want '%s'\n", i, c->expr, got, c->want);
      failures++;
    } else if (s != GG_OK && (v.kind != EXPR_VAL_NUM || v.n_members != 0 || !strstr(err.msg, c->want))) {
      print_error("case %zu '%s': message '%s' lacks '%s'\n", i, c->expr, err.msg, c->want);
      failures++;
    }
    free(got);
    expr_value_release(&v);
    expr_free(n);
  }
  assert_int_equal(failures, 0);
}

/* The unit hint travels with the value so check can print "12.1 GB free, want > 20 GB". */
static void test_members_carry_units_and_ops(void **state) {
  (void)state;
  expr_node *n = NULL;
  assert_int_equal(
      expr_parse("nats.server.storage_free > 20GB and age(nats.stream.last_ts) < 1h", &n, NULL, NULL), GG_OK);
  expr_ctx ctx;
  make_ctx(&ctx, NOW);
  expr_value v;
  gg_error err;
  assert_int_equal(expr_eval(n, &ctx, &v, &err), GG_OK);
  assert_int_equal(v.kind, EXPR_VAL_BOOL);
  assert_false(v.truth);
  assert_int_equal(v.n_members, 5);
  assert_int_equal(v.n_failed, 2);
  assert_int_equal(v.members[1].unit, 's');
  assert_int_equal(v.members[1].op, EXPR_OP_GT);
  assert_string_equal(expr_labels_get(&v.members[1].labels, "server"), "n2");
  assert_int_equal(v.members[4].unit, 'd');
  assert_int_equal(v.members[4].op, EXPR_OP_LT);
  assert_false(v.members[4].ok);
  expr_value_release(&v);
  expr_value_release(&v); /* releasing twice is harmless */
  expr_free(n);
}

static void test_ctx_init_uses_the_injectable_clock(void **state) {
  (void)state;
  gg_clock_set_fixed(parse_at("2026-12-25T12:00:00Z"));
  expr_ctx ctx;
  expr_ctx_init(&ctx);
  assert_true(ctx.now == parse_at("2026-12-25T12:00:00Z"));
  assert_null(ctx.calendar);
  gg_clock_clear_fixed();
  expr_node *n = NULL;
  assert_int_equal(expr_parse("off_hours()", &n, NULL, NULL), GG_OK);
  expr_value v;
  gg_error err;
  assert_int_equal(expr_eval(n, &ctx, &v, &err), GG_ERR_INVALID);
  assert_non_null(strstr(err.msg, "calendar.off_hours"));
  expr_free(n);
  /* Without sources every name is unknown; without history rate() cannot run. */
  assert_int_equal(expr_parse("rate(x, 5m)", &n, NULL, NULL), GG_OK);
  assert_int_equal(expr_eval(n, &ctx, &v, &err), GG_ERR_NO_DATA);
  assert_non_null(strstr(err.msg, "needs history"));
  expr_free(n);
  assert_int_equal(expr_parse("holiday()", &n, NULL, NULL), GG_OK);
  assert_int_equal(expr_eval(n, &ctx, &v, &err), GG_OK);
  assert_false(v.truth);
  expr_free(n);
  assert_int_equal(expr_parse("promql(\"up\")", &n, NULL, NULL), GG_OK);
  assert_int_equal(expr_eval(n, &ctx, &v, &err), GG_ERR_UNSUPPORTED);
  expr_free(n);
}

/* Without an error context the status still tells what went wrong. */
static void test_errors_without_context(void **state) {
  (void)state;
  static const struct {
    const char *text;
    gg_status want;
  } rows[] = {
      {"nats.broken", GG_ERR_CONNECT},          {"rate(young_total, 5m)", GG_ERR_NO_DATA},
      {"promql(\"broken\")", GG_ERR_HTTP},      {"1 / 0", GG_ERR_EXPR},
      {"nats.stream.messages", GG_ERR_NO_DATA},
  };
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    expr_node *n = NULL;
    assert_int_equal(expr_parse(rows[i].text, &n, NULL, NULL), GG_OK);
    expr_ctx ctx;
    make_ctx(&ctx, NOW);
    expr_value v;
    if (expr_eval(n, &ctx, &v, NULL) != rows[i].want)
      fail_msg("'%s': wrong status without an error context", rows[i].text);
    expr_free(n);
  }
}

static void touch(const char *dir, const char *name) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs("x", f);
  fclose(f);
}

static double eval_number(const char *text, gg_status want, gg_error *err) {
  expr_node *n = NULL;
  int col = 0;
  if (expr_parse(text, &n, &col, err) != GG_OK) fail_msg("parse '%s': %s", text, err->msg);
  expr_ctx ctx;
  make_ctx(&ctx, NOW);
  expr_value v;
  gg_status s = expr_eval(n, &ctx, &v, err);
  expr_free(n);
  if (s != want) fail_msg("'%s': status %s (%s)", text, gg_status_name(s), err->msg);
  double r = v.num;
  expr_value_release(&v);
  return r;
}

static void test_files_matching_reads_the_directory(void **state) {
  (void)state;
  char dir[] = "/tmp/gg-expr-files-XXXXXX";
  assert_non_null(mkdtemp(dir));
  touch(dir, "a.dump");
  touch(dir, "b.dump");
  touch(dir, "c.txt");
  touch(dir, "dump.old");
  char sub[600];
  snprintf(sub, sizeof sub, "%s/x.dump", dir);
  assert_int_equal(mkdir(sub, 0700), 0);
  char text[800];
  gg_error err;
  snprintf(text, sizeof text, "files_matching(\"\\\\.dump$\", \"%s\")", dir);
  assert_true(eval_number(text, GG_OK, &err) == 2);
  snprintf(text, sizeof text, "files_matching(\"dump\", \"%s\")", dir);
  assert_true(eval_number(text, GG_OK, &err) == 3);
  snprintf(text, sizeof text, "files_matching(\"^none\", \"%s\")", dir);
  assert_true(eval_number(text, GG_OK, &err) == 0);
  snprintf(text, sizeof text, "files_matching(\".\", \"%s/missing\")", dir);
  eval_number(text, GG_ERR_IO, &err);
  assert_non_null(strstr(err.msg, "cannot open directory"));
  assert_non_null(strstr(err.msg, "/missing"));
  /* Comparing the count works like any number. */
  snprintf(text, sizeof text, "files_matching(\"\\\\.dump$\", \"%s\") >= 1", dir);
  expr_node *n = NULL;
  assert_int_equal(expr_parse(text, &n, NULL, &err), GG_OK);
  expr_ctx ctx;
  make_ctx(&ctx, NOW);
  expr_value v;
  assert_int_equal(expr_eval(n, &ctx, &v, &err), GG_OK);
  assert_true(v.truth);
  expr_value_release(&v);
  expr_free(n);
  static const char *names[] = {"a.dump", "b.dump", "c.txt", "dump.old"};
  for (size_t i = 0; i < 4; i++) {
    char path[600];
    snprintf(path, sizeof path, "%s/%s", dir, names[i]);
    assert_int_equal(unlink(path), 0);
  }
  assert_int_equal(rmdir(sub), 0);
  assert_int_equal(rmdir(dir), 0);
}

static void test_labels_and_vectors(void **state) {
  (void)state;
  expr_labels l = {0};
  assert_int_equal(expr_labels_set(&l, "zone", "b"), GG_OK);
  assert_int_equal(expr_labels_set(&l, "app", "x"), GG_OK);
  assert_int_equal(expr_labels_set(&l, "zone", "c"), GG_OK);
  char out[64];
  assert_string_equal(expr_labels_format(&l, out, sizeof out), "{app=\"x\", zone=\"c\"}");
  assert_string_equal(expr_labels_get(&l, "zone"), "c");
  assert_null(expr_labels_get(&l, "nope"));
  expr_labels copy;
  assert_int_equal(expr_labels_copy(&copy, &l), GG_OK);
  expr_labels_release(&l);
  assert_string_equal(expr_labels_format(&copy, out, sizeof out), "{app=\"x\", zone=\"c\"}");
  assert_string_equal(expr_labels_format(&copy, out, 8), "{app=\"x");
  expr_vector v = {0};
  assert_int_equal(expr_vector_add(&v, 1, 2, "server", "n1", "zone", "a", NULL), GG_OK);
  assert_int_equal(expr_vector_add_labels(&v, 3, 4, &copy), GG_OK);
  assert_int_equal(v.n, 2);
  assert_string_equal(expr_labels_get(&v.v[0].labels, "server"), "n1");
  expr_labels_release(&copy);
  expr_vector_release(&v);
  expr_vector_release(&v);
  expr_matrix m = {0};
  expr_point pts[2] = {{1, 2}, {3, 4}};
  assert_int_equal(expr_matrix_add(&m, NULL, pts, 2), GG_OK);
  assert_int_equal(m.v[0].n, 2);
  assert_true(m.v[0].points[1].v == 4);
  expr_matrix_release(&m);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_eval_table),
      cmocka_unit_test(test_members_carry_units_and_ops),
      cmocka_unit_test(test_ctx_init_uses_the_injectable_clock),
      cmocka_unit_test(test_errors_without_context),
      cmocka_unit_test(test_files_matching_reads_the_directory),
      cmocka_unit_test(test_labels_and_vectors),
  };
  printf("expr eval cases: %zu\n", N_CASES);
  return cmocka_run_group_tests(tests, setup, teardown);
}
