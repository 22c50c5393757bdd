/* Per-user limits: jobs in flight (queued or running) and submissions per
 * minute (a token bucket that refills continuously). Not locked: the job
 * table's mutex covers it. Users whose counts are back to rest are
 * forgotten, so the table holds only the users active in the last minute. */
#ifndef SANDPOOL_USER_QUOTA_H
#define SANDPOOL_USER_QUOTA_H

#include <stdint.h>

struct sp_user_quota_entry; /* private */

struct sp_user_quotas {
	unsigned in_flight_max; /* 0 = no limit */
	unsigned per_minute;	/* 0 = no limit */
	struct sp_user_quota_entry *entries;
};

enum sp_quota_verdict { SP_QUOTA_OK, SP_QUOTA_IN_FLIGHT, SP_QUOTA_RATE, SP_QUOTA_NO_MEMORY };

/* Count a new job of USER at NOW_MS if the limits allow it. */
enum sp_quota_verdict sp_user_quota_admit(struct sp_user_quotas *q, const char *user,
					  uint64_t now_ms);

/* A job of USER ended (or was never queued after being admitted). */
void sp_user_quota_release(struct sp_user_quotas *q, const char *user, uint64_t now_ms);

/* Seconds until USER may submit again under the rate limit; 0: now. */
unsigned sp_user_quota_retry_after(struct sp_user_quotas *q, const char *user, uint64_t now_ms);

void sp_user_quotas_free(struct sp_user_quotas *q);

#endif
