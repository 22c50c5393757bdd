/* The monotonic clock that every deadline and duration of sandpool uses. */
#ifndef SANDPOOL_CLOCK_H
#define SANDPOOL_CLOCK_H

#include <stdint.h>
#include <time.h>

/* CLOCK_MONOTONIC in milliseconds. */
static inline uint64_t sp_clock_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* CLOCK_MONOTONIC in microseconds. */
static inline uint64_t sp_clock_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* The time MS of sp_clock_ms() as a timespec: the deadline of a
 * pthread_cond_timedwait on a condition that uses CLOCK_MONOTONIC. */
static inline struct timespec sp_clock_timespec(uint64_t ms)
{
	return (struct timespec){.tv_sec = (time_t)(ms / 1000),
				 .tv_nsec = (long)(ms % 1000) * 1000000};
}

#endif
