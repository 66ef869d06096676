/*
 * load.c: load a plan from a file or a buffer: parse the YAML into a tree, type the tree into
 * the model (the section files beside this one), hash it, sort the diagnostics.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "plan/internal.h"

/* p->workdir: `workdir:` (relative to the plan's directory) or the plan's directory, made absolute,
 * so a `run:` command means the same wherever the shell that started gonogo stands. */
static void resolve_workdir(plan_loader *l, ynode *root) {
  char *given = NULL;
  plan_load_str(l, root, "workdir", false, "the plan", &given);
  const char *file = l->c->diags->file ? l->c->diags->file : "";
  const char *slash = strrchr(file, '/');
  char dir[4096];
  if (given && given[0] == '/')
    snprintf(dir, sizeof dir, "%s", given);
  else
    snprintf(dir, sizeof dir, "%.*s%s%s", slash ? (int)(slash - file) : 1, slash ? file : ".",
             given && *given ? "/" : "", given ? given : "");
  if (slash == file) snprintf(dir, sizeof dir, "/%s", given ? given : "");
  char *real = realpath(dir, NULL);
  if (!real && given)
    perr(l->c, plan_ynode_get(root, "workdir"), "workdir: '%s' (%s): %s", given, dir, strerror(errno));
  free(given);
  l->p->workdir = real;
}

plan *plan_from_tree(plan_ctx *c, ynode *root) {
  static const char *const keys[] = {"migration",  "description", "connect", "calendar",
                                     "define",     "risk_matrix", "roles",   "preflight",
                                     "topology",   "phases",      "monitor", "validation",
                                     "references", "journal",     "workdir", "rehearsal_valid_for",
                                     "rehearsal"};
  plan *p = calloc(1, sizeof *p);
  if (!p) return NULL;
  plan_loader l = {c, p};
  if (!plan_load_want_map(&l, root, "the plan")) return p;
  plan_load_check_keys(&l, root, keys, PLAN_COUNT(keys), "the plan");
  plan_load_str(&l, root, "migration", true, "the plan", &p->migration);
  if (p->migration) {
    for (const char *s = p->migration; *s; s++)
      if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_' && *s != '.') {
        perr(c, plan_ynode_get(root, "migration"),
             "'migration' must be a name of letters, digits, '-', '_' and '.' (it names the journal file), "
             "not '%s'",
             p->migration);
        break;
      }
  } else {
    p->migration = plan_load_dup(&l, "");
  }
  /* Where the journal lives; a URL may hold a password, so it is a secret (never printed). */
  plan_load_secret(&l, plan_ynode_get(root, "journal"), "journal", false, &p->journal);
  plan_load_str(&l, root, "description", false, "the plan", &p->description);
  if (!p->description) p->description = plan_load_dup(&l, "");
  resolve_workdir(&l, root);
  plan_load_connect(&l, plan_ynode_get(root, "connect"));
  plan_load_calendar(&l, plan_ynode_get(root, "calendar"));
  plan_load_defines(&l, plan_ynode_get(root, "define"));
  plan_check_define_cycles(c, p);
  plan_load_risk_matrix(&l, plan_ynode_get(root, "risk_matrix"));
  plan_load_roles(&l, plan_ynode_get(root, "roles"));
  plan_load_criteria(&l, plan_ynode_get(root, "preflight"), "preflight", &p->preflight, &p->npreflight);
  plan_load_topology(&l, plan_ynode_get(root, "topology"));
  plan_load_phases(&l, plan_ynode_get(root, "phases"), root);
  plan_load_monitor(&l, plan_ynode_get(root, "monitor"));
  plan_load_validation(&l, plan_ynode_get(root, "validation"));
  plan_load_references(&l, plan_ynode_get(root, "references"));
  plan_load_rehearsal(&l, plan_ynode_get(root, "rehearsal"));
  p->rehearsal_valid_for = plan_load_dur(&l, root, "rehearsal_valid_for", PLAN_REHEARSAL_VALID_FOR);
  if (p->rehearsal_valid_for <= 0) {
    perr(c, plan_ynode_get(root, "rehearsal_valid_for"), "'rehearsal_valid_for' must be a positive duration");
    p->rehearsal_valid_for = PLAN_REHEARSAL_VALID_FOR;
  }
  plan_check_names(c, p);
  plan_check_subjects(c, p);
  return p;
}

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
      p->values = plan_tree_values(root);
      plan_hash_keys(p, p->hash);
      p->file = strdup(name);
      if (!p->file) plan_diag_add(&c, PLAN_DIAG_ERROR, 1, 1, NULL, "out of memory");
    }
    plan_ynode_free(root);
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
