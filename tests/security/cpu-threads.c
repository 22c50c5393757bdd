/* Burns cpu on four threads: the job's cpu time must count all of them. */
#include <pthread.h>

static void *burn(void *arg)
{
	volatile unsigned long n = 0;

	(void)arg;
	for (;;)
		n++;
	return NULL;
}

int main(void)
{
	pthread_t t[4];

	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, burn, NULL);
	pthread_join(t[0], NULL);
	return 0;
}
