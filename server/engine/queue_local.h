/* The queue's local backend: the jobs of this process, in its job table
 * (job_table.h), run by the table's workers or by the thread that waits for
 * its job. */
#ifndef SANDPOOL_QUEUE_LOCAL_H
#define SANDPOOL_QUEUE_LOCAL_H

#include "job_table.h"
#include "queue.h"
#include "sandbox/base/error.h"

struct sp_queue_local_config {
	/* The table's bounds; its callbacks and their ctx are the backend's
	 * own (left as they are here, they are not read). */
	struct sp_job_table_config table;
	struct sp_queue_worker worker;
	struct sp_queue_watchers watchers;
	const char *node; /* this node's name */
};

/* Start the job table and its workers as *QUEUE. Returns 0, or -1 with ERR. */
int sp_queue_local_start(struct sp_queue **queue, const struct sp_queue_local_config *config,
			 struct sp_error *err);

#endif
