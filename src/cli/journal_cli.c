/* Helpers shared by the journal verbs; see journal_cli.h. */
#include "cli/journal_cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

/* The longest passphrase read from a file. */
#define JCLI_PASSPHRASE_MAX 1024

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

/* The first line of path into buf; the error (printed) names the file, never its content. */
static int read_passphrase(const char *path, char *buf, size_t n) {
  FILE *f = fopen(path, "r");
  if (!f) return cli_fail(CLI_EXIT_USAGE, "key passphrase file '%s': %s", path, strerror(errno));
  bool got = fgets(buf, (int)n, f) != NULL;
  fclose(f);
  if (!got) return cli_fail(CLI_EXIT_USAGE, "key passphrase file '%s' is empty", path);
  buf[strcspn(buf, "\r\n")] = '\0';
  return -1;
}

int jcli_signing_key(const char *key_opt, const char *passfile_opt, gg_sigkey **out) {
  *out = NULL;
  const char *path = key_opt && key_opt[0] ? key_opt : getenv("GONOGO_SIGNING_KEY");
  if (!path || !path[0]) {
    if (key_opt) return cli_fail(CLI_EXIT_USAGE, "--key: no file named");
    return -1;
  }
  char pass[JCLI_PASSPHRASE_MAX];
  const char *passphrase = NULL;
  int rc = -1;
  if (passfile_opt) {
    rc = read_passphrase(passfile_opt, pass, sizeof pass);
    passphrase = pass;
  } else {
    passphrase = getenv("GONOGO_SIGNING_KEY_PASSPHRASE");
    if (passphrase && !passphrase[0]) passphrase = NULL;
  }
  if (rc < 0) {
    gg_error err;
    gg_error_clear(&err);
    if (gg_sigkey_load(path, passphrase,
                       "set GONOGO_SIGNING_KEY_PASSPHRASE or give --key-passphrase-file FILE", out,
                       &err) != GG_OK)
      rc = cli_fail_error(CLI_EXIT_USAGE, &err);
  }
  explicit_bzero(pass, sizeof pass);
  return rc;
}

const char *jcli_signed_note(const gg_sigkey *key, char *buf, size_t n) {
  if (!key) {
    if (n) buf[0] = '\0';
    return buf;
  }
  unsigned char pub[GG_SIGKEY_PUBLIC_LEN];
  char b64[4 * ((GG_SIGKEY_PUBLIC_LEN + 2) / 3) + 1];
  gg_sigkey_public(key, pub);
  snprintf(buf, n, "; signed with '%s' (public key %s)", gg_sigkey_path(key),
           gg_base64_encode(pub, sizeof pub, b64, sizeof b64));
  return buf;
}

int jcli_role_signing_key(const plan *p, const char *role_id, const char *what, const char *key_opt,
                          const char *passfile_opt, gg_sigkey **out) {
  int rc = jcli_signing_key(key_opt, passfile_opt, out);
  if (rc >= 0) return rc;
  const plan_role *role = role_id ? plan_find_role(p, role_id) : NULL;
  if (!role || role->nkeys == 0) return -1;
  char listed[512] = "";
  size_t used = 0;
  for (size_t i = 0; i < role->nkeys && used < sizeof listed; i++) {
    int w = snprintf(listed + used, sizeof listed - used, "%s%s", i ? ", " : "", role->keys[i].path);
    if (w < 0) break;
    used += (size_t)w;
  }
  if (!*out)
    return cli_fail(CLI_EXIT_USAGE,
                    "role '%s' lists keys (%s): an unsigned %s would not count; sign it with --key FILE or "
                    "GONOGO_SIGNING_KEY",
                    role_id, listed, what);
  unsigned char pub[GG_SIGKEY_PUBLIC_LEN];
  gg_sigkey_public(*out, pub);
  if (plan_role_key(role, pub)) return -1;
  rc = cli_fail(CLI_EXIT_USAGE, "signing key '%s' is not one role '%s' lists (%s): its %s would not count",
                gg_sigkey_path(*out), role_id, listed, what);
  gg_sigkey_free(*out);
  *out = NULL;
  return rc;
}
