/* seccomp: policies in the OCI seccomp JSON subset, compiled once to BPF
 * with libseccomp, applied last before execve. */
#ifndef SANDPOOL_SECCOMP_H
#define SANDPOOL_SECCOMP_H

#include <linux/filter.h>
#include <stddef.h>

#include "sandbox/base/error.h"

struct sp_seccomp_program {
	struct sock_filter *filter;
	unsigned short len;
};

/* Parse a policy (JSON text) and compile it to a BPF program for this arch. */
int sp_seccomp_compile_json(const char *json_text, struct sp_seccomp_program *prog,
			    struct sp_error *err);

/* Same, as libseccomp alone compiles it: without the search in front for
 * the syscalls always allowed. Every call gets the verdict here that it
 * gets from the program above; the tests hold that one to this one. */
int sp_seccomp_compile_json_plain(const char *json_text, struct sp_seccomp_program *prog,
				  struct sp_error *err);

/* Same as sp_seccomp_compile_json, from a file. */
int sp_seccomp_compile_file(const char *path, struct sp_seccomp_program *prog,
			    struct sp_error *err);

void sp_seccomp_program_free(struct sp_seccomp_program *prog);

/* Load the program into the calling thread. The caller has set
 * PR_SET_NO_NEW_PRIVS. Allocates nothing: safe right before execve. */
int sp_seccomp_apply_in_child(const struct sp_seccomp_program *prog, struct sp_error *err);

#endif
