/* The Redis backend's connections for the API side and the listener: a few,
 * each used by one caller at a time. */
#include "queue_redis_parts.h"

struct sp_redis_link *rq_link_take(struct redis_queue *q)
{
	unsigned i = atomic_fetch_add(&q->next_link, 1) % RQ_LINKS;

	pthread_mutex_lock(&q->links[i].lock);
	return &q->links[i].link;
}

void rq_link_give(struct redis_queue *q, struct sp_redis_link *link)
{
	for (unsigned i = 0; i < RQ_LINKS; i++)
		if (&q->links[i].link == link)
			pthread_mutex_unlock(&q->links[i].lock);
}
