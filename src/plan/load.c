/* load.c: type the ynode tree into the plan model, reporting every problem in one pass. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/buf.h"
#include "base/units.h"
#include "plan/internal.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

typedef struct {
  plan_ctx *c;
  plan *p;
} L;

/* ---- small helpers ---- */

static char *dup(L *l, const char *s) {
  char *r = strdup(s ? s : "");
  if (!r) plan_diag_add(l->c, PLAN_DIAG_ERROR, 1, 1, NULL, "out of memory");
  return r;
}

static void *alloc(L *l, size_t n, size_t size) {
  void *r = calloc(n ? n : 1, size);
  if (!r) plan_diag_add(l->c, PLAN_DIAG_ERROR, 1, 1, NULL, "out of memory");
  return r;
}

static plan_pos pos_of(const ynode *n) {
  plan_pos p = {n ? n->line : 0, n ? n->col : 0};
  return p;
}

static const char *kind_name(const ynode *n) {
  switch (n->kind) {
    case YN_SEQ:
      return "a list";
    case YN_MAP:
      return "a mapping";
    default:
      return "a string";
  }
}

/* Report keys of map not in allowed, with a suggestion from allowed. */
static void check_keys(L *l, const ynode *map, const char *const *allowed, size_t n, const char *where) {
  for (size_t i = 0; i < map->n; i++) {
    const ynode *k = map->items[2 * i];
    if (k->kind != YN_SCALAR) continue;
    bool known = false;
    for (size_t j = 0; j < n && !known; j++) known = strcmp(k->text, allowed[j]) == 0;
    if (known) continue;
    const char *s = plan_suggest(k->text, allowed, n);
    char hint[160];
    if (s) snprintf(hint, sizeof hint, "did you mean '%s'?", s);
    plan_diag_add(l->c, PLAN_DIAG_ERROR, k->line, k->col, s ? hint : NULL, "unknown key '%s' in %s", k->text,
                  where);
  }
}

static bool want_map(L *l, const ynode *n, const char *what) {
  if (!n) return false;
  if (n->kind == YN_MAP) return true;
  perr(l->c, n, "%s must be a mapping, not %s", what, kind_name(n));
  return false;
}

static bool want_seq(L *l, const ynode *n, const char *what) {
  if (!n) return false;
  if (n->kind == YN_SEQ) return true;
  if (n->kind == YN_SCALAR && n->is_null) return false;
  perr(l->c, n, "%s must be a list, not %s", what, kind_name(n));
  return false;
}

/* The scalar text of n, or NULL (with an error) when n is not a scalar. */
static const char *scalar(L *l, const ynode *n, const char *what) {
  if (!n) return NULL;
  if (n->kind == YN_SCALAR) return n->text;
  perr(l->c, n, "'%s' must be a string, not %s", what, kind_name(n));
  return NULL;
}

static void missing(L *l, const ynode *map, const char *key, const char *where) {
  perr(l->c, map, "%s is missing '%s'", where, key);
}

/* Copy map[key] as a string into *out. Absent: *out = NULL (error when required). */
static void get_str(L *l, const ynode *map, const char *key, bool required, const char *where, char **out) {
  const ynode *v = ynode_get(map, key);
  *out = NULL;
  if (!v || (v->kind == YN_SCALAR && v->is_null)) {
    if (required) missing(l, map, key, where);
    return;
  }
  const char *s = scalar(l, v, key);
  if (!s) return;
  if (required && !*s) {
    perr(l->c, v, "'%s' must not be empty", key);
    return;
  }
  *out = dup(l, s);
}

static bool get_bool(L *l, const ynode *map, const char *key, bool def) {
  const ynode *v = ynode_get(map, key);
  if (!v) return def;
  const char *s = scalar(l, v, key);
  if (!s) return def;
  if (!strcasecmp(s, "true") || !strcasecmp(s, "yes") || !strcasecmp(s, "on")) return true;
  if (!strcasecmp(s, "false") || !strcasecmp(s, "no") || !strcasecmp(s, "off")) return false;
  perr(l->c, v, "'%s' must be true or false, not '%s'", key, s);
  return def;
}

static int64_t get_int(L *l, const ynode *map, const char *key, int64_t min, int64_t max, int64_t def) {
  const ynode *v = ynode_get(map, key);
  if (!v) return def;
  const char *s = scalar(l, v, key);
  if (!s) return def;
  errno = 0;
  char *end = NULL;
  long long x = strtoll(s, &end, 10);
  if (!*s || end == s || *end || errno) {
    perr(l->c, v, "'%s' must be an integer, not '%s'", key, s);
    return def;
  }
  if (x < min || x > max) {
    perr(l->c, v, "'%s' must be between %lld and %lld, not %lld", key, (long long)min, (long long)max, x);
    return def;
  }
  return x;
}

static double dur_of(L *l, const ynode *v, const char *key, double def) {
  const char *s = scalar(l, v, key);
  if (!s) return def;
  gg_error e;
  gg_error_clear(&e);
  double d = 0;
  if (gg_parse_duration(s, 0, &d, &e) != GG_OK) {
    plan_diag_add(l->c, PLAN_DIAG_ERROR, v->line, v->col,
                  "durations read like 250ms, 90s, 5m, 24h, 14d or 1h30m", "'%s': %s", key,
                  gg_error_message(&e));
    return def;
  }
  return d;
}

static double get_dur(L *l, const ynode *map, const char *key, double def) {
  const ynode *v = ynode_get(map, key);
  if (!v || (v->kind == YN_SCALAR && v->is_null)) return def;
  return dur_of(l, v, key, def);
}

static double get_size(L *l, const ynode *map, const char *key, double def) {
  const ynode *v = ynode_get(map, key);
  if (!v) return def;
  const char *s = scalar(l, v, key);
  if (!s) return def;
  gg_error e;
  gg_error_clear(&e);
  double d = 0;
  if (gg_parse_size(s, &d, &e) != GG_OK) {
    plan_diag_add(l->c, PLAN_DIAG_ERROR, v->line, v->col, "sizes read like 512MB, 20GB or 1GiB", "'%s': %s",
                  key, gg_error_message(&e));
    return def;
  }
  return d;
}

/* A string or a list of strings; split_commas splits "a,b" scalars (server lists). */
static void get_strlist(L *l, const ynode *v, const char *key, bool split_commas, char ***out, size_t *n) {
  *out = NULL;
  *n = 0;
  if (!v || (v->kind == YN_SCALAR && v->is_null)) return;
  if (v->kind == YN_MAP) {
    perr(l->c, v, "'%s' must be a string or a list of strings, not a mapping", key);
    return;
  }
  size_t cap = v->kind == YN_SEQ ? v->n : 1;
  if (split_commas) {
    for (size_t i = 0; i < (v->kind == YN_SEQ ? v->n : 1); i++) {
      const ynode *it = v->kind == YN_SEQ ? v->items[i] : v;
      if (it->kind == YN_SCALAR)
        for (const char *q = it->text; *q; q++) cap += *q == ',';
    }
  }
  char **arr = alloc(l, cap, sizeof *arr);
  if (!arr) return;
  for (size_t i = 0; i < (v->kind == YN_SEQ ? v->n : 1); i++) {
    const ynode *it = v->kind == YN_SEQ ? v->items[i] : v;
    const char *s = scalar(l, it, key);
    if (!s) continue;
    const char *p = s;
    do {
      const char *e = split_commas ? strchr(p, ',') : NULL;
      size_t len = e ? (size_t)(e - p) : strlen(p);
      while (len && isspace((unsigned char)*p)) p++, len--;
      while (len && isspace((unsigned char)p[len - 1])) len--;
      if (len && *n < cap) {
        arr[*n] = strndup(p, len);
        if (arr[*n]) (*n)++;
      } else if (!len && !split_commas) {
        perr(l->c, it, "'%s' has an empty entry", key);
      }
      p = e ? e + 1 : NULL;
    } while (p);
  }
  *out = arr;
}

/* Column in the file of the expression's own 1-based column ecol. */
static int expr_col(const ynode *v, int ecol) {
  if (v->block || v->end_line != v->line || v->substituted) return v->col;
  return v->col + (v->quoted ? 1 : 0) + (ecol > 0 ? ecol - 1 : 0);
}

static void expr_of(L *l, const ynode *v, const char *key, plan_expr *out) {
  const char *s = scalar(l, v, key);
  if (!s) return;
  out->pos = pos_of(v);
  if (!v->block && v->end_line == v->line && !v->substituted) out->pos.col = expr_col(v, 1);
  out->text = dup(l, s);
  if (!*s) {
    perr(l->c, v, "'%s' is an empty expression", key);
    return;
  }
  int ecol = 0;
  gg_error e;
  gg_error_clear(&e);
  if (expr_parse(s, &out->ast, &ecol, &e) != GG_OK) {
    out->ast = NULL;
    plan_diag_add(l->c, PLAN_DIAG_ERROR, v->line, expr_col(v, ecol), NULL, "malformed expression in '%s': %s",
                  key, gg_error_message(&e));
  }
}

static void get_expr(L *l, const ynode *map, const char *key, bool required, const char *where,
                     plan_expr *out) {
  const ynode *v = ynode_get(map, key);
  if (!v || (v->kind == YN_SCALAR && v->is_null)) {
    if (required) missing(l, map, key, where);
    return;
  }
  expr_of(l, v, key, out);
}

/* "${PG_URL}" for a raw "${PG_URL:-postgres://...}": the variable names only, never defaults. */
static void secret_label(const char *raw, char *out, size_t n) {
  size_t used = 0;
  out[0] = 0;
  for (const char *p = raw; (p = strstr(p, "${")) != NULL;) {
    const char *q = p + 2;
    while (isalnum((unsigned char)*q) || *q == '_') q++;
    int w = snprintf(out + used, n - used, "%s${%.*s}", used ? "+" : "", (int)(q - p - 2), p + 2);
    if (w < 0 || (size_t)w >= n - used) break;
    used += (size_t)w;
    p = q;
  }
}

static bool literal_secret(const char *s) {
  const char *at = strchr(s, '@'), *scheme = strstr(s, "://");
  if (scheme && at && at > scheme && memchr(scheme + 3, ':', (size_t)(at - scheme - 3))) return true;
  return strstr(s, "password=") != NULL;
}

/* A secret value: never printed, excluded from the hash. `always` secrets (tokens,
 * passwords, webhooks) must come from the environment; URLs only if they hold a password. */
static void get_secret(L *l, ynode *v, const char *key, bool always, gg_secret *out) {
  if (!v || (v->kind == YN_SCALAR && v->is_null)) return;
  const char *s = scalar(l, v, key);
  if (!s) return;
  v->secret = true;
  if (!v->substituted && *s && (always || literal_secret(s))) {
    char hint[160];
    snprintf(hint, sizeof hint, "write it as '${VARIABLE}' and set the variable where gonogo runs");
    plan_diag_add(l->c, PLAN_DIAG_ERROR, v->line, v->col, hint,
                  "secret '%s' must come from the environment, not from the plan file", key);
  }
  if (!*s) return;
  char label[200];
  secret_label(v->raw, label, sizeof label);
  if (!gg_secret_set(out, s, label[0] ? label : NULL))
    plan_diag_add(l->c, PLAN_DIAG_ERROR, 1, 1, NULL, "out of memory");
}

static bool level_of(L *l, const ynode *map, const char *key, plan_level max, bool required,
                     const char *where, plan_level *out) {
  const ynode *v = ynode_get(map, key);
  if (!v) {
    if (required) missing(l, map, key, where);
    return false;
  }
  const char *s = scalar(l, v, key);
  if (!s) return false;
  plan_level lv;
  if (!plan_level_parse(s, &lv) || lv > max) {
    perr(l->c, v, "'%s' must be %s, not '%s'", key,
         max == PLAN_LEVEL_HIGH ? "low, medium or high" : "low, medium, high or critical", s);
    return false;
  }
  *out = lv;
  return true;
}

/* ---- sections ---- */

static void load_nats(L *l, ynode *v) {
  static const char *const keys[] = {"servers", "monitor",  "credentials",   "token",
                                     "user",    "password", "expect_servers"};
  if (!want_map(l, v, "'nats'")) return;
  check_keys(l, v, keys, COUNT(keys), "connect.nats");
  plan_nats *n = &l->p->connect.nats;
  get_strlist(l, ynode_get(v, "servers"), "servers", true, &n->servers, &n->nservers);
  get_strlist(l, ynode_get(v, "monitor"), "monitor", true, &n->monitor, &n->nmonitor);
  get_str(l, v, "credentials", false, "connect.nats", &n->credentials);
  if (n->credentials && !*n->credentials) {
    free(n->credentials);
    n->credentials = NULL;
  }
  get_secret(l, ynode_get(v, "token"), "token", true, &n->token);
  get_str(l, v, "user", false, "connect.nats", &n->user);
  get_secret(l, ynode_get(v, "password"), "password", true, &n->password);
  n->expect_servers = (int)get_int(l, v, "expect_servers", 0, 1000, 0);
}

static char *url_origin(const char *url) {
  const char *s = strstr(url, "://");
  if (!s) return NULL;
  const char *slash = strchr(s + 3, '/');
  return slash ? strndup(url, (size_t)(slash - url)) : strdup(url);
}

static void load_connect(L *l, ynode *v) {
  static const char *const keys[] = {"nats", "databases", "targets", "prometheus", "alertmanager", "notify"};
  if (!want_map(l, v, "'connect'")) return;
  check_keys(l, v, keys, COUNT(keys), "connect");
  plan_connect *cn = &l->p->connect;
  load_nats(l, ynode_get(v, "nats"));
  ynode *dbs = ynode_get(v, "databases");
  if (dbs && want_map(l, dbs, "'databases'")) {
    cn->databases = alloc(l, dbs->n, sizeof *cn->databases);
    for (size_t i = 0; cn->databases && i < dbs->n; i++) {
      plan_database *d = &cn->databases[cn->ndatabases++];
      d->name = dup(l, dbs->items[2 * i]->text);
      d->pos = pos_of(dbs->items[2 * i]);
      get_secret(l, dbs->items[2 * i + 1], "databases", false, &d->url);
    }
  }
  ynode *tg = ynode_get(v, "targets");
  if (tg && want_map(l, tg, "'targets'")) {
    static const char *const tkeys[] = {"health", "metrics", "url"};
    cn->targets = alloc(l, tg->n, sizeof *cn->targets);
    for (size_t i = 0; cn->targets && i < tg->n; i++) {
      ynode *tv = tg->items[2 * i + 1];
      plan_target *t = &cn->targets[cn->ntargets++];
      t->name = dup(l, tg->items[2 * i]->text);
      t->pos = pos_of(tg->items[2 * i]);
      char where[160];
      snprintf(where, sizeof where, "target '%s'", t->name ? t->name : "");
      if (!want_map(l, tv, where)) continue;
      check_keys(l, tv, tkeys, COUNT(tkeys), where);
      get_str(l, tv, "health", false, where, &t->health);
      get_str(l, tv, "metrics", false, where, &t->metrics);
      get_str(l, tv, "url", false, where, &t->url);
      if (!t->health && !t->metrics) perr(l->c, tv, "%s needs 'health' or 'metrics'", where);
      if (!t->url) {
        const char *base = t->health ? t->health : t->metrics;
        t->url = base ? url_origin(base) : NULL;
      }
    }
  }
  get_str(l, v, "prometheus", false, "connect", &cn->prometheus);
  get_str(l, v, "alertmanager", false, "connect", &cn->alertmanager);
  if (cn->prometheus && !*cn->prometheus) free(cn->prometheus), cn->prometheus = NULL;
  if (cn->alertmanager && !*cn->alertmanager) free(cn->alertmanager), cn->alertmanager = NULL;
  ynode *nt = ynode_get(v, "notify");
  if (nt && want_seq(l, nt, "'notify'")) {
    static const char *const nkeys[] = {"webhook"};
    cn->notify = alloc(l, nt->n, sizeof *cn->notify);
    for (size_t i = 0; cn->notify && i < nt->n; i++) {
      ynode *it = nt->items[i];
      if (!want_map(l, it, "a notify entry")) continue;
      check_keys(l, it, nkeys, COUNT(nkeys), "notify");
      ynode *w = ynode_get(it, "webhook");
      if (!w) {
        missing(l, it, "webhook", "a notify entry");
        continue;
      }
      plan_notify *pn = &cn->notify[cn->nnotify];
      pn->pos = pos_of(it);
      get_secret(l, w, "webhook", true, &pn->webhook);
      if (gg_secret_present(&pn->webhook)) cn->nnotify++; /* an empty webhook means "not configured" */
    }
  }
}

static bool valid_date(const char *s) {
  int y, m, d;
  char extra;
  if (strlen(s) != 10 || sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &extra) != 3) return false;
  static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (m < 1 || m > 12 || d < 1 || d > mdays[m - 1]) return false;
  if (m == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) return false;
  return true;
}

static void load_calendar(L *l, ynode *v) {
  static const char *const keys[] = {"timezone", "holidays", "off_hours"};
  plan_calendar *cal = &l->p->calendar;
  if (v && want_map(l, v, "'calendar'")) {
    check_keys(l, v, keys, COUNT(keys), "calendar");
    get_str(l, v, "timezone", false, "calendar", &cal->timezone);
    get_str(l, v, "off_hours", false, "calendar", &cal->off_hours);
    ynode *h = ynode_get(v, "holidays");
    get_strlist(l, h, "holidays", false, &cal->holidays, &cal->nholidays);
    for (size_t i = 0; i < cal->nholidays; i++)
      if (!valid_date(cal->holidays[i])) {
        const ynode *at = h->kind == YN_SEQ && i < h->n ? h->items[i] : h;
        perr(l->c, at, "holiday '%s' is not a date (YYYY-MM-DD)", cal->holidays[i]);
      }
    if (cal->off_hours) {
      /* The window spec is checked here so a typo fails `validate`, not a 3 a.m. check. */
      const ynode *at = ynode_get(v, "off_hours");
      expr_window *w = NULL;
      int pos = 0;
      gg_error e;
      gg_error_clear(&e);
      if (expr_window_parse(cal->off_hours, &w, &pos, &e) != GG_OK && at)
        plan_diag_add(l->c, PLAN_DIAG_ERROR, at->line,
                      at->col + (at->quoted ? 1 : 0) + (pos > 0 ? pos - 1 : 0), NULL, "off_hours: %s",
                      gg_error_message(&e));
      expr_window_free(w);
    }
  }
  if (!cal->timezone) cal->timezone = dup(l, "UTC");
}

static void load_defines(L *l, ynode *v) {
  if (!v || !want_map(l, v, "'define'")) return;
  l->p->defines = alloc(l, v->n, sizeof *l->p->defines);
  for (size_t i = 0; l->p->defines && i < v->n; i++) {
    ynode *k = v->items[2 * i];
    plan_define *d = &l->p->defines[l->p->ndefines++];
    d->name = dup(l, k->text);
    const char *s = k->text;
    bool ok = *s && (isalpha((unsigned char)*s) || *s == '_');
    for (; ok && *s; s++) ok = isalnum((unsigned char)*s) || *s == '_' || *s == '.';
    if (!ok) perr(l->c, k, "define name '%s' must be an identifier (letters, digits, '_', '.')", k->text);
    expr_of(l, v->items[2 * i + 1], k->text, &d->expr);
  }
}

static void load_risk_matrix(L *l, ynode *v) {
  plan_risk_matrix_default(&l->p->risk_matrix);
  if (!v) return;
  if (v->kind == YN_SCALAR) {
    if (strcmp(v->text, "default") != 0)
      perr(l->c, v, "'risk_matrix' must be 'default' or a mapping probability -> impact -> level, not '%s'",
           v->text);
    return;
  }
  static const char *const probs[] = {"low", "medium", "high"};
  static const char *const impacts[] = {"low", "medium", "high", "critical"};
  if (!want_map(l, v, "'risk_matrix'")) return;
  check_keys(l, v, probs, COUNT(probs), "risk_matrix (rows are probabilities)");
  l->p->risk_matrix.is_default = false;
  for (int p = 0; p < PLAN_PROBABILITY_LEVELS; p++) {
    ynode *row = ynode_get(v, probs[p]);
    if (!row || !want_map(l, row, "a risk_matrix row")) continue;
    check_keys(l, row, impacts, COUNT(impacts), "a risk_matrix row (keys are impacts)");
    for (int i = 0; i < PLAN_IMPACT_LEVELS; i++) {
      plan_level lv;
      if (level_of(l, row, impacts[i], PLAN_LEVEL_CRITICAL, false, "", &lv))
        l->p->risk_matrix.cell[p][i] = lv;
    }
  }
}

static void load_roles(L *l, ynode *v) {
  static const char *const keys[] = {"id", "title", "optional"};
  if (!v || !want_seq(l, v, "'roles'")) return;
  l->p->roles = alloc(l, v->n, sizeof *l->p->roles);
  for (size_t i = 0; l->p->roles && i < v->n; i++) {
    ynode *it = v->items[i];
    if (!want_map(l, it, "a role")) continue;
    check_keys(l, it, keys, COUNT(keys), "a role");
    plan_role r = {0};
    get_str(l, it, "id", true, "a role", &r.name);
    if (!r.name) continue;
    get_str(l, it, "title", false, "a role", &r.title);
    if (!r.title) r.title = dup(l, r.name);
    r.optional = get_bool(l, it, "optional", false);
    r.pos = pos_of(it);
    if (plan_find_role(l->p, r.name)) perr(l->c, it, "duplicate role '%s'", r.name);
    l->p->roles[l->p->nroles++] = r;
  }
}

static void load_criterion(L *l, ynode *it, plan_criterion *cr, const char *section) {
  static const char *const keys[] = {"name", "expect", "run", "attest", "canary", "timeout", "valid_for"};
  static const char *const ckeys[] = {"post",         "target", "publish", "body",
                                      "content_type", "expect", "within"};
  char where[200];
  cr->pos = pos_of(it);
  cr->valid_for = -1;
  if (!want_map(l, it, "a criterion")) return;
  get_str(l, it, "name", true, "a criterion", &cr->name);
  snprintf(where, sizeof where, "%s criterion '%s'", section, cr->name ? cr->name : "?");
  check_keys(l, it, keys, COUNT(keys), where);
  static const char *const kinds[] = {"expect", "run", "attest", "canary"};
  const char *have[4];
  size_t nhave = 0;
  for (int k = 0; k < 4; k++)
    if (ynode_get(it, kinds[k])) {
      have[nhave++] = kinds[k];
      cr->kind = (plan_crit_kind)k;
    }
  if (nhave != 1) {
    if (nhave == 0)
      perr(l->c, it, "%s needs exactly one of expect, run, attest, canary (has none)", where);
    else
      perr(l->c, it, "%s needs exactly one of expect, run, attest, canary (has %s and %s)", where, have[0],
           have[1]);
    return;
  }
  switch (cr->kind) {
    case PLAN_CRIT_EXPECT:
      get_expr(l, it, "expect", true, where, &cr->expect);
      cr->timeout = get_dur(l, it, "timeout", 5);
      break;
    case PLAN_CRIT_RUN:
      get_str(l, it, "run", true, where, &cr->run);
      cr->timeout = get_dur(l, it, "timeout", 60);
      break;
    case PLAN_CRIT_ATTEST:
      get_str(l, it, "attest", true, where, &cr->attest);
      cr->valid_for = get_dur(l, it, "valid_for", -1);
      break;
    case PLAN_CRIT_CANARY: {
      ynode *cv = ynode_get(it, "canary");
      cr->timeout = get_dur(l, it, "timeout", 5);
      if (!want_map(l, cv, "'canary'")) break;
      check_keys(l, cv, ckeys, COUNT(ckeys), "canary");
      char *post = NULL;
      get_str(l, cv, "post", false, "canary", &post);
      get_str(l, cv, "publish", false, "canary", &cr->canary_subject);
      get_str(l, cv, "target", false, "canary", &cr->canary_target);
      if ((post != NULL) == (cr->canary_subject != NULL)) {
        perr(l->c, cv,
             "canary of %s needs exactly one of 'post' (an HTTP URL or path) and 'publish' (a subject)",
             where);
      } else if (post && post[0] == '/') {
        if (!cr->canary_target) {
          perr(l->c, cv, "canary 'post: %s' is a path: name the 'target' it is sent to", post);
        } else {
          const plan_target *t = plan_find_target(l->p, cr->canary_target);
          if (!t) {
            const ynode *tn = ynode_get(cv, "target");
            perr(l->c, tn, "canary target '%s' is not in connect.targets", cr->canary_target);
          } else if (t->url) {
            size_t n = strlen(t->url) + strlen(post) + 1;
            cr->canary_url = alloc(l, n, 1);
            if (cr->canary_url) snprintf(cr->canary_url, n, "%s%s", t->url, post);
          }
        }
      } else if (post) {
        cr->canary_url = dup(l, post);
      }
      free(post);
      get_str(l, cv, "body", false, "canary", &cr->canary_body);
      if (!cr->canary_body) cr->canary_body = dup(l, "");
      get_str(l, cv, "content_type", false, "canary", &cr->canary_content_type);
      if (!cr->canary_content_type) cr->canary_content_type = dup(l, "application/json");
      get_expr(l, cv, "expect", true, "canary", &cr->expect);
      cr->within = get_dur(l, cv, "within", 30);
      break;
    }
  }
  if (cr->kind != PLAN_CRIT_ATTEST && ynode_get(it, "valid_for"))
    perr(l->c, ynode_get(it, "valid_for"), "'valid_for' applies to 'attest' criteria only");
}

static void load_criteria(L *l, ynode *v, const char *what, plan_criterion **out, size_t *n) {
  *out = NULL;
  *n = 0;
  char quoted[64];
  snprintf(quoted, sizeof quoted, "'%s'", what);
  if (!v || !want_seq(l, v, quoted)) return;
  *out = alloc(l, v->n, sizeof **out);
  for (size_t i = 0; *out && i < v->n; i++) load_criterion(l, v->items[i], &(*out)[(*n)++], what);
}

static void load_stream_settings(L *l, ynode *v, plan_stream *s, const char *where) {
  get_strlist(l, ynode_get(v, "subjects"), "subjects", false, &s->subjects, &s->nsubjects);
  s->replicas = (int)get_int(l, v, "replicas", 1, 5, -1);
  get_str(l, v, "storage", false, where, &s->storage);
  get_str(l, v, "retention", false, where, &s->retention);
  get_str(l, v, "discard", false, where, &s->discard);
  static const char *const storages[] = {"file", "memory"};
  static const char *const retentions[] = {"limits", "interest", "workqueue"};
  static const char *const discards[] = {"old", "new"};
  struct {
    const char *key, *val;
    const char *const *ok;
    size_t n;
  } enums[] = {{"storage", s->storage, storages, 2},
               {"retention", s->retention, retentions, 3},
               {"discard", s->discard, discards, 2}};
  for (size_t e = 0; e < COUNT(enums); e++) {
    if (!enums[e].val) continue;
    bool ok = false;
    for (size_t j = 0; j < enums[e].n; j++) ok |= strcmp(enums[e].val, enums[e].ok[j]) == 0;
    if (!ok) {
      const char *sg = plan_suggest(enums[e].val, enums[e].ok, enums[e].n);
      char hint[100];
      if (sg) snprintf(hint, sizeof hint, "did you mean '%s'?", sg);
      const ynode *at = ynode_get(v, enums[e].key);
      plan_diag_add(l->c, PLAN_DIAG_ERROR, at->line, at->col, sg ? hint : NULL, "unknown %s '%s' in %s",
                    enums[e].key, enums[e].val, where);
    }
  }
  s->max_age = get_dur(l, v, "max_age", -1);
  s->max_bytes = get_size(l, v, "max_bytes", -1);
  s->max_msgs = get_int(l, v, "max_msgs", -1, INT64_MAX, -1);
  s->max_msgs_per_subject = get_int(l, v, "max_msgs_per_subject", -1, INT64_MAX, -1);
  s->max_msg_size = get_size(l, v, "max_msg_size", -1);
  s->duplicates = get_dur(l, v, "duplicates", -1);
}

static const char *const stream_keys[] = {"subjects",     "replicas",   "storage",
                                          "retention",    "discard",    "max_age",
                                          "max_bytes",    "max_msgs",   "max_msgs_per_subject",
                                          "max_msg_size", "duplicates", "existing",
                                          "description"};

static void load_topology(L *l, ynode *v) {
  static const char *const keys[] = {"streams", "consumers"};
  static const char *const ckeys[] = {"filter",      "filters",         "ack_wait",
                                      "max_deliver", "max_ack_pending", "deliver_policy",
                                      "ack_policy",  "existing",        "description"};
  if (!v || !want_map(l, v, "'topology'")) return;
  check_keys(l, v, keys, COUNT(keys), "topology");
  plan_topology *t = &l->p->topology;
  ynode *ss = ynode_get(v, "streams");
  if (ss && want_map(l, ss, "'streams'")) {
    t->streams = alloc(l, ss->n, sizeof *t->streams);
    for (size_t i = 0; t->streams && i < ss->n; i++) {
      ynode *k = ss->items[2 * i], *sv = ss->items[2 * i + 1];
      plan_stream *s = &t->streams[t->nstreams++];
      s->name = dup(l, k->text);
      s->pos = pos_of(k);
      s->replicas = -1;
      s->max_age = s->max_bytes = s->max_msg_size = s->duplicates = -1;
      s->max_msgs = s->max_msgs_per_subject = -1;
      char where[160];
      snprintf(where, sizeof where, "stream '%s'", k->text);
      if (sv->kind == YN_SCALAR && sv->is_null) continue;
      if (!want_map(l, sv, where)) continue;
      check_keys(l, sv, stream_keys, COUNT(stream_keys), where);
      s->existing = get_bool(l, sv, "existing", false);
      load_stream_settings(l, sv, s, where);
    }
  }
  ynode *cs = ynode_get(v, "consumers");
  if (cs && want_map(l, cs, "'consumers'")) {
    t->consumers = alloc(l, cs->n, sizeof *t->consumers);
    for (size_t i = 0; t->consumers && i < cs->n; i++) {
      ynode *k = cs->items[2 * i], *cv = cs->items[2 * i + 1];
      const char *slash = strchr(k->text, '/');
      if (!slash || slash == k->text || !slash[1] || strchr(slash + 1, '/')) {
        perr(l->c, k, "consumer key '%s' must be STREAM/NAME", k->text);
        continue;
      }
      plan_consumer *c = &t->consumers[t->nconsumers++];
      c->stream = strndup(k->text, (size_t)(slash - k->text));
      c->name = dup(l, slash + 1);
      c->pos = pos_of(k);
      c->ack_wait = -1;
      c->max_deliver = c->max_ack_pending = -1;
      if (c->stream && !plan_find_stream(l->p, c->stream)) {
        const char *names[64];
        size_t nn = 0;
        for (size_t j = 0; j < t->nstreams && nn < 64; j++) names[nn++] = t->streams[j].name;
        const char *sg = plan_suggest(c->stream, names, nn);
        char hint[200];
        if (sg) snprintf(hint, sizeof hint, "did you mean '%s'?", sg);
        plan_diag_add(l->c, PLAN_DIAG_ERROR, k->line, k->col, sg ? hint : NULL,
                      "consumer '%s': stream '%s' is not in topology.streams", k->text, c->stream);
      }
      char where[200];
      snprintf(where, sizeof where, "consumer '%s'", k->text);
      if (cv->kind == YN_SCALAR && cv->is_null) continue;
      if (!want_map(l, cv, where)) continue;
      check_keys(l, cv, ckeys, COUNT(ckeys), where);
      c->existing = get_bool(l, cv, "existing", false);
      ynode *f = ynode_get(cv, "filter");
      ynode *fs = ynode_get(cv, "filters");
      if (f && fs) perr(l->c, fs, "%s has both 'filter' and 'filters'", where);
      get_strlist(l, f ? f : fs, f ? "filter" : "filters", false, &c->filters, &c->nfilters);
      c->ack_wait = get_dur(l, cv, "ack_wait", -1);
      c->max_deliver = get_int(l, cv, "max_deliver", -1, INT32_MAX, -1);
      c->max_ack_pending = get_int(l, cv, "max_ack_pending", -1, INT32_MAX, -1);
      get_str(l, cv, "deliver_policy", false, where, &c->deliver_policy);
      get_str(l, cv, "ack_policy", false, where, &c->ack_policy);
    }
  }
}

/* ---- phases ---- */

static void stream_ref(L *l, const ynode *at, const char *name, const char *what) {
  if (!name || plan_find_stream(l->p, name)) return;
  const char *names[64];
  size_t nn = 0;
  for (size_t j = 0; j < l->p->topology.nstreams && nn < 64; j++)
    names[nn++] = l->p->topology.streams[j].name;
  const char *sg = plan_suggest(name, names, nn);
  char hint[200];
  if (sg) snprintf(hint, sizeof hint, "did you mean '%s'?", sg);
  plan_diag_add(l->c, PLAN_DIAG_ERROR, at->line, at->col, sg ? hint : "declare it under topology.streams",
                "%s names unknown stream '%s'", what, name);
}

static const ynode *key_node(const ynode *map, const char *key) {
  const ynode *v = ynode_get(map, key);
  return v ? v : map;
}

static void load_action(L *l, ynode *it, plan_action *a) {
  static const char *const kinds[PLAN_ACT_COUNT] = {
      "create_stream", "update_stream",     "delete_stream", "move_subjects", "create_consumer",
      "drain",         "verify_continuity", "wait",          "exec",          "kv_put"};
  a->pos = pos_of(it);
  a->timeout = -1;
  a->duration = -1;
  if (!want_map(l, it, "an action")) return;
  if (it->n != 1) {
    perr(l->c, it, "an action is a mapping with exactly one key (the action's kind), this one has %zu",
         it->n);
    return;
  }
  ynode *k = it->items[0], *v = it->items[1];
  int kind = -1;
  for (int i = 0; i < PLAN_ACT_COUNT; i++)
    if (strcmp(k->text, kinds[i]) == 0) kind = i;
  if (kind < 0) {
    const char *sg = plan_suggest(k->text, kinds, PLAN_ACT_COUNT);
    char hint[200];
    if (sg) snprintf(hint, sizeof hint, "did you mean '%s'?", sg);
    plan_diag_add(l->c, PLAN_DIAG_ERROR, k->line, k->col, sg ? hint : NULL, "unknown action '%s'", k->text);
    return;
  }
  a->kind = (plan_action_kind)kind;
  const char *what = kinds[kind];
  switch (a->kind) {
    case PLAN_ACT_CREATE_STREAM: {
      const char *s = scalar(l, v, what);
      if (!s) break;
      a->stream = dup(l, s);
      stream_ref(l, v, s, what);
      const plan_stream *st = plan_find_stream(l->p, s);
      if (st && st->existing) perr(l->c, v, "create_stream '%s': the stream is marked existing", s);
      break;
    }
    case PLAN_ACT_UPDATE_STREAM:
    case PLAN_ACT_DELETE_STREAM: {
      if (v->kind == YN_SCALAR) {
        a->stream = dup(l, v->text);
        stream_ref(l, v, v->text, what);
        break;
      }
      if (!want_map(l, v, what)) break;
      get_str(l, v, "stream", true, what, &a->stream);
      if (a->stream) stream_ref(l, key_node(v, "stream"), a->stream, what);
      if (a->kind == PLAN_ACT_DELETE_STREAM) {
        static const char *const keys[] = {"stream", "allow_data_loss"};
        check_keys(l, v, keys, COUNT(keys), what);
        a->allow_data_loss = get_bool(l, v, "allow_data_loss", false);
      } else {
        const char *keys[COUNT(stream_keys) + 1];
        for (size_t i = 0; i < COUNT(stream_keys); i++) keys[i] = stream_keys[i];
        keys[COUNT(stream_keys)] = "stream";
        check_keys(l, v, keys, COUNT(keys), what);
        a->update = alloc(l, 1, sizeof *a->update);
        if (a->update) {
          a->update->name = dup(l, a->stream);
          a->update->pos = pos_of(v);
          a->update->replicas = -1;
          a->update->max_age = a->update->max_bytes = a->update->max_msg_size = a->update->duplicates = -1;
          a->update->max_msgs = a->update->max_msgs_per_subject = -1;
          load_stream_settings(l, v, a->update, what);
        }
      }
      break;
    }
    case PLAN_ACT_MOVE_SUBJECTS:
    case PLAN_ACT_VERIFY_CONTINUITY: {
      static const char *const mkeys[] = {"subjects", "from", "to"};
      static const char *const vkeys[] = {"subjects", "from", "to", "publisher_counter"};
      if (!want_map(l, v, what)) break;
      if (a->kind == PLAN_ACT_MOVE_SUBJECTS)
        check_keys(l, v, mkeys, COUNT(mkeys), what);
      else
        check_keys(l, v, vkeys, COUNT(vkeys), what);
      ynode *sj = ynode_get(v, "subjects");
      if (!sj) missing(l, v, "subjects", what);
      get_strlist(l, sj, "subjects", false, &a->subjects, &a->nsubjects);
      get_str(l, v, "from", true, what, &a->from);
      get_str(l, v, "to", true, what, &a->to);
      stream_ref(l, key_node(v, "from"), a->from, what);
      stream_ref(l, key_node(v, "to"), a->to, what);
      if (a->from && a->to && strcmp(a->from, a->to) == 0)
        perr(l->c, key_node(v, "to"), "%s: 'from' and 'to' are the same stream '%s'", what, a->to);
      if (a->kind == PLAN_ACT_VERIFY_CONTINUITY)
        get_str(l, v, "publisher_counter", false, what, &a->publisher_counter);
      break;
    }
    case PLAN_ACT_CREATE_CONSUMER: {
      const char *s = scalar(l, v, what);
      if (!s) break;
      const char *slash = strchr(s, '/');
      if (!slash || slash == s || !slash[1]) {
        perr(l->c, v, "create_consumer '%s' must be STREAM/NAME", s);
        break;
      }
      a->stream = strndup(s, (size_t)(slash - s));
      a->consumer = dup(l, slash + 1);
      if (!a->stream) break;
      stream_ref(l, v, a->stream, what);
      if (plan_find_stream(l->p, a->stream) && !plan_find_consumer(l->p, a->stream, a->consumer))
        perr(l->c, v, "create_consumer names consumer '%s' which is not in topology.consumers", s);
      break;
    }
    case PLAN_ACT_DRAIN: {
      static const char *const keys[] = {"stream", "consumer", "until", "timeout"};
      if (!want_map(l, v, what)) break;
      check_keys(l, v, keys, COUNT(keys), what);
      get_str(l, v, "stream", true, what, &a->stream);
      get_str(l, v, "consumer", true, what, &a->consumer);
      stream_ref(l, key_node(v, "stream"), a->stream, what);
      a->until = (double)get_int(l, v, "until", 0, INT64_MAX / 2, 0);
      a->timeout = get_dur(l, v, "timeout", -1);
      break;
    }
    case PLAN_ACT_WAIT: {
      static const char *const keys[] = {"until", "timeout"};
      if (v->kind == YN_SCALAR) {
        a->duration = dur_of(l, v, what, -1);
        break;
      }
      if (!want_map(l, v, what)) break;
      check_keys(l, v, keys, COUNT(keys), what);
      get_expr(l, v, "until", true, what, &a->until_expr);
      a->timeout = get_dur(l, v, "timeout", -1);
      if (a->timeout < 0 && ynode_get(v, "until")) missing(l, v, "timeout", "wait until");
      break;
    }
    case PLAN_ACT_EXEC: {
      static const char *const keys[] = {"run", "undo", "timeout"};
      if (v->kind == YN_SCALAR) {
        a->run = dup(l, v->text);
        break;
      }
      if (!want_map(l, v, what)) break;
      check_keys(l, v, keys, COUNT(keys), what);
      get_str(l, v, "run", true, what, &a->run);
      get_str(l, v, "undo", false, what, &a->undo);
      a->timeout = get_dur(l, v, "timeout", -1);
      break;
    }
    case PLAN_ACT_KV_PUT: {
      static const char *const keys[] = {"bucket", "key", "value"};
      if (!want_map(l, v, what)) break;
      check_keys(l, v, keys, COUNT(keys), what);
      get_str(l, v, "bucket", true, what, &a->bucket);
      get_str(l, v, "key", true, what, &a->key);
      get_str(l, v, "value", true, what, &a->value);
      break;
    }
    default:
      break;
  }
}

static void load_actions(L *l, ynode *v, const char *what, plan_action **out, size_t *n) {
  if (!v || !want_seq(l, v, what)) return;
  *out = alloc(l, v->n, sizeof **out);
  for (size_t i = 0; *out && i < v->n; i++) load_action(l, v->items[i], &(*out)[(*n)++]);
}

static void load_phase(L *l, ynode *v, plan_phase *ph) {
  static const char *const keys[] = {"id",      "name",     "description", "requires",  "risk",
                                     "risks",   "rollback", "approvals",   "go",        "no_go",
                                     "prepare", "actions",  "verify",      "on_failure"};
  ph->pos = pos_of(v);
  ph->rollback_estimate = -1;
  if (!want_map(l, v, "a phase")) return;
  get_str(l, v, "id", true, "a phase", &ph->id);
  char where[160];
  snprintf(where, sizeof where, "phase '%s'", ph->id ? ph->id : "?");
  check_keys(l, v, keys, COUNT(keys), where);
  get_str(l, v, "name", true, where, &ph->name);
  get_str(l, v, "description", false, where, &ph->description);
  if (!ph->description) ph->description = dup(l, "");

  ynode *rq = ynode_get(v, "requires");
  if (rq && !(rq->kind == YN_SCALAR && rq->is_null)) {
    static const char *const rkeys[] = {"phase", "stable_for"};
    size_t cnt = rq->kind == YN_SEQ ? rq->n : 1;
    ph->requires = alloc(l, cnt, sizeof *ph->requires);
    for (size_t i = 0; ph->requires && i < cnt; i++) {
      ynode *r = rq->kind == YN_SEQ ? rq->items[i] : rq;
      if (!want_map(l, r, "'requires'")) continue;
      check_keys(l, r, rkeys, COUNT(rkeys), "requires");
      plan_requirement *req = &ph->requires[ph->nrequires++];
      req->pos = pos_of(key_node(r, "phase"));
      get_str(l, r, "phase", true, "requires", &req->phase);
      req->stable_for = get_dur(l, r, "stable_for", 0);
    }
  }

  ynode *rk = ynode_get(v, "risks");
  if (rk && want_seq(l, rk, "'risks'")) {
    static const char *const rkeys[] = {"risk", "probability", "impact", "mitigation", "residual"};
    ph->risks = alloc(l, rk->n, sizeof *ph->risks);
    for (size_t i = 0; ph->risks && i < rk->n; i++) {
      ynode *r = rk->items[i];
      if (!want_map(l, r, "a risk")) continue;
      plan_risk *risk = &ph->risks[ph->nrisks++];
      risk->pos = pos_of(r);
      get_str(l, r, "risk", true, "a risk", &risk->risk);
      char rwhere[200];
      snprintf(rwhere, sizeof rwhere, "risk '%s'", risk->risk ? risk->risk : "?");
      check_keys(l, r, rkeys, COUNT(rkeys), rwhere);
      level_of(l, r, "probability", PLAN_LEVEL_HIGH, true, rwhere, &risk->probability);
      level_of(l, r, "impact", PLAN_LEVEL_CRITICAL, true, rwhere, &risk->impact);
      level_of(l, r, "residual", PLAN_LEVEL_CRITICAL, true, rwhere, &risk->residual);
      get_str(l, r, "mitigation", false, rwhere, &risk->mitigation);
      if (!risk->mitigation) risk->mitigation = dup(l, "");
    }
  }
  ph->risk_declared = level_of(l, v, "risk", PLAN_LEVEL_CRITICAL, false, where, &ph->risk);
  ph->risk_pos = pos_of(key_node(v, "risk"));

  ynode *rb = ynode_get(v, "rollback");
  if (rb && want_map(l, rb, "'rollback'")) {
    static const char *const bkeys[] = {"complexity", "estimate", "note"};
    static const char *const cplx[] = {"trivial", "simple", "moderate", "complex"};
    check_keys(l, rb, bkeys, COUNT(bkeys), "rollback");
    get_str(l, rb, "complexity", false, "rollback", &ph->rollback_complexity);
    if (ph->rollback_complexity) {
      bool ok = false;
      for (size_t i = 0; i < COUNT(cplx); i++) ok |= strcmp(ph->rollback_complexity, cplx[i]) == 0;
      if (!ok)
        perr(l->c, ynode_get(rb, "complexity"),
             "rollback complexity must be trivial, simple, moderate or complex, not '%s'",
             ph->rollback_complexity);
    }
    ph->rollback_estimate = get_dur(l, rb, "estimate", -1);
    get_str(l, rb, "note", false, "rollback", &ph->rollback_note);
  }

  ynode *ap = ynode_get(v, "approvals");
  if (ap && want_seq(l, ap, "'approvals'")) {
    static const char *const akeys[] = {"role", "optional"};
    ph->approvals = alloc(l, ap->n, sizeof *ph->approvals);
    for (size_t i = 0; ph->approvals && i < ap->n; i++) {
      ynode *a = ap->items[i];
      plan_approval *pa = &ph->approvals[ph->napprovals];
      pa->pos = pos_of(a);
      bool has_optional = false;
      if (a->kind == YN_SCALAR) {
        pa->role = dup(l, a->text);
      } else if (want_map(l, a, "an approval")) {
        check_keys(l, a, akeys, COUNT(akeys), "an approval");
        get_str(l, a, "role", true, "an approval", &pa->role);
        has_optional = ynode_get(a, "optional") != NULL;
        pa->optional = get_bool(l, a, "optional", false);
      }
      if (!pa->role) continue;
      for (size_t j = 0; j < ph->napprovals; j++)
        if (strcmp(ph->approvals[j].role, pa->role) == 0) {
          perr(l->c, a, "phase '%s' lists approval role '%s' twice", ph->id ? ph->id : "?", pa->role);
          break;
        }
      ph->napprovals++;
      const plan_role *role = plan_find_role(l->p, pa->role);
      if (!role) {
        const char *names[64];
        size_t nn = 0;
        for (size_t j = 0; j < l->p->nroles && nn < 64; j++) names[nn++] = l->p->roles[j].name;
        const char *sg = plan_suggest(pa->role, names, nn);
        char hint[200];
        if (sg) snprintf(hint, sizeof hint, "did you mean '%s'?", sg);
        plan_diag_add(l->c, PLAN_DIAG_ERROR, a->line, a->col, sg ? hint : "declare it under 'roles'",
                      "approval names undeclared role '%s'", pa->role);
      } else if (!has_optional) {
        pa->optional = role->optional;
      }
    }
  }

  load_criteria(l, ynode_get(v, "go"), "go", &ph->go, &ph->ngo);

  ynode *ng = ynode_get(v, "no_go");
  if (ng && want_seq(l, ng, "'no_go'")) {
    static const char *const nkeys[] = {"name", "when", "outcome"};
    ph->no_go = alloc(l, ng->n, sizeof *ph->no_go);
    for (size_t i = 0; ph->no_go && i < ng->n; i++) {
      ynode *c = ng->items[i];
      if (!want_map(l, c, "a no-go condition")) continue;
      plan_nogo *g = &ph->no_go[ph->nno_go++];
      g->pos = pos_of(c);
      get_str(l, c, "name", true, "a no-go condition", &g->name);
      char cwhere[200];
      snprintf(cwhere, sizeof cwhere, "no-go condition '%s'", g->name ? g->name : "?");
      check_keys(l, c, nkeys, COUNT(nkeys), cwhere);
      get_expr(l, c, "when", true, cwhere, &g->when);
      ynode *o = ynode_get(c, "outcome");
      const char *os = o ? scalar(l, o, "outcome") : NULL;
      if (os) {
        if (!strcmp(os, "defer"))
          g->outcome = PLAN_OUTCOME_DEFER;
        else if (!strcmp(os, "no-go") || !strcmp(os, "no_go") || !strcmp(os, "nogo"))
          g->outcome = PLAN_OUTCOME_NOGO;
        else
          perr(l->c, o, "'outcome' must be no-go or defer, not '%s'", os);
      }
    }
  }

  load_actions(l, ynode_get(v, "prepare"), "'prepare'", &ph->prepare, &ph->nprepare);
  load_actions(l, ynode_get(v, "actions"), "'actions'", &ph->actions, &ph->nactions);
  load_criteria(l, ynode_get(v, "verify"), "verify", &ph->verify, &ph->nverify);
  ynode *of = ynode_get(v, "on_failure");
  const char *ofs = of ? scalar(l, of, "on_failure") : NULL;
  if (ofs) {
    if (!strcmp(ofs, "rollback"))
      ph->on_failure = PLAN_ON_FAILURE_ROLLBACK;
    else if (!strcmp(ofs, "stop"))
      ph->on_failure = PLAN_ON_FAILURE_STOP;
    else
      perr(l->c, of, "'on_failure' must be rollback or stop, not '%s'", ofs);
  }
}

static void phase_refs(L *l, ynode *v, const char *what, char ***out, size_t *n) {
  get_strlist(l, v, what, false, out, n);
  for (size_t i = 0; i < *n; i++)
    if (!plan_find_phase(l->p, (*out)[i])) {
      const ynode *at = v->kind == YN_SEQ && i < v->n ? v->items[i] : v;
      perr(l->c, at, "'%s' names unknown phase '%s'", what, (*out)[i]);
    }
}

static void load_phases(L *l, ynode *v, const ynode *root) {
  if (!v) {
    missing(l, root, "phases", "the plan");
    return;
  }
  if (!want_seq(l, v, "'phases'")) return;
  plan *p = l->p;
  p->phases = alloc(l, v->n, sizeof *p->phases);
  for (size_t i = 0; p->phases && i < v->n; i++) {
    plan_phase *ph = &p->phases[p->nphases];
    load_phase(l, v->items[i], ph);
    if (ph->id) {
      const plan_phase *prev = plan_find_phase(p, ph->id);
      if (prev && prev != ph)
        perr(l->c, ynode_get(v->items[i], "id"), "duplicate phase id '%s' (first at line %d)", ph->id,
             prev->pos.line);
    } else {
      ph->id = dup(l, "");
    }
    p->nphases++;
  }
  /* Second pass: references between phases, risk warnings. */
  for (size_t i = 0; i < p->nphases; i++) {
    plan_phase *ph = &p->phases[i];
    for (size_t r = 0; r < ph->nrequires; r++) {
      plan_requirement *req = &ph->requires[r];
      if (!req->phase) continue;
      if (!plan_find_phase(p, req->phase))
        plan_diag_add(l->c, PLAN_DIAG_ERROR, req->pos.line, req->pos.col, NULL,
                      "phase '%s' requires unknown phase '%s'", ph->id, req->phase);
      else if (strcmp(req->phase, ph->id) == 0)
        plan_diag_add(l->c, PLAN_DIAG_ERROR, req->pos.line, req->pos.col, NULL, "phase '%s' requires itself",
                      ph->id);
    }
    plan_level highest = PLAN_LEVEL_LOW;
    for (size_t r = 0; r < ph->nrisks; r++) {
      plan_risk *risk = &ph->risks[r];
      risk->inherent = plan_risk_level(&p->risk_matrix, risk->probability, risk->impact);
      if (risk->residual > highest) highest = risk->residual;
    }
    if (!ph->risk_declared) {
      ph->risk = highest;
    } else if (ph->risk < highest) {
      plan_diag_add(l->c, PLAN_DIAG_WARNING, ph->risk_pos.line, ph->risk_pos.col, NULL,
                    "phase '%s' declares overall risk %s, lower than its highest residual risk %s", ph->id,
                    plan_level_name(ph->risk), plan_level_name(highest));
    }
  }
}

static void load_monitor(L *l, ynode *v) {
  static const char *const keys[] = {"interval", "rules"};
  static const char *const rkeys[] = {"name", "when", "for", "then", "phases", "on_error"};
  plan_monitor *m = &l->p->monitor;
  m->interval = 15;
  if (!v || !want_map(l, v, "'monitor'")) return;
  check_keys(l, v, keys, COUNT(keys), "monitor");
  m->interval = get_dur(l, v, "interval", 15);
  if (m->interval <= 0) perr(l->c, ynode_get(v, "interval"), "'interval' must be more than 0");
  ynode *rs = ynode_get(v, "rules");
  if (!rs || !want_seq(l, rs, "'rules'")) return;
  m->rules = alloc(l, rs->n, sizeof *m->rules);
  for (size_t i = 0; m->rules && i < rs->n; i++) {
    ynode *r = rs->items[i];
    if (!want_map(l, r, "a monitor rule")) continue;
    plan_rule *rule = &m->rules[m->nrules++];
    rule->pos = pos_of(r);
    get_str(l, r, "name", true, "a monitor rule", &rule->name);
    char where[200];
    snprintf(where, sizeof where, "monitor rule '%s'", rule->name ? rule->name : "?");
    check_keys(l, r, rkeys, COUNT(rkeys), where);
    get_expr(l, r, "when", true, where, &rule->when);
    rule->for_ = get_dur(l, r, "for", 0);
    ynode *t = ynode_get(r, "then");
    const char *ts = t ? scalar(l, t, "then") : NULL;
    if (!t) {
      missing(l, r, "then", where);
    } else if (ts) {
      static const char *const thens[] = {"rollback", "advise", "notify"};
      bool ok = false;
      for (int k = 0; k < 3; k++)
        if (!strcmp(ts, thens[k])) rule->then = (plan_then)k, ok = true;
      if (!ok) {
        const char *sg = plan_suggest(ts, thens, 3);
        char hint[100];
        if (sg) snprintf(hint, sizeof hint, "did you mean '%s'?", sg);
        plan_diag_add(l->c, PLAN_DIAG_ERROR, t->line, t->col, sg ? hint : NULL,
                      "'then' must be rollback, advise or notify, not '%s'", ts);
      }
    }
    ynode *oe = ynode_get(r, "on_error");
    const char *oes = oe ? scalar(l, oe, "on_error") : NULL;
    if (oes) {
      if (!strcmp(oes, "hold"))
        rule->on_error_hold = true;
      else if (strcmp(oes, "ignore") != 0)
        plan_diag_add(l->c, PLAN_DIAG_ERROR, oe->line, oe->col, NULL,
                      "'on_error' must be hold or ignore, not '%s'", oes);
    }
    ynode *ph = ynode_get(r, "phases");
    if (ph) phase_refs(l, ph, "phases", &rule->phases, &rule->nphases);
  }
}

static void load_validation(L *l, ynode *v) {
  static const char *const keys[] = {"at", "name", "phases", "expect"};
  if (!v || !want_seq(l, v, "'validation'")) return;
  plan *p = l->p;
  p->validation = alloc(l, v->n, sizeof *p->validation);
  for (size_t i = 0; p->validation && i < v->n; i++) {
    ynode *c = v->items[i];
    if (!want_map(l, c, "a checkpoint")) continue;
    plan_checkpoint *cp = &p->validation[p->nvalidation++];
    cp->pos = pos_of(c);
    check_keys(l, c, keys, COUNT(keys), "a checkpoint");
    ynode *at = ynode_get(c, "at");
    if (!at)
      missing(l, c, "at", "a checkpoint");
    else
      cp->at = dur_of(l, at, "at", 0);
    get_str(l, c, "name", false, "a checkpoint", &cp->name);
    if (!cp->name) {
      char d[32], nm[40];
      snprintf(nm, sizeof nm, "T+%s", gg_format_duration(cp->at, d, sizeof d));
      cp->name = dup(l, nm);
    }
    ynode *ph = ynode_get(c, "phases");
    if (ph) phase_refs(l, ph, "phases", &cp->phases, &cp->nphases);
    ynode *ex = ynode_get(c, "expect");
    if (!ex) missing(l, c, "expect", "a checkpoint");
    load_criteria(l, ex, "checkpoint", &cp->items, &cp->nitems);
  }
}

static void load_references(L *l, ynode *v) {
  static const char *const keys[] = {"title", "url"};
  if (!v || !want_seq(l, v, "'references'")) return;
  plan *p = l->p;
  p->references = alloc(l, v->n, sizeof *p->references);
  for (size_t i = 0; p->references && i < v->n; i++) {
    ynode *r = v->items[i];
    plan_reference *ref = &p->references[p->nreferences];
    if (r->kind == YN_SCALAR) {
      ref->title = dup(l, r->text);
      ref->url = dup(l, r->text);
      p->nreferences++;
      continue;
    }
    if (!want_map(l, r, "a reference")) continue;
    check_keys(l, r, keys, COUNT(keys), "a reference");
    get_str(l, r, "title", true, "a reference", &ref->title);
    get_str(l, r, "url", false, "a reference", &ref->url);
    if (!ref->url) ref->url = dup(l, "");
    if (ref->title)
      p->nreferences++;
    else
      free(ref->url), ref->url = NULL;
  }
}

plan *plan_from_tree(plan_ctx *c, ynode *root) {
  static const char *const keys[] = {"migration",   "description", "connect",   "calendar", "define",
                                     "risk_matrix", "roles",       "preflight", "topology", "phases",
                                     "monitor",     "validation",  "references"};
  plan *p = calloc(1, sizeof *p);
  if (!p) return NULL;
  L l = {c, p};
  if (!want_map(&l, root, "the plan")) return p;
  check_keys(&l, root, keys, COUNT(keys), "the plan");
  get_str(&l, root, "migration", true, "the plan", &p->migration);
  if (p->migration) {
    for (const char *s = p->migration; *s; s++)
      if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_' && *s != '.') {
        perr(c, ynode_get(root, "migration"),
             "'migration' must be a name of letters, digits, '-', '_' and '.' (it names the journal file), "
             "not '%s'",
             p->migration);
        break;
      }
  } else {
    p->migration = dup(&l, "");
  }
  get_str(&l, root, "description", false, "the plan", &p->description);
  if (!p->description) p->description = dup(&l, "");
  load_connect(&l, ynode_get(root, "connect"));
  load_calendar(&l, ynode_get(root, "calendar"));
  load_defines(&l, ynode_get(root, "define"));
  plan_check_define_cycles(c, p);
  load_risk_matrix(&l, ynode_get(root, "risk_matrix"));
  load_roles(&l, ynode_get(root, "roles"));
  load_criteria(&l, ynode_get(root, "preflight"), "preflight", &p->preflight, &p->npreflight);
  load_topology(&l, ynode_get(root, "topology"));
  load_phases(&l, ynode_get(root, "phases"), root);
  load_monitor(&l, ynode_get(root, "monitor"));
  load_validation(&l, ynode_get(root, "validation"));
  load_references(&l, ynode_get(root, "references"));
  return p;
}

/* ---- entry points ---- */

static int diag_cmp(const void *a, const void *b) {
  const plan_diag *x = a, *y = b;
  if (x->line != y->line) return x->line < y->line ? -1 : 1;
  if (x->col != y->col) return x->col < y->col ? -1 : 1;
  return 0;
}

gg_status plan_load_buffer(const char *name, const char *data, size_t len, const plan_load_opts *opts,
                           plan **out, plan_diags *diags, gg_error *err) {
  *out = NULL;
  if (len > GG_BUF_PLAN_MAX)
    return gg_error_set(err, GG_ERR_TOO_BIG, "plan '%s' is %zu bytes, over the limit of %u", name, len,
                        GG_BUF_PLAN_MAX);
  free(diags->file);
  diags->file = strdup(name);
  plan_ctx c = {.diags = diags, .src = data, .src_len = len, .opts = opts};
  ynode *root = plan_tree_parse(&c, data, len);
  plan *p = NULL;
  if (root) {
    p = plan_from_tree(&c, root);
    if (p) {
      plan_tree_hash(root, p->hash);
      p->file = strdup(name);
      if (!p->file) plan_diag_add(&c, PLAN_DIAG_ERROR, 1, 1, NULL, "out of memory");
    }
    ynode_free(root);
  }
  if (diags->count > 1) qsort(diags->items, diags->count, sizeof *diags->items, diag_cmp);
  if (!p && diags->errors == 0) {
    return gg_error_set(err, GG_ERR_NOMEM, "load plan '%s': out of memory", name);
  }
  if (diags->errors) {
    plan_free(p);
    return gg_error_set(err, GG_ERR_PLAN, "plan '%s' has %zu error%s", name, diags->errors,
                        diags->errors == 1 ? "" : "s");
  }
  *out = p;
  return GG_OK;
}

gg_status plan_load_file(const char *path, const plan_load_opts *opts, plan **out, plan_diags *diags,
                         gg_error *err) {
  *out = NULL;
  FILE *f = fopen(path, "rb");
  if (!f)
    return gg_error_set(err, errno == ENOENT ? GG_ERR_NOT_FOUND : GG_ERR_IO, "cannot open plan '%s': %s",
                        path, strerror(errno));
  gg_buf b;
  gg_buf_init(&b, GG_BUF_PLAN_MAX);
  char chunk[16384];
  size_t n;
  gg_status st = GG_OK;
  while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
    if (gg_buf_append(&b, chunk, n) != GG_OK) {
      st = gg_error_set(err, GG_ERR_TOO_BIG, "plan '%s' is larger than the limit of %u bytes", path,
                        GG_BUF_PLAN_MAX);
      break;
    }
  }
  if (st == GG_OK && ferror(f))
    st = gg_error_set(err, GG_ERR_IO, "read plan '%s': %s", path, strerror(errno));
  fclose(f);
  if (st == GG_OK) st = plan_load_buffer(path, b.data ? b.data : "", b.len, opts, out, diags, err);
  gg_buf_release(&b);
  return st;
}
