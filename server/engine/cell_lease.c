#include "cell_lease.h"

#include <stdbool.h>
#include <string.h>

#include "pool.h"
#include "sandbox/base/clock.h"
#include "server.h"

/* A cell is normally there at once: the queue runs no more jobs of a
 * language than it has cells. The wait covers a cell being reset or
 * replaced; beyond it the pool cannot make cells. */
#define LEASE_WAIT_MS 30000
/* A cell found broken before any of the job ran in it (its init died while
 * idle, say) is replaced and the job goes to another: this many tries. */
#define TRIES 3

/* Nothing of the job ran: the cell failed while its files were written. */
static bool cell_failed_first(int rc, const struct sp_job_result *res)
{
	return rc < 0 && !res->compiled && !res->ran;
}

static int lease(struct sp_server *server, const struct sp_cell_use *use, uint64_t deadline,
		 struct sp_lease *out, struct sp_error *err)
{
	if (use->spare)
		return sp_pool_lease_spare(server->pool, use->language, out, err);
	return sp_pool_lease(server->pool, use->language, deadline, out, err);
}

int sp_run_on_cell(struct sp_server *server, struct sp_cell_use *use,
		   const struct sp_job_spec *spec, struct sp_job_result *res, struct sp_error *err)
{
	uint64_t deadline = sp_pool_now_ms() + LEASE_WAIT_MS;
	const struct sp_cell_after *after = use->after;
	struct sp_lease leased;
	int rc, tries = 0;

	for (;;) {
		if (lease(server, use, deadline, &leased, err) < 0) {
			memset(res, 0, sizeof(*res));
			return -1;
		}
		use->leased_us = sp_clock_us();
		rc = sp_job_run(leased.cell, &server->cgroups, spec, res);
		if (rc == 0 && after != NULL && after->fn(after->ctx, leased.cell, res) < 0)
			rc = -1;
		sp_pool_release(server->pool, &leased, rc == 0);
		if (!cell_failed_first(rc, res) || ++tries >= TRIES)
			return 0;
		sp_job_result_free(res);
	}
}
