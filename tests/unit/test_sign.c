/* Unit tests of signed sign-offs: Ed25519 PEM keys (base/sigkey.c), the signed text and the
 * signature check of an event (journal/sign.c), and a role's keys: in the plan. Keys are made
 * here with libcrypto, in a temp dir. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/sigkey.h"
#include "journal/sign.h"
#include "plan/plan.h"

static char dir[64];

static void path_of(const char *name, char *out, size_t n) {
  snprintf(out, n, "%s/%s", dir, name);
}

/* Write a new key of `alg` ("ED25519", "RSA") as a private PEM (encrypted with pass when not
 * NULL) to NAME, and its public half to NAME.pub. */
static void make_key(const char *alg, const char *name, const char *pass) {
  EVP_PKEY *k = strcmp(alg, "RSA") == 0 ? EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024)
                                        : EVP_PKEY_Q_keygen(NULL, NULL, alg);
  assert_non_null(k);
  char p[160], pub[170];
  path_of(name, p, sizeof p);
  snprintf(pub, sizeof pub, "%s.pub", p);
  FILE *f = fopen(p, "w");
  assert_non_null(f);
  assert_int_equal(PEM_write_PrivateKey(f, k, pass ? EVP_aes_256_cbc() : NULL, (const unsigned char *)pass,
                                        pass ? (int)strlen(pass) : 0, NULL, NULL),
                   1);
  fclose(f);
  f = fopen(pub, "w");
  assert_non_null(f);
  assert_int_equal(PEM_write_PUBKEY(f, k), 1);
  fclose(f);
  EVP_PKEY_free(k);
}

static int setup(void **state) {
  (void)state;
  snprintf(dir, sizeof dir, "/tmp/gg-test-sign-XXXXXX");
  if (!mkdtemp(dir)) return -1;
  make_key("ED25519", "alice.pem", NULL);
  make_key("ED25519", "mallory.pem", NULL);
  make_key("ED25519", "enc.pem", "sekrit");
  make_key("RSA", "rsa.pem", NULL);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  return system(cmd) == 0 ? 0 : -1;
}

static gg_sigkey *load(const char *name, const char *pass, gg_status want, const char *msg) {
  char p[160];
  path_of(name, p, sizeof p);
  gg_sigkey *k = NULL;
  gg_error err;
  gg_error_clear(&err);
  gg_status st = gg_sigkey_load(p, pass, "set THE_PASSPHRASE", &k, &err);
  if (st != want) fail_msg("load %s: %s (%s)", name, gg_status_name(st), gg_error_message(&err));
  if (msg && !strstr(gg_error_message(&err), msg))
    fail_msg("load %s: '%s' does not say '%s'", name, gg_error_message(&err), msg);
  if (msg && !strstr(gg_error_message(&err), p))
    fail_msg("'%s' does not name the file", gg_error_message(&err));
  if (pass && want != GG_OK && strstr(gg_error_message(&err), pass)) fail_msg("the passphrase was printed");
  return k;
}

static void test_key_loading_refusals(void **state) {
  (void)state;
  assert_null(load("missing.pem", NULL, GG_ERR_NOT_FOUND, "no such file"));
  assert_null(load("rsa.pem", NULL, GG_ERR_INVALID, "is not an Ed25519 key (it is RSA)"));
  assert_null(
      load("enc.pem", NULL, GG_ERR_STATE, "is encrypted and no passphrase was given: set THE_PASSPHRASE"));
  assert_null(load("enc.pem", "wrong", GG_ERR_PARSE, "the passphrase does not open it"));
  assert_null(load("alice.pem.pub", NULL, GG_ERR_INVALID, "holds a public key"));
  char p[160];
  path_of("garbage.pem", p, sizeof p);
  FILE *f = fopen(p, "w");
  fputs("not a key\n", f);
  fclose(f);
  assert_null(load("garbage.pem", NULL, GG_ERR_INVALID, "is not a PEM private key"));
  gg_sigkey *k = load("enc.pem", "sekrit", GG_OK, NULL);
  assert_non_null(k);
  /* The key opened is the one whose public half was written beside it. */
  unsigned char a[GG_SIGKEY_PUBLIC_LEN], b[GG_SIGKEY_PUBLIC_LEN];
  gg_sigkey_public(k, a);
  path_of("enc.pem.pub", p, sizeof p);
  gg_error err;
  gg_error_clear(&err);
  assert_int_equal(gg_sigkey_load_public(p, b, &err), GG_OK);
  assert_memory_equal(a, b, sizeof a);
  gg_sigkey_free(k);

  /* Public keys: a private key, an RSA key and a missing file are refused, naming the file. */
  path_of("alice.pem", p, sizeof p);
  assert_int_equal(gg_sigkey_load_public(p, b, &err), GG_ERR_INVALID);
  assert_non_null(strstr(gg_error_message(&err), "holds a private key"));
  path_of("rsa.pem.pub", p, sizeof p);
  assert_int_equal(gg_sigkey_load_public(p, b, &err), GG_ERR_INVALID);
  assert_non_null(strstr(gg_error_message(&err), "is not an Ed25519 key (it is RSA)"));
  path_of("none.pub", p, sizeof p);
  assert_int_equal(gg_sigkey_load_public(p, b, &err), GG_ERR_NOT_FOUND);
  assert_non_null(strstr(gg_error_message(&err), p));
}

static void test_base64_exact(void **state) {
  (void)state;
  unsigned char raw[32], back[32];
  for (int i = 0; i < 32; i++) raw[i] = (unsigned char)(i * 37 + 1);
  char text[48];
  gg_base64_encode(raw, sizeof raw, text, sizeof text);
  assert_int_equal(strlen(text), 44);
  assert_true(gg_base64_decode_exact(text, back, sizeof back));
  assert_memory_equal(raw, back, sizeof raw);
  assert_false(gg_base64_decode_exact(text, back, 31)); /* wrong length */
  char bad[48];
  snprintf(bad, sizeof bad, "%s", text);
  bad[3] = '*';
  assert_false(gg_base64_decode_exact(bad, back, sizeof back));
  /* The last character before '=' carries 2 unused bits: another value of them is another text
   * for the same bytes, and is refused, so one signature has one text. */
  snprintf(bad, sizeof bad, "%s", text);
  bad[42] = bad[42] == 'A' ? 'B' : (char)(bad[42] + 1);
  assert_false(gg_base64_decode_exact(bad, back, sizeof back));
  assert_false(gg_base64_decode_exact(NULL, back, sizeof back));
}

static void test_signed_text_is_canonical(void **state) {
  (void)state;
  json_t *c =
      json_pack("{s:s, s:s, s:{s:s}}", "role", "platform-lead", "decision", "go", "signature", "sig", "x");
  char *t = journal_sign_text("approval", "1", "alice", "athlete-ally", c, 1700000000123LL);
  assert_string_equal(t,
                      "{\"actor\":\"alice\",\"content\":{\"decision\":\"go\",\"role\":\"platform-lead\"},"
                      "\"kind\":\"approval\",\"migration\":\"athlete-ally\",\"phase\":\"1\","
                      "\"signed_at_ms\":1700000000123}");
  free(t);
  /* The signature member was left out of the text, not out of the content. */
  assert_non_null(json_object_get(c, "signature"));
  t = journal_sign_text("mark", NULL, "bob", "m", NULL, 5);
  assert_string_equal(
      t,
      "{\"actor\":\"bob\",\"content\":{},\"kind\":\"mark\",\"migration\":\"m\",\"phase\":null,"
      "\"signed_at_ms\":5}");
  free(t);
  json_decref(c);
}

/* An event as the journal would return it, with content c. */
static journal_event event_of(const char *kind, const char *phase, const char *actor, json_t *c,
                              double time) {
  journal_event ev = {.seq = 7, .time = time};
  ev.kind = (char *)kind;
  ev.phase = (char *)phase;
  ev.actor = (char *)actor;
  ev.content = journal_canonical(c);
  return ev;
}

static journal_sig_state check(const char *kind, const char *phase, const char *actor, const char *migration,
                               json_t *c, double time, const char *why) {
  journal_event ev = event_of(kind, phase, actor, c, time);
  journal_sig_check r;
  journal_signature_check(&ev, migration, &r);
  free(ev.content);
  if (why && !strstr(r.why, why)) fail_msg("'%s' does not say '%s'", r.why, why);
  return r.state;
}

static void test_sign_and_check(void **state) {
  (void)state;
  gg_sigkey *alice = load("alice.pem", NULL, GG_OK, NULL), *mallory = load("mallory.pem", NULL, GG_OK, NULL);
  gg_error err;
  gg_error_clear(&err);
  json_t *c = json_pack("{s:s, s:s, s:s}", "role", "platform-lead", "decision", "go", "plan_hash", "abc");
  double now = gg_clock_now();
  assert_int_equal(check("approval", "1", "alice", "m", c, now, NULL), JOURNAL_SIG_NONE);
  assert_int_equal(journal_sign_content(alice, JOURNAL_APPROVAL, "1", "alice", "m", c, &err), GG_OK);
  json_t *s = json_object_get(c, "signature");
  assert_string_equal(json_string_value(json_object_get(s, "alg")), "ed25519");
  unsigned char pub[GG_SIGKEY_PUBLIC_LEN];
  char pub64[48];
  gg_sigkey_public(alice, pub);
  assert_string_equal(json_string_value(json_object_get(s, "public_key")),
                      gg_base64_encode(pub, sizeof pub, pub64, sizeof pub64));

  assert_int_equal(check("approval", "1", "alice", "m", c, now, NULL), JOURNAL_SIG_GOOD);
  /* Each signed part changed: kind, phase, actor, migration, a content member. */
  assert_int_equal(check("attestation", "1", "alice", "m", c, now, "does not verify"), JOURNAL_SIG_BAD);
  assert_int_equal(check("approval", "2", "alice", "m", c, now, "does not verify"), JOURNAL_SIG_BAD);
  assert_int_equal(check("approval", NULL, "alice", "m", c, now, "does not verify"), JOURNAL_SIG_BAD);
  assert_int_equal(check("approval", "1", "mallory", "m", c, now, "does not verify"), JOURNAL_SIG_BAD);
  assert_int_equal(check("approval", "1", "alice", "other", c, now, "does not verify"), JOURNAL_SIG_BAD);
  json_t *edited = json_deep_copy(c);
  json_object_set_new(edited, "decision", json_string("no-go"));
  assert_int_equal(check("approval", "1", "alice", "m", edited, now, "does not verify"), JOURNAL_SIG_BAD);
  /* A member added after signing is an edit too. */
  json_object_set_new(edited, "decision", json_string("go"));
  json_object_set_new(edited, "note", json_string("added later"));
  assert_int_equal(check("approval", "1", "alice", "m", edited, now, "does not verify"), JOURNAL_SIG_BAD);
  json_decref(edited);
  /* Recorded long after it was signed: a signature copied from an older event. */
  assert_int_equal(check("approval", "1", "alice", "m", c, now + JOURNAL_SIGN_SKEW + 60, "copied"),
                   JOURNAL_SIG_BAD);
  assert_int_equal(check("approval", "1", "alice", "m", c, now - JOURNAL_SIGN_SKEW - 60, "copied"),
                   JOURNAL_SIG_BAD);

  /* Signed by mallory, claiming alice's public key: does not verify. */
  json_t *forged =
      json_pack("{s:s, s:s, s:s}", "role", "platform-lead", "decision", "go", "plan_hash", "abc");
  assert_int_equal(journal_sign_content(mallory, JOURNAL_APPROVAL, "1", "alice", "m", forged, &err), GG_OK);
  json_object_set_new(json_object_get(forged, "signature"), "public_key", json_string(pub64));
  assert_int_equal(check("approval", "1", "alice", "m", forged, now, "does not verify"), JOURNAL_SIG_BAD);
  /* Malformed members. */
  json_object_set_new(json_object_get(forged, "signature"), "sig", json_string("AAAA"));
  assert_int_equal(check("approval", "1", "alice", "m", forged, now, "sig is not 64 bytes"), JOURNAL_SIG_BAD);
  json_object_set_new(json_object_get(forged, "signature"), "alg", json_string("rsa"));
  assert_int_equal(check("approval", "1", "alice", "m", forged, now, "alg is not ed25519"), JOURNAL_SIG_BAD);
  json_object_set_new(forged, "signature", json_string("trust me"));
  assert_int_equal(check("approval", "1", "alice", "m", forged, now, "not an object"), JOURNAL_SIG_BAD);
  /* An actor is required to sign. */
  assert_int_equal(journal_sign_content(alice, JOURNAL_APPROVAL, "1", "", "m", forged, &err), GG_ERR_INVALID);
  json_decref(forged);
  json_decref(c);
  gg_sigkey_free(alice);
  gg_sigkey_free(mallory);
}

static plan *load_plan(const char *roles, plan_diags *d) {
  char text[1024], name[160];
  snprintf(text, sizeof text,
           "migration: m\nroles:\n%sphases:\n  - id: 1\n    name: One\n    approvals: [lead]\n"
           "    actions:\n      - wait: 1s\n",
           roles);
  path_of("plan.yaml", name, sizeof name);
  plan *p = NULL;
  gg_error err;
  gg_error_clear(&err);
  plan_diags_init(d);
  gg_status st = plan_load_buffer(name, text, strlen(text), NULL, &p, d, &err);
  assert_true(st == GG_OK || st == GG_ERR_PLAN);
  return p;
}

/* Copy dir/from to dir/to. */
static void sh_copy(const char *from, const char *to) {
  char cmd[512];
  snprintf(cmd, sizeof cmd, "cp '%s/%s' '%s/%s'", dir, from, dir, to);
  assert_int_equal(system(cmd), 0);
}

static const char *first_error(const plan_diags *d, int *line, int *col) {
  for (size_t i = 0; i < d->count; i++)
    if (d->items[i].severity == PLAN_DIAG_ERROR) {
      *line = d->items[i].line;
      *col = d->items[i].col;
      return d->items[i].message;
    }
  return "";
}

static void test_plan_role_keys(void **state) {
  (void)state;
  plan_diags d;
  int line = 0, col = 0;
  /* Relative to the plan's directory: alice.pem.pub sits beside plan.yaml in dir. */
  plan *p = load_plan("  - { id: lead, title: Lead, keys: [alice.pem.pub, enc.pem.pub] }\n", &d);
  assert_non_null(p);
  const plan_role *r = plan_find_role(p, "lead");
  assert_int_equal(r->nkeys, 2);
  assert_string_equal(r->keys[0].path, "alice.pem.pub");
  char p2[160];
  path_of("alice.pem.pub", p2, sizeof p2);
  assert_string_equal(r->keys[0].file, p2);
  unsigned char pub[GG_SIGKEY_PUBLIC_LEN];
  gg_sigkey *alice = load("alice.pem", NULL, GG_OK, NULL);
  gg_sigkey_public(alice, pub);
  gg_sigkey_free(alice);
  assert_ptr_equal(plan_role_key(r, pub), &r->keys[0]);
  pub[0] ^= 1;
  assert_null(plan_role_key(r, pub));
  plan_free(p);
  plan_diags_release(&d);

  p = load_plan("  - id: lead\n    keys:\n      - rsa.pem.pub\n", &d);
  assert_null(p);
  const char *msg = first_error(&d, &line, &col);
  assert_non_null(strstr(msg, "role 'lead': public key '"));
  assert_non_null(strstr(msg, "rsa.pem.pub' is not an Ed25519 key (it is RSA)"));
  assert_int_equal(line, 5);
  assert_int_equal(col, 9);
  plan_diags_release(&d);

  p = load_plan("  - { id: lead, keys: [keys/nobody.pub] }\n", &d);
  assert_null(p);
  msg = first_error(&d, &line, &col);
  assert_non_null(strstr(msg, "keys/nobody.pub': no such file"));
  assert_int_equal(line, 3);
  plan_diags_release(&d);

  p = load_plan("  - { id: lead, keys: [alice.pem] }\n", &d);
  assert_null(p);
  assert_non_null(strstr(first_error(&d, &line, &col), "holds a private key"));
  plan_diags_release(&d);

  p = load_plan("  - { id: lead, keys: alice.pem.pub }\n", &d);
  assert_null(p);
  assert_non_null(strstr(first_error(&d, &line, &col), "'keys' must be a list"));
  plan_diags_release(&d);

  /* The hash covers the key's content, not only its path: a file swapped voids approvals. */
  sh_copy("alice.pem.pub", "swap.pub");
  p = load_plan("  - { id: lead, keys: [swap.pub] }\n", &d);
  assert_non_null(p);
  char before[65];
  snprintf(before, sizeof before, "%s", p->hash);
  plan_free(p);
  plan_diags_release(&d);
  sh_copy("mallory.pem.pub", "swap.pub");
  p = load_plan("  - { id: lead, keys: [swap.pub] }\n", &d);
  assert_non_null(p);
  assert_string_not_equal(p->hash, before);
  plan_free(p);
  plan_diags_release(&d);

  /* signed_by on an attest item names a role with keys. */
  p = load_plan(
      "  - { id: lead, keys: [alice.pem.pub] }\n  - { id: ops }\npreflight:\n"
      "  - { name: Reviewed, attest: reviewed, signed_by: lead }\n",
      &d);
  assert_non_null(p);
  assert_string_equal(p->preflight[0].signed_by, "lead");
  plan_free(p);
  plan_diags_release(&d);
  p = load_plan(
      "  - { id: lead, keys: [alice.pem.pub] }\n  - { id: ops }\npreflight:\n"
      "  - { name: Reviewed, attest: reviewed, signed_by: ops }\n",
      &d);
  assert_null(p);
  assert_non_null(strstr(first_error(&d, &line, &col), "signed_by 'ops': that role lists no keys"));
  assert_int_equal(line, 6);
  plan_diags_release(&d);
  p = load_plan(
      "  - { id: lead, keys: [alice.pem.pub] }\npreflight:\n"
      "  - { name: Reviewed, attest: reviewed, signed_by: leed }\n"
      "  - { name: Up, expect: \"1 == 1\", signed_by: lead }\n",
      &d);
  assert_null(p);
  assert_non_null(strstr(first_error(&d, &line, &col), "signed_by 'leed' is not a role"));
  assert_int_equal(d.errors, 2);
  plan_diags_release(&d);

  p = load_plan("  - { id: lead, keys: [alice.pem.pub, alice.pem.pub] }\n", &d);
  assert_null(p);
  assert_non_null(strstr(first_error(&d, &line, &col), "is the same key as"));
  plan_diags_release(&d);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_key_loading_refusals),     cmocka_unit_test(test_base64_exact),
      cmocka_unit_test(test_signed_text_is_canonical), cmocka_unit_test(test_sign_and_check),
      cmocka_unit_test(test_plan_role_keys),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
