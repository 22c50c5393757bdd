/* A cell: pid 1 of its own namespaces over an image rootfs, waiting for
 * steps. The supervisor side creates, commands and destroys it. */
#ifndef SANDPOOL_CELL_H
#define SANDPOOL_CELL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "box_path.h"
#include "cgroup.h"
#include "sandbox/base/error.h"
#include "seccomp.h"
#include "userns.h"

struct sp_cell_config {
	const char *rootfs;
	const char *hostname;
	struct sp_idmap idmap;
	const struct sp_seccomp_program *seccomp; /* compiled once, inherited */
	uint64_t tmpfs_kb;			  /* size of /box, /tmp, /dev/shm */
	bool cgroup_memory;			  /* memory is limited by a cgroup */
	bool cgroup_pids;			  /* processes are limited by a cgroup */
};

/* A language's runtime, prepared before the job comes (prepared_step.h):
 * its command (the language's run command), the job's environment, the
 * limits it starts under, and its loader. Kept by its owner as long as any
 * cell may have it prepared. */
struct sp_cell_runtime {
	char *const *argv;
	char *const *envp;
	struct sp_limits limits;
	int loader_fd;		 /* the loader's content (a sealed memfd) */
	const char *loader_path; /* where the step puts it, below /tmp */
	char *const *loader_env; /* added to the runtime's environment */
};

struct sp_cell {
	pid_t pid;     /* the cell's init, in the supervisor's pid namespace */
	int sock;      /* supervisor's end of the control socket */
	unsigned jobs; /* steps run so far */
	struct sp_cell_config config;
	struct sp_cgroup_cell cgroup; /* the cell's, once sp_cell_use_cgroups made it */
	/* The step the cell has prepared: the supervisor's ends of its stdin,
	 * stdout and stderr (-1: none), and the runtime it runs, if any. */
	bool prepared; /* a cell made any other way than sp_cell_clear has none */
	int prepared_stdio[3];
	const struct sp_cell_runtime *prepared_runtime;
	const struct sp_cell_runtime *prepare_asked; /* a prepare not answered yet */
	bool prepare_pending;
};

/* CELL as no cell yet, to be made with CONFIG: no process, no socket, no
 * cgroup. */
void sp_cell_clear(struct sp_cell *cell, const struct sp_cell_config *config);

/* Clone the cell and wait until its sandbox is built. */
int sp_cell_create(struct sp_cell *cell, const struct sp_cell_config *config, struct sp_error *err);

/* Kill the cell (and with it every process in its pid namespace), reap it
 * and remove its cgroup. */
void sp_cell_destroy(struct sp_cell *cell);

/* Put the cell (its init, and so every step it will run) in a cgroup of its
 * own below ROOT, unless it has one or ROOT's mode is none. */
int sp_cell_use_cgroups(struct sp_cell *cell, const struct sp_cgroup_root *root,
			struct sp_error *err);

/* Copy the content of FD into /box/NAME inside the cell, owned by the job;
 * NAME may be a relative path, its directories are made. A file is copied
 * whole, from its start, whatever its offset (which stays as it was): one
 * descriptor may be written into several cells at once. A pipe is read to
 * its end. */
int sp_cell_write_file(struct sp_cell *cell, const char *name, int fd, mode_t mode,
		       struct sp_error *err);

/* An archive (box_archive.h) of the regular files in /box, in *ARCHIVE_FD: a
 * memfd sealed against any change, close-on-exec. Symlinks, fifos, sockets
 * and devices are left out and never followed, and so are files whose path
 * sp_box_path_valid() refuses and empty directories; the modes keep the
 * bits of 0755. More than SP_BOX_FILES_MAX files is EMFILE; more content in
 * all than MAX_BYTES (0: the tmpfs size of /box) is EFBIG; either way the
 * cell answered and may serve on. Only between steps: while a step runs the
 * cell takes no command but KILL. */
int sp_cell_pack_box(struct sp_cell *cell, uint64_t max_bytes, int *archive_fd,
		     struct sp_error *err);

/* The regular file /box/NAME (a path sp_box_path_valid() takes) in *FD: a
 * memfd sealed against any change, close-on-exec, with its content. It is
 * reached without following any symlink (ELOOP), and must be a regular file
 * (EINVAL otherwise) of at most MAX_BYTES (EFBIG); a missing one is ENOENT.
 * Either way the cell answered and may serve on. Only between steps. */
int sp_cell_read_file(struct sp_cell *cell, const char *name, uint64_t max_bytes, int *fd,
		      struct sp_error *err);

/* Make /box, /tmp and /dev/shm fresh and empty. */
int sp_cell_reset(struct sp_cell *cell, struct sp_error *err);

/* The same in two halves, so that the cell resets while the caller does
 * something else: ask for it, then (before any other command) take the
 * answer. */
int sp_cell_reset_begin(struct sp_cell *cell, struct sp_error *err);
int sp_cell_reset_end(struct sp_cell *cell, struct sp_error *err);

/* Ask the cell to prepare its next step now (prepared_step.h): its sandbox
 * built before the job comes, so that the job's step is only its rlimits
 * and execve; with RUNTIME, the language's runtime started in it too. The
 * answer is taken by sp_cell_prepare_end (before any other command): the
 * step's stdio, or nothing prepared (the cell could not; its steps start
 * the usual way). A reset discards a prepared step; ask again after it. */
int sp_cell_prepare_begin(struct sp_cell *cell, const struct sp_cell_runtime *runtime,
			  struct sp_error *err);

/* The answer to the prepare, if one is pending: -1 only when the cell did
 * not answer (it must be replaced). */
int sp_cell_prepare_end(struct sp_cell *cell, struct sp_error *err);

/* Both at once. */
int sp_cell_prepare(struct sp_cell *cell, const struct sp_cell_runtime *runtime,
		    struct sp_error *err);

/* Whether the cell has a prepared step that a step of REQ_ARGV, REQ_ENVP
 * and LIMITS may run on: any step on a prepared step, only the run it was
 * made for on a prepared runtime. */
bool sp_cell_prepared_fits(const struct sp_cell *cell, char *const *argv, char *const *envp,
			   const struct sp_limits *limits);

/* Forget the prepared step (close the supervisor's ends of its stdio); the
 * cell kills it at its next step or reset. */
void sp_cell_prepared_drop(struct sp_cell *cell);

/* Wait for the answer to the last command: OK, or ERROR copied into err. */
int sp_cell_wait_ok(struct sp_cell *cell, struct sp_error *err);

#endif
