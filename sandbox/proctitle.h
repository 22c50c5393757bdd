/* The command line a process shows in /proc/PID/cmdline. */
#ifndef SANDPOOL_PROCTITLE_H
#define SANDPOOL_PROCTITLE_H

#include "sandbox/base/error.h"

/* Overwrite this process's argument area with TITLE and zeros. A cell is a
 * copy of the server without an execve: its jobs could otherwise read the
 * server's command line (config path, state dir, --token) as their pid 1's. */
int sp_proctitle_set(const char *title, struct sp_error *err);

#endif
