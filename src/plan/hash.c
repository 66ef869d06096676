/* hash.c: the plan's content hash, which approvals bind to (DESIGN §3).
 *
 * SHA-256 over a canonical, length-prefixed serialisation of the substituted tree, so the
 * hash changes with any value that changes what the plan does (including a variable's
 * value) and not with comments, quoting or layout. Secret values are replaced by a marker:
 * rotating a password does not void approvals, and the hash reveals nothing about it. The
 * public keys a role lists (`keys:`) are part of what approvers approve, so their content is
 * mixed in too (plan_hash_keys): a key file swapped behind the plan's back voids approvals. */
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "plan/internal.h"

static void feed(EVP_MD_CTX *md, char tag, const char *s, size_t n) {
  char head[32];
  int h = snprintf(head, sizeof head, "%c%zu:", tag, n);
  EVP_DigestUpdate(md, head, (size_t)h);
  if (n) EVP_DigestUpdate(md, s, n);
}

/* A container header: its kind and how many children follow. */
static void feed_count(EVP_MD_CTX *md, char tag, size_t n) {
  char head[32];
  int h = snprintf(head, sizeof head, "%c%zu:", tag, n);
  EVP_DigestUpdate(md, head, (size_t)h);
}

static void walk(EVP_MD_CTX *md, const ynode *n) {
  if (n->secret) {
    feed(md, 'X', "", 0);
    return;
  }
  switch (n->kind) {
    case YN_SCALAR:
      feed(md, n->is_null ? 'N' : 'S', n->text, strlen(n->text));
      break;
    case YN_SEQ:
      feed_count(md, 'L', n->n);
      for (size_t i = 0; i < n->n; i++) walk(md, n->items[i]);
      break;
    case YN_MAP:
      feed_count(md, 'M', n->n);
      for (size_t i = 0; i < 2 * n->n; i++) walk(md, n->items[i]);
      break;
  }
}

void plan_tree_hash(const ynode *root, char out[65]) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  out[0] = 0;
  EVP_MD_CTX *md = EVP_MD_CTX_new();
  if (!md) return;
  if (EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1) {
    walk(md, root);
    if (EVP_DigestFinal_ex(md, digest, &len) == 1 && len == 32)
      for (unsigned i = 0; i < 32; i++) snprintf(out + 2 * i, 3, "%02x", digest[i]);
  }
  EVP_MD_CTX_free(md);
}

void plan_hash_keys(const plan *p, char hash[65]) {
  bool any = false;
  for (size_t i = 0; i < p->nroles; i++) any = any || p->roles[i].nkeys > 0;
  if (!any) return; /* plans without keys keep the hash they always had */
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_MD_CTX *md = EVP_MD_CTX_new();
  if (!md) return;
  if (EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1) {
    feed(md, 'H', hash, strlen(hash));
    for (size_t i = 0; i < p->nroles; i++) {
      const plan_role *r = &p->roles[i];
      if (!r->nkeys) continue;
      feed(md, 'R', r->name, strlen(r->name));
      for (size_t k = 0; k < r->nkeys; k++)
        feed(md, 'K', (const char *)r->keys[k].pub, sizeof r->keys[k].pub);
    }
    if (EVP_DigestFinal_ex(md, digest, &len) == 1 && len == 32)
      for (unsigned i = 0; i < 32; i++) snprintf(hash + 2 * i, 3, "%02x", digest[i]);
  }
  EVP_MD_CTX_free(md);
}
