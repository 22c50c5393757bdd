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
	bool takes_arguments;	  /* a job's arguments may follow ARGV */
	int loader_fd;		  /* the loader's content (a sealed memfd) */
	const char *loader_path;  /* where the step puts it, below /tmp */
	char *const *loader_env;  /* added to the runtime's environment */
	char *const *loader_args; /* put after ARGV's first word */
};

/* A cell prepares up to this many steps at once: a compiled language's
 * compile and run. */
#define SP_CELL_SLOTS 2

/* A step the cell has prepared, as the supervisor sees it: the supervisor's
 * ends of its stdin, stdout and stderr, and the runtime it runs, if any. */
struct sp_cell_prepared {
	bool ready; /* a cell made any other way than sp_cell_clear has none */
	int stdio[3];
	const struct sp_cell_runtime *runtime;
};

struct sp_cell {
	pid_t pid;     /* the cell's init, in the supervisor's pid namespace */
	int sock;      /* supervisor's end of the control socket */
	unsigned jobs; /* steps run so far */
	struct sp_cell_config config;
	struct sp_cgroup_cell cgroup; /* the cell's, once sp_cell_use_cgroups made it */
	struct sp_cell_prepared prepared[SP_CELL_SLOTS];
	/* the prepares not answered yet, in order: their slots and runtimes */
	unsigned prepares_pending;
	unsigned writes_pending; /* file writes sent, their answers not read */
	unsigned pending_slot[SP_CELL_SLOTS];
	const struct sp_cell_runtime *pending_runtime[SP_CELL_SLOTS];
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

/* The same without waiting for the answer, so that the step that uses the
 * file is sent right behind it: sp_run_step (or sp_cell_write_file_end)
 * takes the answers. A write that failed makes the cell refuse the next
 * step until a reset. */
int sp_cell_write_file_begin(struct sp_cell *cell, const char *name, int fd, mode_t mode,
			     struct sp_error *err);
int sp_cell_write_file_end(struct sp_cell *cell, struct sp_error *err);

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
int sp_cell_prepare_begin(struct sp_cell *cell, unsigned slot,
			  const struct sp_cell_runtime *runtime, struct sp_error *err);

/* The answers to the prepares pending: -1 only when the cell did not
 * answer (it must be replaced). */
int sp_cell_prepare_end(struct sp_cell *cell, struct sp_error *err);

/* Both at once, in slot 0. */
int sp_cell_prepare(struct sp_cell *cell, const struct sp_cell_runtime *runtime,
		    struct sp_error *err);

/* The slot of a prepared step that a step of ARGV, ENVP and LIMITS may run
 * on, or -1: a prepared runtime it fits (the run it was made for), else a
 * prepared step (any step). */
int sp_cell_prepared_slot(const struct sp_cell *cell, char *const *argv, char *const *envp,
			  const struct sp_limits *limits);

/* Take SLOT's prepared step for a step: its stdio ends in STDIO. */
void sp_cell_prepared_take(struct sp_cell *cell, int slot, int stdio[3]);

/* Forget every prepared step (close the supervisor's ends of their stdio);
 * the cell kills them at its next reset. */
void sp_cell_prepared_drop(struct sp_cell *cell);

/* Wait for the answer to the last command: OK, or ERROR copied into err. */
int sp_cell_wait_ok(struct sp_cell *cell, struct sp_error *err);

#endif
