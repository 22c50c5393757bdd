/* The search is a balanced tree over the bounds of the runs: a run [a, b]
 * gives the bounds a and b + 1, and a number is allowed when it is at or
 * above an odd count of bounds. Each bound is one "jump if at or above" in
 * the tree, laid out parent first, so that every jump goes forward; its
 * leaves are two targets, the allow at the end of the search and the first
 * instruction of the program it came in front of. */
#include "seccomp_ranges.h"

#include <errno.h>
#include <linux/seccomp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "sandbox/base/cleanup.h"

/* Jumps of classic BPF reach 255 instructions ahead: the search stays
 * within that of its end. */
#define SEARCH_MAX 250
#define HEAD	   3 /* load the ABI, check it, load the number */

struct search {
	const uint32_t *bounds;
	struct sock_filter *code;
	unsigned allow, rest; /* the two leaves: where they are */
	unsigned next;	      /* where the next node goes */
};

static int compare_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

/* The bounds of the runs of NRS (sorted, N of them) into BOUNDS; their count. */
static size_t bounds_of(const int *nrs, size_t n, uint32_t *bounds)
{
	size_t count = 0;

	for (size_t i = 0; i < n; i++) {
		bounds[count++] = (uint32_t)nrs[i];
		while (i + 1 < n && (long)nrs[i + 1] <= (long)nrs[i] + 1) /* on, or a duplicate */
			i++;
		bounds[count++] = (uint32_t)nrs[i] + 1;
	}
	return count;
}

/* The node for the bounds [LO, HI) (a number here is at or above LO of
 * them): where it is, a leaf when there is no bound left to test. */
static unsigned emit(struct search *s, size_t lo, size_t hi)
{
	size_t mid = lo + (hi - lo) / 2;
	unsigned at, below, above;

	if (lo == hi)
		return lo % 2 == 1 ? s->allow : s->rest;
	at = s->next++;
	below = emit(s, lo, mid);
	above = emit(s, mid + 1, hi);
	s->code[at] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, s->bounds[mid],
						   (unsigned char)(above - at - 1),
						   (unsigned char)(below - at - 1));
	return at;
}

/* The search for BOUNDS (COUNT of them) into CODE, which has room for it. */
static unsigned build_search(struct sock_filter *code, uint32_t arch, const uint32_t *bounds,
			     size_t count)
{
	struct search s = {.bounds = bounds, .code = code, .next = HEAD};

	s.allow = HEAD + (unsigned)count;
	s.rest = s.allow + 1;
	code[0] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
					       offsetof(struct seccomp_data, arch));
	code[1] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, arch, 0,
					       (unsigned char)(s.rest - 2));
	code[2] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
					       offsetof(struct seccomp_data, nr));
	emit(&s, 0, count);
	code[s.allow] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	return s.rest;
}

int sp_seccomp_ranges_prepend(struct sock_filter **filter, unsigned short *len, uint32_t arch,
			      const int *nrs, size_t n, struct sp_error *err)
{
	cleanup_free int *sorted = NULL;
	cleanup_free uint32_t *bounds = NULL;
	struct sock_filter *code;
	size_t count, length;
	unsigned head;

	if (n == 0)
		return 0;
	sorted = malloc(n * sizeof(*sorted));
	bounds = malloc(2 * n * sizeof(*bounds));
	if (sorted == NULL || bounds == NULL)
		return sp_error_set(err, ENOMEM, "seccomp: ranges of %zu syscalls", n);
	memcpy(sorted, nrs, n * sizeof(*sorted));
	qsort(sorted, n, sizeof(*sorted), compare_int);
	if (sorted[0] < 0)
		return sp_error_set(err, EINVAL, "seccomp: syscall number %d", sorted[0]);
	count = bounds_of(sorted, n, bounds);
	if (HEAD + count + 1 > SEARCH_MAX)
		return 0; /* too many runs to gain anything: the program as it is */
	length = HEAD + count + 1 + *len;
	if (length > BPF_MAXINSNS)
		return 0;
	code = calloc(length, sizeof(*code));
	if (code == NULL)
		return sp_error_set(err, ENOMEM, "seccomp: program of %zu instructions", length);
	head = build_search(code, arch, bounds, count);
	memcpy(code + head, *filter, *len * sizeof(*code));
	free(*filter);
	*filter = code;
	*len = (unsigned short)length;
	return 0;
}
