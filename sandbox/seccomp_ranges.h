/* seccomp ranges: the syscalls a policy always allows, as a short search
 * over their runs of numbers, put in front of the program that libseccomp
 * compiled for the rest of the policy. */
#ifndef SANDPOOL_SECCOMP_RANGES_H
#define SANDPOOL_SECCOMP_RANGES_H

#include <linux/filter.h>
#include <stddef.h>
#include <stdint.h>

#include "sandbox/base/error.h"

/* Put in front of the program *FILTER (*LEN instructions, malloc'd; both
 * replaced) a search that allows the syscalls numbered NRS (N of them, in
 * any order, duplicates allowed; none negative) made through the ABI ARCH
 * (an AUDIT_ARCH_ value), and hands every other call to the program as it
 * was. The kernel loads a program in time that grows with its length:
 * libseccomp spends one or two instructions per syscall, this search two
 * per run of consecutive numbers. */
int sp_seccomp_ranges_prepend(struct sock_filter **filter, unsigned short *len, uint32_t arch,
			      const int *nrs, size_t n, struct sp_error *err);

#endif
