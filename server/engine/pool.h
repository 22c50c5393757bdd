/* The warm pool: per language, N cells made by the spawner and kept idle
 * between jobs. A job leases a cell, runs its steps, and releases it; the
 * pool resets the cell (the reset contract of DESIGN.md) or destroys it, and
 * a refill thread brings every language back to its size.
 *
 * Locking: one mutex for the pool state, one condition variable per language
 * for the jobs waiting for its cells, and a separate mutex around the spawner
 * (its socket carries one request at a time). The pool mutex is never held
 * while talking to a cell or to the spawner. */
#ifndef SANDPOOL_POOL_H
#define SANDPOOL_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sandbox/base/error.h"
#include "sandbox/cell.h"
#include "sandbox/spawner.h"

struct sp_pool; /* opaque */
struct sp_pool_slot;

struct sp_pool_language {
	const char *name; /* e.g. "python"; copied */
	/* rootfs and hostname are copied; the seccomp program must outlive
	 * the pool. */
	struct sp_cell_config cell_config;
	unsigned size;			 /* warm cells kept; 0 = cold: a fresh cell per job */
	unsigned max_jobs_per_cell;	 /* a cell is retired after this many jobs; 0 = never */
	bool prepare_steps;		 /* a warm cell prepares its next step (sp_cell_prepare) */
	struct sp_limits prepare_limits; /* its cgroup's limits while it prepares */
	/* the steps a warm cell prepares (1 or 2: compile, run) and the
	 * runtime of each (NULL: none); the runtimes outlive the pool */
	unsigned prepare_slots;
	const struct sp_cell_runtime *runtime[SP_CELL_SLOTS];
};

struct sp_lease {
	struct sp_cell *cell;
	struct sp_pool_slot *slot; /* private */
};

struct sp_pool_stats {
	unsigned idle, busy, starting;
	unsigned waiting;   /* leases waiting for a cell */
	unsigned long jobs; /* cells released (good or not) */
	unsigned long
	    replaced; /* cells destroyed and replaced (retired, reset failed, broken, dead) */
	unsigned long spawn_failures;
	/* what its warm cells prepare before a job comes: "runtime" (a step's
	 * runtime, and the other steps' sandboxes), "steps" (their sandboxes)
	 * or "nothing" (turned off, cold, or no pids cgroup) */
	const char *prepares;
};

/* Start the pool: make every language's warm cells through SPAWNER (started
 * before any thread), each in a cgroup of its own below CGROUPS (NULL: none),
 * then the refill thread. Returns -1 with ERR when a cell cannot be made at
 * all (e.g. a bad rootfs); nothing is left running then. */
int sp_pool_start(struct sp_pool **pool, struct sp_spawner *spawner,
		  const struct sp_cgroup_root *cgroups, const struct sp_pool_language *languages,
		  size_t count, struct sp_error *err);

/* Lease a cell of LANGUAGE (by name): an idle warm one, else wait until one
 * is returned or refilled; a cold language gets a fresh cell. Gives up at
 * DEADLINE_MS (CLOCK_MONOTONIC, in ms; 0 = no deadline) with ETIMEDOUT, with
 * ECANCELED when the pool stops, with ENOENT for an unknown language, and with
 * the spawner's error when the language has no cell and cannot make one.
 * Thread-safe. */
int sp_pool_lease(struct sp_pool *pool, const char *language, uint64_t deadline_ms,
		  struct sp_lease *lease, struct sp_error *err);

/* Lease a cell of LANGUAGE that waits for no one: an idle warm one if there
 * is one now, else a fresh cell made for this lease alone (destroyed when
 * released, not counted as replaced). For what runs beside a job that holds
 * its language's cells (a judge's checkers and interactors): it must never
 * wait for a cell that only that job could give back. Fails as
 * sp_pool_lease() does, never with ETIMEDOUT. Thread-safe. */
int sp_pool_lease_spare(struct sp_pool *pool, const char *language, struct sp_lease *lease,
			struct sp_error *err);

/* Give the cell back. GOOD: the job ended and the cell answered; the pool
 * resets it and makes it idle, or destroys it when the reset fails or it has
 * served max_jobs_per_cell jobs. !GOOD: destroyed. A destroyed warm cell is
 * replaced by the refill thread; cold cells are always destroyed. */
void sp_pool_release(struct sp_pool *pool, struct sp_lease *lease, bool good);

/* Figures of LANGUAGE, or the sum over all languages when LANGUAGE is NULL.
 * Returns -1 for an unknown language. */
int sp_pool_stats(struct sp_pool *pool, const char *language, struct sp_pool_stats *stats);

/* Current CLOCK_MONOTONIC time in ms, the clock of lease deadlines. */
uint64_t sp_pool_now_ms(void);

/* Stop: wake every waiting lease (ECANCELED), wait at most GRACE_MS for the
 * leased cells to come back, kill the cells still leased after that (their
 * steps fail at once) and wait for their release, then destroy every cell,
 * stop the refill thread and free the pool. No call on POOL may start after
 * this one; releases of cells leased before it are expected. */
void sp_pool_stop(struct sp_pool *pool, uint64_t grace_ms);

#endif
