/* Writes 100 MB into /box/big: the file size limit must stop it. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(void)
{
	static char block[1 << 20];
	int fd = open("/box/big", O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd < 0) {
		perror("open");
		return 2;
	}
	memset(block, 'x', sizeof(block));
	for (int i = 0; i < 100; i++) {
		if (write(fd, block, sizeof(block)) != (ssize_t)sizeof(block)) {
			perror("write");
			return 1;
		}
	}
	printf("wrote 100 MB\n");
	return 0;
}
