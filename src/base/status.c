#include "base/status.h"

static const char *const names[] = {
#define GG_STATUS_NAME(name, msg) "GG_" #name,
    GG_STATUS_MAP(GG_STATUS_NAME)
#undef GG_STATUS_NAME
};

static const char *const messages[] = {
#define GG_STATUS_MSG(name, msg) msg,
    GG_STATUS_MAP(GG_STATUS_MSG)
#undef GG_STATUS_MSG
};

const char *gg_status_name(gg_status s) {
  if ((unsigned)s >= GG_STATUS_COUNT) return "GG_UNKNOWN";
  return names[s];
}

const char *gg_status_message(gg_status s) {
  if ((unsigned)s >= GG_STATUS_COUNT) return "unknown status";
  return messages[s];
}
