/* An intrusive doubly linked list that knows its length: an element holds
 * a struct sp_dlink, and is pushed at the tail and taken at the head (oldest
 * first) or unlinked from anywhere. The pool's idle and leased cells and the
 * job table's kept jobs are such lists. */
#ifndef SANDPOOL_DLIST_H
#define SANDPOOL_DLIST_H

#include <stddef.h>

struct sp_dlink {
	struct sp_dlink *prev, *next;
};

struct sp_dlist {
	struct sp_dlink *head, *tail;
	unsigned count;
};

/* The TYPE whose MEMBER is LINK (not NULL). */
#define sp_dlist_entry(link, type, member) ((type *)(void *)((char *)(link)-offsetof(type, member)))

static inline void sp_dlist_push(struct sp_dlist *list, struct sp_dlink *link)
{
	link->next = NULL;
	link->prev = list->tail;
	if (list->tail)
		list->tail->next = link;
	else
		list->head = link;
	list->tail = link;
	list->count++;
}

static inline void sp_dlist_remove(struct sp_dlist *list, struct sp_dlink *link)
{
	if (link->prev)
		link->prev->next = link->next;
	else
		list->head = link->next;
	if (link->next)
		link->next->prev = link->prev;
	else
		list->tail = link->prev;
	link->prev = link->next = NULL;
	list->count--;
}

/* The oldest element, unlinked; NULL when the list is empty. */
static inline struct sp_dlink *sp_dlist_pop(struct sp_dlist *list)
{
	struct sp_dlink *link = list->head;

	if (link)
		sp_dlist_remove(list, link);
	return link;
}

#endif
