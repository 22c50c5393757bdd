/* The bytes the server holds for requests, against one bound: request bodies
 * being parsed, queued jobs (their inputs), running jobs (their inputs and
 * what their output may take), and finished jobs' results. In all, and per
 * holder: a userId, an API token, a client address, each of which may hold
 * at most a share of the bound in bodies, queued and running jobs (results
 * kept are nobody's: the oldest go first when room is needed).
 *
 * Not locked: the job table's mutex covers it. A holder whose bytes are back
 * to zero is forgotten. */
#ifndef SANDPOOL_JOB_BYTES_H
#define SANDPOOL_JOB_BYTES_H

#include <stdbool.h>
#include <stdint.h>

enum sp_bytes_class {
	SP_BYTES_BODIES,  /* request bodies read and being parsed */
	SP_BYTES_QUEUED,  /* inputs of queued jobs */
	SP_BYTES_RUNNING, /* running jobs, and results not yet taken by their waiter */
	SP_BYTES_KEPT,	  /* results of finished jobs kept for GET */
	SP_BYTES_CLASSES,
};

/* Who holds bytes; NULL or a negative token for none of that kind. */
struct sp_bytes_holder {
	const char *user;
	int token;
	const char *address;
};

struct sp_bytes_entry; /* private */

struct sp_job_bytes {
	uint64_t limit; /* of all classes together; 0 = no limit */
	uint64_t share; /* of one holder in bodies, queued and running; 0 = no limit */
	uint64_t held[SP_BYTES_CLASSES];
	uint64_t peak; /* the most held at once (sp_job_bytes_note_peak) */
	struct sp_bytes_entry **buckets;
};

/* Make B empty with LIMIT and SHARE. Returns 0, -1 when out of memory. */
int sp_job_bytes_init(struct sp_job_bytes *b, uint64_t limit, uint64_t share);

void sp_job_bytes_free(struct sp_job_bytes *b);

/* All the bytes held now. */
uint64_t sp_job_bytes_total(const struct sp_job_bytes *b);

/* Would N bytes more stay within the limit? */
bool sp_job_bytes_fit(const struct sp_job_bytes *b, uint64_t n);

/* The kind of H's first holder ("user", "token", "address") that N bytes
 * more would take past the share, or NULL when all stay within it. *HELD is
 * what that holder has now. */
const char *sp_job_bytes_over_share(const struct sp_job_bytes *b, const struct sp_bytes_holder *h,
				    uint64_t n, uint64_t *held);

/* Count N bytes of class C held by H (H is ignored for SP_BYTES_KEPT).
 * Returns 0, -1 when out of memory (nothing is counted then). */
int sp_job_bytes_add(struct sp_job_bytes *b, enum sp_bytes_class c, const struct sp_bytes_holder *h,
		     uint64_t n);

/* Count what is held now in the peak: after a change is whole (a job's
 * bytes move from one class to another by an add, then a sub). */
void sp_job_bytes_note_peak(struct sp_job_bytes *b);

/* Those N bytes are let go. */
void sp_job_bytes_sub(struct sp_job_bytes *b, enum sp_bytes_class c,
		      const struct sp_bytes_holder *h, uint64_t n);

#endif
