/*
 * sections.c: the small top-level sections: `calendar:`, `define:`, `risk_matrix:`, `roles:` and
 * `references:`.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan/internal.h"

/* A list of dates or ranges (holidays, freeze), each checked where it is written. */
static void load_dates(plan_loader *l, const ynode *v, const char *key, char ***out, size_t *n) {
  const ynode *h = plan_ynode_get(v, key);
  plan_load_strlist(l, h, key, false, out, n);
  for (size_t i = 0; i < *n; i++) {
    int first = 0, last = 0;
    gg_error e;
    gg_error_clear(&e);
    if (expr_calendar_parse_dates((*out)[i], &first, &last, &e) != GG_OK) {
      const ynode *at = h->kind == YN_SEQ && i < h->n ? h->items[i] : h;
      plan_diag_add(l->c, PLAN_DIAG_ERROR, at->line, at->col, "write 2026-12-24 or 2026-12-18..2027-01-04",
                    "calendar.%s: %s", key, gg_error_message(&e));
    }
  }
}

/* A window spec at `at`, checked here so a typo fails `validate`, not a 3 a.m. check. */
static void check_window(plan_loader *l, const ynode *at, const char *spec, const char *what) {
  expr_window *w = NULL;
  int pos = 0;
  gg_error e;
  gg_error_clear(&e);
  if (expr_window_parse(spec, &w, &pos, &e) != GG_OK && at)
    plan_diag_add(l->c, PLAN_DIAG_ERROR, at->line, at->col + (at->quoted ? 1 : 0) + (pos > 0 ? pos - 1 : 0),
                  NULL, "%s: %s", what, gg_error_message(&e));
  expr_window_free(w);
}

static void load_windows(plan_loader *l, const ynode *v, plan_calendar *cal) {
  const ynode *ws = plan_ynode_get(v, "windows");
  if (!ws || !plan_load_want_map(l, ws, "'calendar.windows'")) return;
  cal->window_names = plan_load_alloc(l, ws->n, sizeof *cal->window_names);
  cal->window_specs = plan_load_alloc(l, ws->n, sizeof *cal->window_specs);
  for (size_t i = 0; cal->window_names && cal->window_specs && i < ws->n; i++) {
    const ynode *k = ws->items[2 * i], *sv = ws->items[2 * i + 1];
    const char *spec = plan_load_scalar(l, sv, k->text);
    if (!spec) continue;
    char what[160];
    snprintf(what, sizeof what, "calendar window '%s'", k->text);
    check_window(l, sv, spec, what);
    cal->window_names[cal->nwindows] = plan_load_dup(l, k->text);
    cal->window_specs[cal->nwindows++] = plan_load_dup(l, spec);
  }
}

void plan_load_calendar(plan_loader *l, ynode *v) {
  static const char *const keys[] = {"timezone", "holidays", "off_hours", "freeze", "windows"};
  plan_calendar *cal = &l->p->calendar;
  if (v && plan_load_want_map(l, v, "'calendar'")) {
    plan_load_check_keys(l, v, keys, PLAN_COUNT(keys), "calendar");
    plan_load_str(l, v, "timezone", false, "calendar", &cal->timezone);
    plan_load_str(l, v, "off_hours", false, "calendar", &cal->off_hours);
    load_dates(l, v, "holidays", &cal->holidays, &cal->nholidays);
    load_dates(l, v, "freeze", &cal->freezes, &cal->nfreezes);
    if (cal->off_hours) check_window(l, plan_ynode_get(v, "off_hours"), cal->off_hours, "off_hours");
    load_windows(l, v, cal);
  }
  if (!cal->timezone) cal->timezone = plan_load_dup(l, "UTC");
}

void plan_load_defines(plan_loader *l, ynode *v) {
  if (!v || !plan_load_want_map(l, v, "'define'")) return;
  l->p->defines = plan_load_alloc(l, v->n, sizeof *l->p->defines);
  for (size_t i = 0; l->p->defines && i < v->n; i++) {
    ynode *k = v->items[2 * i];
    plan_define *d = &l->p->defines[l->p->ndefines++];
    d->name = plan_load_dup(l, k->text);
    const char *s = k->text;
    bool ok = *s && (isalpha((unsigned char)*s) || *s == '_');
    for (; ok && *s; s++) ok = isalnum((unsigned char)*s) || *s == '_' || *s == '.';
    if (!ok) perr(l->c, k, "define name '%s' must be an identifier (letters, digits, '_', '.')", k->text);
    plan_load_expr_of(l, v->items[2 * i + 1], k->text, &d->expr);
  }
}

void plan_load_risk_matrix(plan_loader *l, ynode *v) {
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
  if (!plan_load_want_map(l, v, "'risk_matrix'")) return;
  plan_load_check_keys(l, v, probs, PLAN_COUNT(probs), "risk_matrix (rows are probabilities)");
  l->p->risk_matrix.is_default = false;
  for (int p = 0; p < PLAN_PROBABILITY_LEVELS; p++) {
    ynode *row = plan_ynode_get(v, probs[p]);
    if (!row || !plan_load_want_map(l, row, "a risk_matrix row")) continue;
    plan_load_check_keys(l, row, impacts, PLAN_COUNT(impacts), "a risk_matrix row (keys are impacts)");
    for (int i = 0; i < PLAN_IMPACT_LEVELS; i++) {
      plan_level lv;
      if (plan_load_level(l, row, impacts[i], PLAN_LEVEL_CRITICAL, false, "", &lv))
        l->p->risk_matrix.cell[p][i] = lv;
    }
  }
}

/* The file a key path names: as written when absolute, else beside the plan. You own it. */
static char *key_file(plan_loader *l, const char *path) {
  const char *plan_file = l->c->diags && l->c->diags->file ? l->c->diags->file : "";
  const char *slash = strrchr(plan_file, '/');
  if (path[0] == '/' || !slash) return plan_load_dup(l, path);
  size_t dn = (size_t)(slash - plan_file), pn = strlen(path);
  char *f = plan_load_alloc(l, dn + pn + 2, 1);
  if (f) {
    memcpy(f, plan_file, dn);
    f[dn] = '/';
    memcpy(f + dn + 1, path, pn + 1);
  }
  return f;
}

/* A role's `keys:`: PEM files of Ed25519 public keys, each read now so a missing or wrong file
 * fails `validate`, not an approval. */
static void load_role_keys(plan_loader *l, const ynode *role, plan_role *r) {
  const ynode *v = plan_ynode_get(role, "keys");
  if (!v || (v->kind == YN_SCALAR && v->is_null)) return;
  if (v->kind != YN_SEQ) {
    perr(l->c, v, "role '%s': 'keys' must be a list of public key files ([keys/alice.pub])", r->name);
    return;
  }
  if (v->n == 0)
    perr(l->c, v, "role '%s': 'keys' is empty (list the public key files, or leave it out)", r->name);
  r->keys = plan_load_alloc(l, v->n, sizeof *r->keys);
  for (size_t i = 0; r->keys && i < v->n; i++) {
    const ynode *it = v->items[i];
    const char *path = plan_load_scalar(l, it, "a key file");
    if (!path) continue;
    if (!path[0]) {
      perr(l->c, it, "role '%s': a key file name is empty", r->name);
      continue;
    }
    plan_key *k = &r->keys[r->nkeys++];
    k->path = plan_load_dup(l, path);
    k->file = key_file(l, path);
    k->pos = plan_load_pos(it);
    if (!k->path || !k->file) continue;
    gg_error e;
    gg_error_clear(&e);
    if (gg_sigkey_load_public(k->file, k->pub, &e) != GG_OK) {
      perr(l->c, it, "role '%s': %s", r->name, gg_error_message(&e));
      continue;
    }
    for (size_t j = 0; j + 1 < r->nkeys; j++)
      if (memcmp(r->keys[j].pub, k->pub, sizeof k->pub) == 0)
        perr(l->c, it, "role '%s': key '%s' is the same key as '%s'", r->name, k->path, r->keys[j].path);
  }
}

void plan_load_roles(plan_loader *l, ynode *v) {
  static const char *const keys[] = {"id", "title", "optional", "keys"};
  if (!v || !plan_load_want_seq(l, v, "'roles'")) return;
  l->p->roles = plan_load_alloc(l, v->n, sizeof *l->p->roles);
  for (size_t i = 0; l->p->roles && i < v->n; i++) {
    ynode *it = v->items[i];
    if (!plan_load_want_map(l, it, "a role")) continue;
    plan_load_check_keys(l, it, keys, PLAN_COUNT(keys), "a role");
    plan_role r = {0};
    plan_load_str(l, it, "id", true, "a role", &r.name);
    if (!r.name) continue;
    plan_load_str(l, it, "title", false, "a role", &r.title);
    if (!r.title) r.title = plan_load_dup(l, r.name);
    r.optional = plan_load_bool(l, it, "optional", false);
    r.pos = plan_load_pos(it);
    load_role_keys(l, it, &r);
    if (plan_find_role(l->p, r.name)) perr(l->c, it, "duplicate role '%s'", r.name);
    l->p->roles[l->p->nroles++] = r;
  }
}

void plan_load_references(plan_loader *l, ynode *v) {
  static const char *const keys[] = {"title", "url"};
  if (!v || !plan_load_want_seq(l, v, "'references'")) return;
  plan *p = l->p;
  p->references = plan_load_alloc(l, v->n, sizeof *p->references);
  for (size_t i = 0; p->references && i < v->n; i++) {
    ynode *r = v->items[i];
    plan_reference *ref = &p->references[p->nreferences];
    if (r->kind == YN_SCALAR) {
      ref->title = plan_load_dup(l, r->text);
      ref->url = plan_load_dup(l, r->text);
      p->nreferences++;
      continue;
    }
    if (!plan_load_want_map(l, r, "a reference")) continue;
    plan_load_check_keys(l, r, keys, PLAN_COUNT(keys), "a reference");
    plan_load_str(l, r, "title", true, "a reference", &ref->title);
    plan_load_str(l, r, "url", false, "a reference", &ref->url);
    if (!ref->url) ref->url = plan_load_dup(l, "");
    if (ref->title)
      p->nreferences++;
    else
      free(ref->url), ref->url = NULL;
  }
}

/* ---- rehearsal: what `gonogo rehearse` starts and counts ------------------------------------ */

static void load_service_env(plan_loader *l, const ynode *v, plan_rehearsal_service *s, const char *where) {
  if (!v || !plan_load_want_map(l, v, "'env'")) return;
  s->env_names = plan_load_alloc(l, v->n, sizeof *s->env_names);
  s->env_values = plan_load_alloc(l, v->n, sizeof *s->env_values);
  for (size_t i = 0; s->env_names && s->env_values && i < v->n; i++) {
    const ynode *k = v->items[2 * i], *val = v->items[2 * i + 1];
    const char *name = plan_load_scalar(l, k, "an env name");
    const char *text = plan_load_scalar(l, val, "an env value");
    if (!name || !text) continue;
    bool ok = *name && !isdigit((unsigned char)*name);
    for (const char *c = name; ok && *c; c++) ok = isalnum((unsigned char)*c) || *c == '_';
    if (!ok) {
      perr(l->c, k, "%s: env name '%s' is not a variable name (letters, digits, '_')", where, name);
      continue;
    }
    s->env_names[s->nenv] = plan_load_dup(l, name);
    s->env_values[s->nenv++] = plan_load_dup(l, text);
  }
}

static void load_service(plan_loader *l, ynode *v, plan_rehearsal *r) {
  static const char *const keys[] = {"name", "run", "ready", "ready_timeout", "env"};
  if (!plan_load_want_map(l, v, "a rehearsal service")) return;
  plan_rehearsal_service *s = &r->services[r->nservices++];
  s->pos = plan_load_pos(v);
  plan_load_str(l, v, "name", true, "a rehearsal service", &s->name);
  char where[200];
  snprintf(where, sizeof where, "rehearsal service '%s'", s->name ? s->name : "?");
  plan_load_check_keys(l, v, keys, PLAN_COUNT(keys), where);
  bool named = s->name && *s->name && strlen(s->name) < 32;
  for (const char *c = s->name; named && *c; c++) named = isalnum((unsigned char)*c) || strchr("-_.", *c);
  if (s->name && (!named || s->name[0] == '.'))
    perr(l->c, plan_ynode_get(v, "name"),
         "%s: a name must be up to 31 letters, digits, '-', '_' and '.' (it names its log file)", where);
  for (size_t i = 0; s->name && i + 1 < r->nservices; i++)
    if (r->services[i].name && strcmp(r->services[i].name, s->name) == 0)
      perr(l->c, plan_ynode_get(v, "name"), "%s is named twice in rehearsal.services", where);
  plan_load_str(l, v, "run", true, where, &s->run);
  if (s->run && !*s->run) perr(l->c, plan_ynode_get(v, "run"), "%s: 'run' is empty", where);
  ynode *ready = plan_ynode_get(v, "ready");
  const char *rt = ready ? plan_load_scalar(l, ready, "ready") : NULL;
  if (!ready)
    plan_load_missing(l, v, "ready", where);
  else if (rt && (strncmp(rt, "http://", 7) == 0 || strncmp(rt, "https://", 8) == 0))
    s->ready_url = plan_load_dup(l, rt);
  else if (rt)
    plan_load_expr_of(l, ready, "ready", &s->ready);
  s->ready_timeout = plan_load_dur(l, v, "ready_timeout", PLAN_REHEARSAL_READY_TIMEOUT);
  if (s->ready_timeout <= 0 || s->ready_timeout > PLAN_REHEARSAL_READY_TIMEOUT_MAX)
    perr(l->c, plan_ynode_get(v, "ready_timeout"),
         "%s: 'ready_timeout' must be a duration above 0 and at most 30m", where);
  load_service_env(l, plan_ynode_get(v, "env"), s, where);
}

void plan_load_rehearsal(plan_loader *l, ynode *v) {
  static const char *const keys[] = {"services", "publish", "consumed"};
  static const char *const pkeys[] = {"url", "body"};
  static const char *const ckeys[] = {"db", "sql"};
  plan_rehearsal *r = &l->p->rehearsal;
  if (!v || !plan_load_want_map(l, v, "'rehearsal'")) return;
  plan_load_check_keys(l, v, keys, PLAN_COUNT(keys), "rehearsal");
  ynode *ss = plan_ynode_get(v, "services");
  if (ss && plan_load_want_seq(l, ss, "'rehearsal.services'")) {
    if (ss->n == 0) perr(l->c, ss, "'rehearsal.services' is empty (leave it out for the reference services)");
    r->services = plan_load_alloc(l, ss->n, sizeof *r->services);
    for (size_t i = 0; r->services && i < ss->n; i++) load_service(l, ss->items[i], r);
  }
  ynode *pub = plan_ynode_get(v, "publish");
  if (pub && plan_load_want_map(l, pub, "'rehearsal.publish'")) {
    plan_load_check_keys(l, pub, pkeys, PLAN_COUNT(pkeys), "rehearsal.publish");
    plan_load_str(l, pub, "url", true, "rehearsal.publish", &r->publish_url);
    if (r->publish_url && strncmp(r->publish_url, "http://", 7) != 0 &&
        strncmp(r->publish_url, "https://", 8) != 0)
      perr(l->c, plan_ynode_get(pub, "url"),
           "rehearsal.publish: 'url' must be an http:// or https:// URL, not '%s'", r->publish_url);
    plan_load_str(l, pub, "body", false, "rehearsal.publish", &r->publish_body);
    if (r->publish_body && !strstr(r->publish_body, "{{id}}"))
      perr(l->c, plan_ynode_get(pub, "body"),
           "rehearsal.publish: 'body' must contain {{id}} (each message's unique id, which consumed.sql "
           "returns)");
  }
  ynode *con = plan_ynode_get(v, "consumed");
  if (con && plan_load_want_map(l, con, "'rehearsal.consumed'")) {
    plan_load_check_keys(l, con, ckeys, PLAN_COUNT(ckeys), "rehearsal.consumed");
    plan_load_str(l, con, "db", false, "rehearsal.consumed", &r->consumed_db);
    plan_load_str(l, con, "sql", true, "rehearsal.consumed", &r->consumed_sql);
    bool found = !r->consumed_db;
    for (size_t i = 0; !found && i < l->p->connect.ndatabases; i++)
      found = strcmp(l->p->connect.databases[i].name, r->consumed_db) == 0;
    if (!found)
      perr(l->c, plan_ynode_get(con, "db"),
           "rehearsal.consumed: database '%s' is not declared in connect.databases", r->consumed_db);
  }
}
