/* Leasing a cell and running a job spec on it: a warm cell of the job's
 * language waited for (or a spare one made for the lease), the spec run,
 * what the caller does with the cell after, the cell given back. Below the
 * plain jobs, the judge's tests and the programs it builds alike. */
#ifndef SANDPOOL_CELL_LEASE_H
#define SANDPOOL_CELL_LEASE_H

#include <stdbool.h>
#include <stdint.h>

#include "sandbox/base/error.h"
#include "server/job/job_run.h"

struct sp_server;
struct sp_cell;

/* What to do with the job's cell after the job ended well, before it goes
 * back (a judge packs a compiled box): FN returns 0, or -1 when the cell
 * must be destroyed. */
struct sp_cell_after {
	int (*fn)(void *ctx, struct sp_cell *cell, struct sp_job_result *res);
	void *ctx;
};

/* Which cell a job runs on, and what is done with it after. */
struct sp_cell_use {
	const char *language;
	bool spare; /* a cell that waits for no one (sp_pool_lease_spare), not
		     * one of the language's warm cells waited for */
	const struct sp_cell_after *after; /* or NULL */
	uint64_t leased_us;		   /* out: when the cell was leased (sp_clock_us) */
};

/* Run SPEC on a cell as USE says: lease one (a warm one waited for up to
 * 30 s, or a spare), run, USE's after, release. A cell found broken before
 * any of the job ran is replaced and the job tried again, three times at
 * most. Returns 0 with RES filled (sp_job_result_free() it), or -1 with ERR
 * when no cell could be had. */
int sp_run_on_cell(struct sp_server *server, struct sp_cell_use *use,
		   const struct sp_job_spec *spec, struct sp_job_result *res, struct sp_error *err);

#endif
