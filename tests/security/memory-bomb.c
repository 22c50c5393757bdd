/* Allocates and touches memory 1 MiB at a time until something stops it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void)
{
	size_t total = 0;

	for (;;) {
		char *p = malloc(1 << 20);

		if (p == NULL) {
			printf("malloc failed after %zu MiB\n", total);
			return 3;
		}
		memset(p, 1, 1 << 20);
		total++;
	}
}
