/* Lists the descriptors open at start. Exits 0 when they are exactly 0, 1, 2. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>

int main(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int extra = 0, seen = 0;

	if (d == NULL) {
		perror("opendir /proc/self/fd");
		return 2;
	}
	while ((e = readdir(d)) != NULL) {
		int fd;

		if (e->d_name[0] == '.')
			continue;
		fd = atoi(e->d_name);
		if (fd == dirfd(d))
			continue;
		printf("fd %d\n", fd);
		if (fd <= 2)
			seen++;
		else
			extra++;
	}
	closedir(d);
	return extra == 0 && seen == 3 ? 0 : 1;
}
