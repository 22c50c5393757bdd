#include "job_queue.h"

#include <stdlib.h>
#include <string.h>

struct sp_user_queue {
	struct sp_queue_link *head, *tail;
	struct sp_user_queue *next, *prev; /* the ring of users with queued jobs */
	char user[];
};

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
	link->next = NULL;
	if (u->tail)
		u->tail->next = link;
	else
		u->head = link;
	u->tail = link;
	q->queued++;
	return 0;
}

struct sp_queue_link *sp_lang_queue_next(const struct sp_lang_queue *q)
{
	return q->turn ? q->turn->head : NULL;
}

/* Unlink LINK from U's list (PREV is the link before it, or NULL). */
static void unlink_from(struct sp_lang_queue *q, struct sp_user_queue *u,
			struct sp_queue_link *prev, struct sp_queue_link *link)
{
	if (prev)
		prev->next = link->next;
	else
		u->head = link->next;
	if (u->tail == link)
		u->tail = prev;
	link->next = NULL;
	q->queued--;
}

struct sp_queue_link *sp_lang_queue_pop(struct sp_lang_queue *q)
{
	struct sp_user_queue *u = q->turn;
	struct sp_queue_link *link;

	if (u == NULL)
		return NULL;
	link = u->head;
	unlink_from(q, u, NULL, link);
	if (u->head == NULL)
		drop_user(q, u); /* the turn passes to the next user */
	else
		q->turn = u->next;
	return link;
}

int sp_lang_queue_remove(struct sp_lang_queue *q, struct sp_queue_link *link, const char *user)
{
	struct sp_user_queue *u = find_user(q, user);
	struct sp_queue_link *prev = NULL, *at;

	if (u == NULL)
		return -1;
	for (at = u->head; at != NULL && at != link; at = at->next)
		prev = at;
	if (at == NULL)
		return -1;
	unlink_from(q, u, prev, link);
	if (u->head == NULL)
		drop_user(q, u);
	return 0;
}

struct sp_queue_link *sp_lang_queue_take_older(struct sp_lang_queue *q, uint64_t before_ms)
{
	struct sp_user_queue *u = q->turn;

	if (u == NULL)
		return NULL;
	do {
		struct sp_queue_link *head = u->head;

		if (head->created_ms < before_ms) {
			unlink_from(q, u, NULL, head);
			if (u->head == NULL)
				drop_user(q, u);
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
		if (oldest == 0 || u->head->created_ms < oldest)
			oldest = u->head->created_ms;
		u = u->next;
	} while (u != q->turn);
	return oldest;
}
