/*
 * state.c: DIR/sandbox.json, the record of what `up` started: the single source of truth
 * for `down`, `status` and the node commands.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/json.h"
#include "sandbox/internal.h"

static json_t *rec_to_json(const sandbox_rec *r) {
  return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:i, s:i, s:i}", "name", r->name, "bin", r->bin,
                   "conf", r->conf, "data", r->data, "log", r->log, "marker", r->marker, "pid", r->pid,
                   "port", r->port, "cluster", r->cluster, "monitor", r->monitor);
}

static void copy_str(char *dst, size_t n, json_t *o, const char *key) {
  const char *s = json_string_value(json_object_get(o, key));
  snprintf(dst, n, "%s", s ? s : "");
}

static void rec_from_json(sandbox_rec *r, json_t *o) {
  memset(r, 0, sizeof *r);
  copy_str(r->name, sizeof r->name, o, "name");
  copy_str(r->bin, sizeof r->bin, o, "bin");
  copy_str(r->conf, sizeof r->conf, o, "conf");
  copy_str(r->data, sizeof r->data, o, "data");
  copy_str(r->log, sizeof r->log, o, "log");
  copy_str(r->marker, sizeof r->marker, o, "marker");
  r->pid = (int)json_integer_value(json_object_get(o, "pid"));
  r->port = (int)json_integer_value(json_object_get(o, "port"));
  r->cluster = (int)json_integer_value(json_object_get(o, "cluster"));
  r->monitor = (int)json_integer_value(json_object_get(o, "monitor"));
}

gg_status sandbox_state_save(const sandbox_state *s, gg_error *err) {
  json_t *nodes = json_array();
  for (int i = 0; i < s->nnodes; i++) json_array_append_new(nodes, rec_to_json(&s->nodes[i]));
  json_t *root = json_pack("{s:i, s:o, s:o, s:b}", "version", 1, "nodes", nodes, "postgres",
                           rec_to_json(&s->pg), "pg_tmp", s->pg_tmp);
  if (s->has_prom) json_object_set_new(root, "prometheus", rec_to_json(&s->prom));
  if (s->has_am) json_object_set_new(root, "alertmanager", rec_to_json(&s->am));
  if (s->secure) {
    json_t *sec =
        json_pack("{s:o, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "token_node", rec_to_json(&s->tok), "user",
                  s->user, "password", s->password, "sys_user", s->sys_user, "sys_password", s->sys_password,
                  "token", s->token, "pg_password", s->pg_password, "nkey_pub", s->nkey_pub);
    json_object_set_new(sec, "creds_node", rec_to_json(&s->cred));
    json_object_set_new(sec, "creds_account", json_string(s->creds_account));
    json_object_set_new(sec, "creds_sys_account", json_string(s->creds_sys_account));
    json_object_set_new(root, "secure", sec);
  }
  char path[SB_PATH_MAX], tmp[SB_PATH_MAX + 8];
  sandbox_path_join(path, sizeof path, s->dir, SB_STATE_FILE);
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  gg_status st = GG_OK;
  /* A secured sandbox's record holds its passwords: its owner alone may read it. */
  FILE *f = fopen(tmp, "w");
  if (f) {
    fchmod(fileno(f), 0600);
    fclose(f);
  }
  if (json_dump_file(root, tmp, JSON_INDENT(2) | JSON_SORT_KEYS) != 0 || rename(tmp, path) != 0)
    st = gg_error_set(err, GG_ERR_IO, "write '%s': %s", path, strerror(errno));
  json_decref(root);
  return st;
}

gg_status sandbox_state_load(const char *dir, sandbox_state *s, gg_error *err) {
  memset(s, 0, sizeof *s);
  snprintf(s->dir, sizeof s->dir, "%s", dir);
  char path[SB_PATH_MAX];
  sandbox_path_join(path, sizeof path, dir, SB_STATE_FILE);
  if (access(path, F_OK) != 0) return gg_error_set(err, GG_ERR_NOT_FOUND, "no sandbox in '%s'", dir);
  json_error_t je;
  json_t *root = json_load_file(path, 0, &je);
  if (!root) return gg_error_set(err, GG_ERR_JSON, "read '%s': line %d: %s", path, je.line, je.text);
  json_t *nodes = json_object_get(root, "nodes");
  size_t i;
  json_t *v;
  json_array_foreach(nodes, i, v) {
    if (s->nnodes >= SANDBOX_MAX_NODES) break;
    rec_from_json(&s->nodes[s->nnodes++], v);
  }
  rec_from_json(&s->pg, json_object_get(root, "postgres"));
  s->pg_tmp = json_is_true(json_object_get(root, "pg_tmp"));
  if ((v = json_object_get(root, "prometheus"))) {
    s->has_prom = true;
    rec_from_json(&s->prom, v);
  }
  if ((v = json_object_get(root, "alertmanager"))) {
    s->has_am = true;
    rec_from_json(&s->am, v);
  }
  if ((v = json_object_get(root, "secure"))) {
    s->secure = true;
    rec_from_json(&s->tok, json_object_get(v, "token_node"));
    rec_from_json(&s->cred, json_object_get(v, "creds_node"));
    copy_str(s->creds_account, sizeof s->creds_account, v, "creds_account");
    copy_str(s->creds_sys_account, sizeof s->creds_sys_account, v, "creds_sys_account");
    copy_str(s->user, sizeof s->user, v, "user");
    copy_str(s->password, sizeof s->password, v, "password");
    copy_str(s->sys_user, sizeof s->sys_user, v, "sys_user");
    copy_str(s->sys_password, sizeof s->sys_password, v, "sys_password");
    copy_str(s->token, sizeof s->token, v, "token");
    copy_str(s->pg_password, sizeof s->pg_password, v, "pg_password");
    copy_str(s->nkey_pub, sizeof s->nkey_pub, v, "nkey_pub");
  }
  json_decref(root);
  return GG_OK;
}
