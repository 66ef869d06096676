/*
 * sign.c: signing an event's content and checking the signatures in a journal (see sign.h).
 * Only journal.h's public functions are used, so every backend gets this for free.
 */
#include "journal/sign.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"

/* Events read per page by journal_verify_signatures. */
#define SIGN_VERIFY_PAGE 500

char *journal_sign_text(const char *kind, const char *phase, const char *actor, const char *migration,
                        const json_t *content, long long signed_at_ms) {
  json_t *c = content ? json_copy((json_t *)content) : json_object();
  if (!c) return NULL;
  if (json_is_object(c)) json_object_del(c, JOURNAL_SIGNATURE_MEMBER);
  json_t *o = json_pack("{s:s, s:o, s:s, s:s, s:o, s:I}", "actor", actor ? actor : "", "content", c, "kind",
                        kind ? kind : "", "migration", migration ? migration : "", "phase",
                        phase ? json_string(phase) : json_null(), "signed_at_ms", (json_int_t)signed_at_ms);
  if (!o) return NULL;
  char *text = journal_canonical(o);
  json_decref(o);
  return text;
}

/* PREFIX + text, the bytes a signature covers; you own it. */
static char *signed_bytes(const char *kind, const char *phase, const char *actor, const char *migration,
                          const json_t *content, long long signed_at_ms, size_t *len) {
  char *text = journal_sign_text(kind, phase, actor, migration, content, signed_at_ms);
  if (!text) return NULL;
  size_t pn = strlen(JOURNAL_SIGN_PREFIX), tn = strlen(text);
  char *all = malloc(pn + tn + 1);
  if (all) {
    memcpy(all, JOURNAL_SIGN_PREFIX, pn);
    memcpy(all + pn, text, tn + 1);
    *len = pn + tn;
  }
  free(text);
  return all;
}

gg_status journal_sign_content(const gg_sigkey *key, journal_kind kind, const char *phase, const char *actor,
                               const char *migration, json_t *content, gg_error *err) {
  if (!json_is_object(content))
    return gg_error_set(err, GG_ERR_INVALID, "sign: the content is not an object");
  if (!actor || !actor[0]) return gg_error_set(err, GG_ERR_INVALID, "sign: the event names no actor");
  long long at = llround(gg_clock_now() * 1000.0);
  size_t len = 0;
  char *bytes = signed_bytes(journal_kind_name(kind), phase, actor, migration, content, at, &len);
  if (!bytes) return gg_error_set(err, GG_ERR_NOMEM, "sign: out of memory");
  unsigned char sig[GG_SIGKEY_SIG_LEN], pub[GG_SIGKEY_PUBLIC_LEN];
  gg_status st = gg_sigkey_sign(key, bytes, len, sig, err);
  free(bytes);
  if (st != GG_OK) return st;
  gg_sigkey_public(key, pub);
  char sig64[4 * ((GG_SIGKEY_SIG_LEN + 2) / 3) + 1], pub64[JOURNAL_SIGN_PUBLIC_B64 + 1];
  gg_base64_encode(sig, sizeof sig, sig64, sizeof sig64);
  gg_base64_encode(pub, sizeof pub, pub64, sizeof pub64);
  json_t *s = json_pack("{s:s, s:s, s:s, s:I}", "alg", "ed25519", "public_key", pub64, "sig", sig64,
                        "signed_at_ms", (json_int_t)at);
  if (!s || json_object_set_new(content, JOURNAL_SIGNATURE_MEMBER, s) != 0)
    return gg_error_set(err, GG_ERR_NOMEM, "sign: out of memory");
  return GG_OK;
}

gg_status journal_append_signed(journal *j, const gg_sigkey *key, const char *migration, journal_kind kind,
                                const char *phase, const char *actor, json_t *content, long long *seq,
                                gg_error *err) {
  if (key) {
    if (!actor || !actor[0]) actor = journal_os_user();
    gg_status st = journal_sign_content(key, kind, phase, actor, migration, content, err);
    if (st != GG_OK) return st;
  }
  return journal_append(j, kind, phase, actor, content, seq, err);
}

/* Record why the signature is bad; returns 0 so the checks below can `return bad(...)`. */
static int bad(journal_sig_check *out, const char *what, const char *detail) {
  out->state = JOURNAL_SIG_BAD;
  snprintf(out->why, sizeof out->why, "%s%s", what, detail);
  return 0;
}

/* The checks of a parsed content's signature member s. */
static int check_member(const journal_event *ev, const char *migration, json_t *content, json_t *s,
                        journal_sig_check *out) {
  const char *alg = json_string_value(json_object_get(s, "alg"));
  const char *pub64 = json_string_value(json_object_get(s, "public_key"));
  const char *sig64 = json_string_value(json_object_get(s, "sig"));
  json_t *at = json_object_get(s, "signed_at_ms");
  unsigned char sig[GG_SIGKEY_SIG_LEN];
  if (!json_is_object(s)) return bad(out, "bad signature: malformed: ", "not an object");
  if (!alg || strcmp(alg, "ed25519") != 0)
    return bad(out, "bad signature: malformed: alg is not ed25519: ", alg ? alg : "(none)");
  if (!gg_base64_decode_exact(pub64, out->public_key, GG_SIGKEY_PUBLIC_LEN))
    return bad(out, "bad signature: malformed: ", "public_key is not 32 bytes in base64");
  out->have_key = true;
  snprintf(out->public_key_b64, sizeof out->public_key_b64, "%s", pub64);
  if (!json_is_integer(at)) return bad(out, "bad signature: malformed: ", "signed_at_ms is not an integer");
  long long at_ms = (long long)json_integer_value(at);
  out->signed_at = (double)at_ms / 1000.0;
  if (!gg_base64_decode_exact(sig64, sig, sizeof sig))
    return bad(out, "bad signature: malformed: ", "sig is not 64 bytes in base64");
  size_t len = 0;
  char *bytes = signed_bytes(ev->kind, ev->phase, ev->actor, migration, content, at_ms, &len);
  if (!bytes) return bad(out, "bad signature: cannot check it: ", "out of memory");
  bool ok = gg_sigkey_verify(out->public_key, bytes, len, sig);
  free(bytes);
  if (!ok)
    return bad(out, "bad signature: ",
               "it does not verify (the signed content, kind, phase, actor or migration was changed, "
               "or another key signed it)");
  if (fabs(ev->time - out->signed_at) > JOURNAL_SIGN_SKEW) {
    char signed_at[40], recorded[40], why[120];
    snprintf(why, sizeof why, "signed at %s but recorded at %s (a signature copied from another event?)",
             gg_time_format(out->signed_at, signed_at, sizeof signed_at),
             gg_time_format(ev->time, recorded, sizeof recorded));
    return bad(out, "bad signature: ", why);
  }
  out->state = JOURNAL_SIG_GOOD;
  return 1;
}

void journal_signature_check(const journal_event *ev, const char *migration, journal_sig_check *out) {
  memset(out, 0, sizeof *out);
  /* Most events carry no signature: skip parsing them. */
  if (!ev->content || !strstr(ev->content, "\"" JOURNAL_SIGNATURE_MEMBER "\"")) return;
  json_t *content = journal_event_content(ev);
  json_t *s = json_object_get(content, JOURNAL_SIGNATURE_MEMBER);
  if (!content)
    bad(out, "bad signature: malformed: ", "the content is not JSON");
  else if (s)
    (void)check_member(ev, migration, content, s, out);
  json_decref(content);
}

gg_status journal_verify_signatures(journal *j, const char *migration, journal_sig_summary *out,
                                    gg_error *err) {
  memset(out, 0, sizeof *out);
  journal_filter f = journal_filter_all();
  f.limit = SIGN_VERIFY_PAGE;
  for (;;) {
    journal_event *ev = NULL;
    size_t n = 0;
    gg_status st = journal_events(j, &f, &ev, &n, err);
    if (st != GG_OK) return st;
    for (size_t i = 0; i < n; i++) {
      journal_sig_check c;
      journal_signature_check(&ev[i], migration, &c);
      if (c.state == JOURNAL_SIG_NONE) continue;
      out->checked++;
      if (c.state == JOURNAL_SIG_GOOD) {
        out->good++;
      } else if (!out->bad_seq) {
        out->bad_seq = ev[i].seq;
        snprintf(out->what, sizeof out->what, "%s: %s", ev[i].kind, c.why);
      }
    }
    if (n) f.after_seq = ev[n - 1].seq;
    journal_events_free(ev, n);
    if (n < SIGN_VERIFY_PAGE) break;
  }
  return GG_OK;
}
