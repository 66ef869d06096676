/* Helpers shared by the journal verbs; see journal_cli.h. */
#include "cli/journal_cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

int jcli_load_plan(const char *path, plan **out, size_t *warnings) {
  *out = NULL;
  if (warnings) *warnings = 0;
  plan_diags diags;
  plan_diags_init(&diags);
  gg_error err;
  gg_error_clear(&err);
  gg_status st = plan_load_file(path, NULL, out, &diags, &err);
  for (size_t i = 0; i < diags.count; i++) {
    char *text = plan_diag_format(&diags, &diags.items[i]);
    if (text) fputs(text, stderr);
    free(text);
  }
  if (warnings) *warnings = diags.warnings;
  plan_diags_release(&diags);
  if (st != GG_OK) return cli_fail_error(CLI_EXIT_USAGE, &err);
  return -1;
}

int jcli_open_journal(const plan *p, const char *plan_path, const char *override, int flags, bool missing_ok,
                      journal **out) {
  *out = NULL;
  gg_error err;
  gg_error_clear(&err);
  char *path = NULL;
  const char *planned = gg_secret_present(&p->journal) ? gg_secret_reveal(&p->journal) : NULL;
  if (override) {
    path = strdup(override);
    if (!path) return cli_fail(CLI_EXIT_FAIL, "out of memory");
  } else if (planned && (strstr(planned, "://") || !strchr(plan_path, '/') ||
                         (strncmp(planned, "sqlite:", 7) == 0 ? planned[7] : planned[0]) == '/')) {
    path = strdup(planned);
    if (!path) return cli_fail(CLI_EXIT_FAIL, "out of memory");
  } else if (planned) {
    /* A relative `journal:` path is relative to the plan, as the default is. */
    const char *rel = strncmp(planned, "sqlite:", 7) == 0 ? planned + 7 : planned;
    int dirlen = (int)(strrchr(plan_path, '/') - plan_path);
    size_t n = (size_t)dirlen + strlen(rel) + 2;
    path = malloc(n);
    if (!path) return cli_fail(CLI_EXIT_FAIL, "out of memory");
    snprintf(path, n, "%.*s/%s", dirlen, plan_path, rel);
  } else if (journal_default_path(plan_path, p->migration, &path, &err) != GG_OK) {
    return cli_fail_error(CLI_EXIT_USAGE, &err);
  }
  gg_status st = journal_open(path, flags, out, &err);
  free(path);
  if (st == GG_ERR_NOT_FOUND && missing_ok) return -1;
  /* An unreachable journal database is bad input (a wrong URL, a server down): exit 3, nothing done. */
  if (st != GG_OK)
    return cli_fail_error(st == GG_ERR_UNSUPPORTED || st == GG_ERR_CONNECT ? CLI_EXIT_USAGE : CLI_EXIT_FAIL,
                          &err);
  return -1;
}

int jcli_open_phase(const char *plan_path, const char *phase, const char *override, plan **p,
                    const plan_phase **ph, journal **j) {
  if (ph) *ph = NULL;
  *j = NULL;
  int rc = jcli_load_plan(plan_path, p, NULL);
  if (rc >= 0) return rc;
  const plan_phase *found = jcli_find_phase(*p, phase);
  if (!found) {
    rc = CLI_EXIT_USAGE;
  } else {
    rc = jcli_open_journal(*p, plan_path, override, JOURNAL_OPEN_CREATE, false, j);
    if (rc < 0) {
      if (ph) *ph = found;
      return -1;
    }
  }
  plan_free(*p);
  *p = NULL;
  return rc;
}

const plan_phase *jcli_find_phase(const plan *p, const char *id) {
  const plan_phase *ph = id ? plan_find_phase(p, id) : NULL;
  if (ph) return ph;
  char list[512] = "";
  size_t used = 0;
  for (size_t i = 0; i < p->nphases && used < sizeof list; i++) {
    int w = snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "", p->phases[i].id);
    if (w < 0) break;
    used += (size_t)w;
  }
  if (!id)
    cli_fail(CLI_EXIT_USAGE, "--phase is required (phases: %s)", list);
  else
    cli_fail(CLI_EXIT_USAGE, "plan '%s' has no phase '%s' (phases: %s)", p->file, id, list);
  return NULL;
}

const plan_criterion *jcli_find_attest(const plan *p, const plan_phase *ph, const char *item) {
  for (size_t i = 0; i < ph->ngo; i++)
    if (ph->go[i].kind == PLAN_CRIT_ATTEST && strcmp(ph->go[i].attest, item) == 0) return &ph->go[i];
  for (size_t i = 0; i < p->npreflight; i++)
    if (p->preflight[i].kind == PLAN_CRIT_ATTEST && strcmp(p->preflight[i].attest, item) == 0)
      return &p->preflight[i];
  return NULL;
}
