/* Starts threads that sleep, until creation fails; then spins. */
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

static void *sleeper(void *arg)
{
	(void)arg;
	pause();
	return NULL;
}

int main(void)
{
	int started = 0;
	pthread_attr_t attr;

	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 65536);
	for (;;) {
		pthread_t t;

		if (pthread_create(&t, &attr, sleeper, NULL) != 0)
			break;
		started++;
	}
	printf("%d threads\n", started);
	fflush(stdout);
	return 0;
}
