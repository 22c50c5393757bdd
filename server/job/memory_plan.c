#include "memory_plan.h"

#include <errno.h>

#include "request.h"

#define MIB (1ull << 20)

int sp_memory_plan(const struct sp_config *c, unsigned workers, struct sp_memory_plan *plan,
		   struct sp_error *err)
{
	uint64_t body = sp_request_parse_bytes(c->max_body, 0, false);

	plan->total = c->memory_max_mb * MIB;
	plan->base = SP_MEMORY_BASE + SP_MEMORY_PER_THREAD * ((uint64_t)c->threads + workers);
	plan->programs = plan->total / 8;
	plan->requests = plan->total > plan->base + plan->programs
			     ? plan->total - plan->base - plan->programs
			     : 0;
	plan->share = plan->requests * c->memory_share_percent / 100;
	if (plan->share < body)
		return sp_error_set(err, EINVAL,
				    "memory_max_mb %llu leaves %llu MiB for requests (%u%% of it "
				    "for one client: memory_share_percent), less than the %llu "
				    "MiB that parsing one body of max_body takes; raise "
				    "memory_max_mb or lower max_body or threads",
				    (unsigned long long)c->memory_max_mb,
				    (unsigned long long)(plan->requests / MIB),
				    c->memory_share_percent,
				    (unsigned long long)((body + MIB - 1) / MIB));
	return 0;
}
