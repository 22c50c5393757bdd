#include "user_quota.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define MINUTE_MS 60000.0

struct sp_user_quota_entry {
	struct sp_user_quota_entry *next;
	unsigned in_flight;
	double tokens;	    /* submissions left, up to per_minute */
	uint64_t refill_ms; /* when tokens was last brought up to date */
	char user[];
};

static struct sp_user_quota_entry *find(struct sp_user_quotas *q, const char *user,
					struct sp_user_quota_entry ***at)
{
	struct sp_user_quota_entry **p = &q->entries;

	while (*p != NULL && strcmp((*p)->user, user) != 0)
		p = &(*p)->next;
	if (at != NULL)
		*at = p;
	return *p;
}

static void refill(const struct sp_user_quotas *q, struct sp_user_quota_entry *e, uint64_t now)
{
	if (q->per_minute == 0)
		return;
	e->tokens += (double)(now - e->refill_ms) * q->per_minute / MINUTE_MS;
	if (e->tokens > q->per_minute)
		e->tokens = q->per_minute;
	e->refill_ms = now;
}

/* At rest: nothing in flight and a full bucket, so nothing to remember. */
static bool at_rest(const struct sp_user_quotas *q, const struct sp_user_quota_entry *e)
{
	return e->in_flight == 0 && (q->per_minute == 0 || e->tokens >= q->per_minute);
}

static void forget_if_at_rest(struct sp_user_quotas *q, struct sp_user_quota_entry **at)
{
	struct sp_user_quota_entry *e = *at;

	if (at_rest(q, e)) {
		*at = e->next;
		free(e);
	}
}

enum sp_quota_verdict sp_user_quota_admit(struct sp_user_quotas *q, const char *user,
					  uint64_t now_ms)
{
	struct sp_user_quota_entry **at, *e;
	size_t len;

	if (user == NULL || (q->in_flight_max == 0 && q->per_minute == 0))
		return SP_QUOTA_OK;
	e = find(q, user, &at);
	if (e == NULL) {
		len = strlen(user);
		e = calloc(1, sizeof(*e) + len + 1);
		if (e == NULL)
			return SP_QUOTA_NO_MEMORY;
		memcpy(e->user, user, len + 1);
		e->tokens = q->per_minute;
		e->refill_ms = now_ms;
		*at = e;
	}
	refill(q, e, now_ms);
	if (q->in_flight_max != 0 && e->in_flight >= q->in_flight_max)
		return SP_QUOTA_IN_FLIGHT;
	if (q->per_minute != 0 && e->tokens < 1.0)
		return SP_QUOTA_RATE;
	e->in_flight++;
	if (q->per_minute != 0)
		e->tokens -= 1.0;
	return SP_QUOTA_OK;
}

void sp_user_quota_release(struct sp_user_quotas *q, const char *user, uint64_t now_ms)
{
	struct sp_user_quota_entry **at, *e;

	if (user == NULL || (e = find(q, user, &at)) == NULL)
		return;
	if (e->in_flight > 0)
		e->in_flight--;
	refill(q, e, now_ms);
	forget_if_at_rest(q, at);
}

unsigned sp_user_quota_retry_after(struct sp_user_quotas *q, const char *user, uint64_t now_ms)
{
	struct sp_user_quota_entry *e;
	double missing;

	if (user == NULL || q->per_minute == 0 || (e = find(q, user, NULL)) == NULL)
		return 0;
	refill(q, e, now_ms);
	missing = 1.0 - e->tokens;
	if (missing <= 0)
		return 0;
	return ((unsigned)(missing * MINUTE_MS / q->per_minute) + 999) / 1000; /* rounded up */
}

void sp_user_quotas_free(struct sp_user_quotas *q)
{
	while (q->entries != NULL) {
		struct sp_user_quota_entry *e = q->entries;

		q->entries = e->next;
		free(e);
	}
}
