/*
 * prom.c: Prometheus and Alertmanager, when installed: their config (file_sd targets and rule
 * files under DIR/prometheus, alerts to the sandbox's Alertmanager) and starting them.
 */
#include <stdio.h>

#include "base/buf.h"
#include "sandbox/internal.h"

gg_status sandbox_prom_write_conf(const sandbox_state *s, gg_error *err) {
  char rules[SB_PATH_MAX], targets[SB_PATH_MAX], dir[SB_PATH_MAX];
  sandbox_path_join(dir, sizeof dir, s->dir, "prometheus");
  sandbox_path_join(rules, sizeof rules, dir, "rules");
  sandbox_path_join(targets, sizeof targets, dir, "targets");
  gg_status st = sandbox_make_dir(rules, err);
  if (st == GG_OK) st = sandbox_make_dir(targets, err);
  if (st != GG_OK) return st;
  gg_buf b;
  gg_buf_init(&b, 1 << 16);
  st = gg_buf_printf(&b,
                     "# written by `gonogo sandbox up`; add scrape targets as file_sd JSON in\n"
                     "# %s/*.json and rules in %s/*.yml, then POST /-/reload.\n"
                     "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                     "rule_files:\n  - \"%s/*.yml\"\n",
                     targets, rules, rules);
  if (st == GG_OK && s->has_am)
    st = gg_buf_printf(&b,
                       "alerting:\n  alertmanagers:\n    - static_configs:\n        - targets: "
                       "[\"127.0.0.1:%d\"]\n",
                       s->am.port);
  if (st == GG_OK)
    st = gg_buf_printf(&b,
                       "scrape_configs:\n  - job_name: prometheus\n    static_configs:\n"
                       "      - targets: [\"127.0.0.1:%d\"]\n"
                       "  - job_name: targets\n    file_sd_configs:\n      - files: [\"%s/*.json\"]\n"
                       "        refresh_interval: 1s\n",
                       s->prom.port, targets);
  if (st == GG_OK) st = sandbox_write_file(s->prom.conf, gg_buf_str(&b), err);
  gg_buf_release(&b);
  return st;
}

gg_status sandbox_am_write_conf(const sandbox_state *s, gg_error *err) {
  return sandbox_write_file(
      s->am.conf,
      "# written by `gonogo sandbox up`\n"
      "route:\n  receiver: default\n  group_wait: 1s\n  group_interval: 1s\n  repeat_interval: 1h\n"
      "receivers:\n  - name: default\n",
      err);
}

gg_status sandbox_prom_spawn(sandbox_state *s, gg_error *err) {
  sandbox_rec *r = &s->prom;
  char cfg[SB_PATH_MAX + 20], store[SB_PATH_MAX + 24], listen[64];
  snprintf(cfg, sizeof cfg, "--config.file=%s", r->conf);
  snprintf(store, sizeof store, "--storage.tsdb.path=%s", r->data);
  snprintf(listen, sizeof listen, "--web.listen-address=127.0.0.1:%d", r->port);
  char *argv[] = {r->bin, cfg, store, listen, "--web.enable-lifecycle", NULL};
  return sandbox_spawn_daemon(argv, r->log, false, &r->pid, err);
}

gg_status sandbox_am_spawn(sandbox_state *s, gg_error *err) {
  sandbox_rec *r = &s->am;
  char cfg[SB_PATH_MAX + 20], store[SB_PATH_MAX + 20], listen[64];
  snprintf(cfg, sizeof cfg, "--config.file=%s", r->conf);
  snprintf(store, sizeof store, "--storage.path=%s", r->data);
  snprintf(listen, sizeof listen, "--web.listen-address=127.0.0.1:%d", r->port);
  char *argv[] = {r->bin, cfg, store, listen, "--cluster.listen-address=", NULL};
  return sandbox_spawn_daemon(argv, r->log, false, &r->pid, err);
}
