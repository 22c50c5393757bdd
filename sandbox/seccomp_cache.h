/* A cache of compiled seccomp programs, so that a policy is compiled once
 * per machine and not once per `sandpool run`. */
#ifndef SANDPOOL_SECCOMP_CACHE_H
#define SANDPOOL_SECCOMP_CACHE_H

#include "sandbox/base/error.h"
#include "seccomp.h"

/* The program of the policy file PATH: from CACHE_DIR when an entry holds
 * exactly this policy text, built by this libseccomp for this architecture;
 * else compiled and stored there. A cache that cannot be read or written is
 * passed over (CACHE_DIR may be NULL): only a bad policy is an error. */
int sp_seccomp_load(const char *path, const char *cache_dir, struct sp_seccomp_program *prog,
		    struct sp_error *err);

#endif
