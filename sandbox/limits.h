/* Limits of one step, and what a step used. Zero means "not limited". */
#ifndef SANDPOOL_LIMITS_H
#define SANDPOOL_LIMITS_H

#include <stdint.h>

struct sp_limits {
	uint64_t cpu_ms;     /* cpu time of the whole process tree */
	uint64_t wall_ms;    /* wall clock from start to exit */
	uint64_t memory_kb;  /* memory of the whole tree (cgroup), else address space per process */
	uint64_t processes;  /* processes and threads */
	uint64_t output_kb;  /* stdout + stderr bytes */
	uint64_t file_kb;    /* largest file a process may write */
	uint64_t open_files; /* file descriptors per process */
	uint64_t stack_kb;   /* stack size per process */
	uint64_t tmpfs_kb;   /* size of each of /box, /tmp and /dev/shm */
};

/* What the kernel counted for a step. */
struct sp_usage {
	uint64_t cpu_ns;
	uint64_t memory_bytes; /* peak */
	uint64_t oom_kills;
};

#endif
