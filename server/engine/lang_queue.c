#include "lang_queue.h"

#include <stdlib.h>
#include <string.h>

struct sp_user_queue {
	struct sp_dlist jobs;		   /* oldest first */
	struct sp_user_queue *next, *prev; /* the ring of users with queued jobs */
	char user[];
};

/* The user's oldest queued job (a user in the ring has one). */
static struct sp_queue_link *first_of(const struct sp_user_queue *u)
{
	return u->jobs.head ? sp_dlist_entry(u->jobs.head, struct sp_queue_link, in_user) : NULL;
}

static const char *key(const char *user)
{
	return user ? user : "";
}

static struct sp_user_queue *find_user(const struct sp_lang_queue *q, const char *user)
{
	struct sp_user_queue *u = q->turn;

	if (u == NULL)
		return NULL;
	do {
		if (strcmp(u->user, key(user)) == 0)
			return u;
		u = u->next;
	} while (u != q->turn);
	return NULL;
}

/* A new user goes last in the ring: just before the one whose turn it is. */
static struct sp_user_queue *add_user(struct sp_lang_queue *q, const char *user)
{
	size_t len = strlen(key(user));
	struct sp_user_queue *u = calloc(1, sizeof(*u) + len + 1);

	if (u == NULL)
		return NULL;
	memcpy(u->user, key(user), len + 1);
	if (q->turn == NULL) {
		u->next = u->prev = u;
		q->turn = u;
	} else {
		u->next = q->turn;
		u->prev = q->turn->prev;
		u->prev->next = u;
		q->turn->prev = u;
	}
	return u;
}

static void drop_user(struct sp_lang_queue *q, struct sp_user_queue *u)
{
	if (u->next == u) {
		q->turn = NULL;
	} else {
		u->prev->next = u->next;
		u->next->prev = u->prev;
		if (q->turn == u)
			q->turn = u->next;
	}
	free(u);
}

int sp_lang_queue_push(struct sp_lang_queue *q, struct sp_queue_link *link, const char *user)
{
	struct sp_user_queue *u = find_user(q, user);

	if (u == NULL && (u = add_user(q, user)) == NULL)
		return -1;
	sp_dlist_push(&u->jobs, &link->in_user);
	q->queued++;
	return 0;
}

struct sp_queue_link *sp_lang_queue_next(const struct sp_lang_queue *q)
{
	return q->turn ? first_of(q->turn) : NULL;
}

/* Unlink LINK from U's FIFO; U leaves the ring when it has no job left. */
static void unlink_from(struct sp_lang_queue *q, struct sp_user_queue *u,
			struct sp_queue_link *link)
{
	sp_dlist_remove(&u->jobs, &link->in_user);
	q->queued--;
	if (u->jobs.count == 0)
		drop_user(q, u);
}

struct sp_queue_link *sp_lang_queue_pop(struct sp_lang_queue *q)
{
	struct sp_user_queue *u = q->turn;
	struct sp_queue_link *link;

	if (u == NULL)
		return NULL;
	link = first_of(u);
	if (u->jobs.count > 1)
		q->turn = u->next;
	unlink_from(q, u, link); /* or the turn passes as U leaves the ring */
	return link;
}

int sp_lang_queue_remove(struct sp_lang_queue *q, struct sp_queue_link *link, const char *user)
{
	struct sp_user_queue *u = find_user(q, user);
	struct sp_dlink *at = u ? u->jobs.head : NULL;

	while (at != NULL && at != &link->in_user)
		at = at->next;
	if (at == NULL)
		return -1;
	unlink_from(q, u, link);
	return 0;
}

struct sp_queue_link *sp_lang_queue_take_older(struct sp_lang_queue *q, uint64_t before_ms)
{
	struct sp_user_queue *u = q->turn;

	if (u == NULL)
		return NULL;
	do {
		struct sp_queue_link *head = first_of(u);

		if (head->created_ms < before_ms) {
			unlink_from(q, u, head);
			return head;
		}
		u = u->next;
	} while (u != q->turn);
	return NULL;
}

uint64_t sp_lang_queue_oldest(const struct sp_lang_queue *q)
{
	const struct sp_user_queue *u = q->turn;
	uint64_t oldest = 0;

	if (u == NULL)
		return 0;
	do {
		if (oldest == 0 || first_of(u)->created_ms < oldest)
			oldest = first_of(u)->created_ms;
		u = u->next;
	} while (u != q->turn);
	return oldest;
}
