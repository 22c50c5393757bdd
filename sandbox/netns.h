/* Network namespace: only loopback, brought up by ioctl. */
#ifndef SANDPOOL_NETNS_H
#define SANDPOOL_NETNS_H

#include "sandbox/base/error.h"

/* In the cell's fresh network namespace: set lo up. */
int sp_netns_loopback_up_in_child(struct sp_error *err);

#endif
