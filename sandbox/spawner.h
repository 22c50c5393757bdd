/* The spawner: a single-threaded process, forked before the supervisor
 * starts any thread, and the only process that clones cells. The
 * supervisor asks it for a cell and gets back the cell's pid and control
 * socket; the cells are the spawner's children, but belong to the
 * supervisor: each ends when the supervisor closes its socket, and holds
 * no descriptor of the spawner's. A spawner that dies can be started anew
 * (sp_spawner_start_renewable): the cells it made go on serving. */
#ifndef SANDPOOL_SPAWNER_H
#define SANDPOOL_SPAWNER_H

#include <sys/types.h>

#include "cell.h"
#include "sandbox/base/error.h"

struct sp_spawner {
	pid_t pid;
	int sock;    /* the supervisor's end */
	int program; /* the program to run as a new spawner (O_PATH), or -1 */
};

/* The argument that makes a program a spawner (sp_spawner_main_if_asked). */
#define SP_SPAWNER_ARG "--sandpool-spawner"

/* Fork the spawner. Call before any thread exists. */
int sp_spawner_start(struct sp_spawner *spawner, struct sp_error *err);

/* The same, and when the spawner dies (killed, say), the next
 * sp_spawner_cell runs this very program anew as the spawner: its main()
 * must call sp_spawner_main_if_asked() first. */
int sp_spawner_start_renewable(struct sp_spawner *spawner, struct sp_error *err);

/* Run as the spawner, and never return, when ARGV asks for it (the program
 * run anew by a renewable spawner: SP_SPAWNER_ARG and the supervisor's
 * pid); else return at once. */
void sp_spawner_main_if_asked(int argc, char **argv);

/* Have the spawner clone a cell for CONFIG (its strings and seccomp program
 * travel by value) and wait until the cell is built. CELL is then used as
 * if sp_cell_create had made it; sp_cell_destroy kills it (the spawner
 * reaps it). A renewable spawner found dead is started anew, and asked
 * again. Called by one thread at a time. */
int sp_spawner_cell(struct sp_spawner *spawner, const struct sp_cell_config *config,
		    struct sp_cell *cell, struct sp_error *err);

/* End the spawner (the supervisor closes its cells' sockets first). */
void sp_spawner_stop(struct sp_spawner *spawner);

#endif
