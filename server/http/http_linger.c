#include "http_linger.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sandbox/base/clock.h"
#include "sandbox/base/log.h"

#define LINGER_MAX   256
#define LINGER_MS    2000
#define LINGER_BYTES (16u << 20)
#define WAKE_INDEX   UINT32_MAX /* the epoll data of the wake eventfd */
#define DRAIN_READS  4		/* reads of 64 KiB per socket and wake */

struct lingering {
	int fd; /* -1: a free slot */
	uint64_t until_ms;
	uint64_t bytes;
};

struct sp_linger {
	pthread_mutex_t lock;
	pthread_t thread;
	int epoll, wake; /* wake: an eventfd, written to stop the thread or to
			  * have it wait with a timeout again */
	bool stopping;
	unsigned held;
	struct lingering slots[LINGER_MAX];
};

/* Under the lock: close slot I's socket and free the slot. */
static void release(struct sp_linger *l, unsigned i)
{
	close(l->slots[i].fd);
	l->slots[i].fd = -1;
	l->held--;
}

/* Under the lock: read what slot I's client sent, a few reads at most (the
 * epoll set is level-triggered: the rest wakes the loop again, and the
 * accepting thread waits for the lock meanwhile); close it when it is done
 * sending or has sent too much. */
static void drain(struct sp_linger *l, unsigned i)
{
	struct lingering *s = &l->slots[i];
	char buf[65536];

	for (int reads = 0; s->fd >= 0 && reads < DRAIN_READS; reads++) {
		ssize_t n = recv(s->fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0 || (s->bytes += (uint64_t)n) > LINGER_BYTES)
			release(l, i);
	}
}

/* Under the lock: close the sockets whose time is up. */
static void expire(struct sp_linger *l, uint64_t now)
{
	for (unsigned i = 0; i < LINGER_MAX; i++)
		if (l->slots[i].fd >= 0 && l->slots[i].until_ms <= now)
			release(l, i);
}

static void *linger_loop(void *arg)
{
	struct sp_linger *l = arg;
	struct epoll_event events[64];
	int timeout = -1; /* none held: wait for one */
	uint64_t count;

	for (;;) {
		int n = epoll_wait(l->epoll, events, 64, timeout);
		bool stopping;

		pthread_mutex_lock(&l->lock);
		for (int i = 0; i < n; i++) {
			if (events[i].data.u32 == WAKE_INDEX)
				(void)!read(l->wake, &count, sizeof(count));
			else if (events[i].data.u32 < LINGER_MAX)
				drain(l, events[i].data.u32);
		}
		stopping = l->stopping;
		expire(l, stopping ? UINT64_MAX : sp_clock_ms());
		timeout = l->held > 0 ? 100 : -1;
		pthread_mutex_unlock(&l->lock);
		if (stopping)
			return NULL;
	}
}

static int watch(int epoll, int fd, uint32_t index)
{
	struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.u32 = index};

	return epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &ev);
}

struct sp_linger *sp_linger_new(void)
{
	struct sp_linger *l = calloc(1, sizeof(*l));

	if (l == NULL)
		return NULL;
	for (unsigned i = 0; i < LINGER_MAX; i++)
		l->slots[i].fd = -1;
	pthread_mutex_init(&l->lock, NULL);
	l->epoll = epoll_create1(EPOLL_CLOEXEC);
	l->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (l->epoll >= 0 && l->wake >= 0 && watch(l->epoll, l->wake, WAKE_INDEX) == 0 &&
	    pthread_create(&l->thread, NULL, linger_loop, l) == 0)
		return l;
	if (l->epoll >= 0)
		close(l->epoll);
	if (l->wake >= 0)
		close(l->wake);
	pthread_mutex_destroy(&l->lock);
	free(l);
	return NULL;
}

/* Have the thread look at its sockets again. */
static void wake(struct sp_linger *l)
{
	uint64_t one = 1;

	if (write(l->wake, &one, sizeof(one)) != sizeof(one))
		log_error("linger: cannot wake its thread: %s", strerror(errno));
}

void sp_linger_free(struct sp_linger *l)
{
	if (l == NULL)
		return;
	pthread_mutex_lock(&l->lock);
	l->stopping = true;
	pthread_mutex_unlock(&l->lock);
	wake(l);
	pthread_join(l->thread, NULL);
	close(l->epoll);
	close(l->wake);
	pthread_mutex_destroy(&l->lock);
	free(l);
}

/* Under the lock: a free slot, or -1. */
static int free_slot(struct sp_linger *l)
{
	for (unsigned i = 0; i < LINGER_MAX; i++)
		if (l->slots[i].fd < 0)
			return (int)i;
	return -1;
}

void sp_linger_close(struct sp_linger *l, int fd)
{
	int i;

	if (l == NULL) {
		close(fd);
		return;
	}
	pthread_mutex_lock(&l->lock);
	i = free_slot(l);
	if (i >= 0 && watch(l->epoll, fd, (uint32_t)i) == 0) {
		l->slots[i] = (struct lingering){.fd = fd, .until_ms = sp_clock_ms() + LINGER_MS};
		if (l->held++ == 0)
			wake(l); /* it waits without a timeout while it holds none */
	} else {
		close(fd);
	}
	pthread_mutex_unlock(&l->lock);
}
