/* The spawner: a single-threaded process, forked before the supervisor
 * starts any thread, and the only process that clones cells. The
 * supervisor asks it for a cell and gets back the cell's pid and control
 * socket; the cells are the spawner's children, and die with it. */
#ifndef SANDPOOL_SPAWNER_H
#define SANDPOOL_SPAWNER_H

#include <sys/types.h>

#include "cell.h"
#include "sandbox/base/error.h"

struct sp_spawner {
	pid_t pid;
	int sock; /* the supervisor's end */
};

/* Fork the spawner. Call before any thread exists. */
int sp_spawner_start(struct sp_spawner *spawner, struct sp_error *err);

/* Have the spawner clone a cell for CONFIG (its strings and seccomp program
 * travel by value) and wait until the cell is built. CELL is then used as
 * if sp_cell_create had made it; sp_cell_destroy kills it (the spawner
 * reaps it). */
int sp_spawner_cell(struct sp_spawner *spawner, const struct sp_cell_config *config,
		    struct sp_cell *cell, struct sp_error *err);

/* End the spawner; every cell it made dies with it. */
void sp_spawner_stop(struct sp_spawner *spawner);

#endif
