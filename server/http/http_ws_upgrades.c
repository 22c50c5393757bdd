#include "http_ws_upgrades.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

#define BUCKETS 64

struct entry {
	struct entry *next;
	const void *conn;
	void *value;
};

struct sp_ws_upgrades {
	pthread_mutex_t lock;
	struct entry *buckets[BUCKETS];
};

struct sp_ws_upgrades *sp_ws_upgrades_new(void)
{
	struct sp_ws_upgrades *ups = calloc(1, sizeof(*ups));

	if (ups != NULL)
		pthread_mutex_init(&ups->lock, NULL);
	return ups;
}

void sp_ws_upgrades_free(struct sp_ws_upgrades *ups)
{
	if (ups == NULL)
		return;
	for (size_t i = 0; i < BUCKETS; i++) {
		while (ups->buckets[i] != NULL) {
			struct entry *e = ups->buckets[i];

			ups->buckets[i] = e->next;
			free(e);
		}
	}
	pthread_mutex_destroy(&ups->lock);
	free(ups);
}

static struct entry **bucket(struct sp_ws_upgrades *ups, const void *conn)
{
	uintptr_t p = (uintptr_t)conn;

	return &ups->buckets[((p >> 4) ^ (p >> 12)) % BUCKETS];
}

int sp_ws_upgrades_add(struct sp_ws_upgrades *ups, const void *conn, void *value)
{
	struct entry *e = malloc(sizeof(*e));
	struct entry **slot;

	if (e == NULL)
		return -1;
	e->conn = conn;
	e->value = value;
	pthread_mutex_lock(&ups->lock);
	slot = bucket(ups, conn);
	e->next = *slot;
	*slot = e;
	pthread_mutex_unlock(&ups->lock);
	return 0;
}

void *sp_ws_upgrades_find(struct sp_ws_upgrades *ups, const void *conn)
{
	void *value = NULL;

	pthread_mutex_lock(&ups->lock);
	for (struct entry *e = *bucket(ups, conn); e != NULL && value == NULL; e = e->next) {
		if (e->conn == conn)
			value = e->value;
	}
	pthread_mutex_unlock(&ups->lock);
	return value;
}

void *sp_ws_upgrades_take(struct sp_ws_upgrades *ups, const void *conn)
{
	struct entry *gone = NULL, **p;
	void *value = NULL;

	pthread_mutex_lock(&ups->lock);
	for (p = bucket(ups, conn); *p != NULL; p = &(*p)->next) {
		if ((*p)->conn == conn) {
			gone = *p;
			*p = gone->next;
			break;
		}
	}
	pthread_mutex_unlock(&ups->lock);
	if (gone != NULL) {
		value = gone->value;
		free(gone);
	}
	return value;
}
