/* Leaves a double-forked, setsid daemon that ignores every signal it can,
 * then exits at once. Nothing of it may outlive the job. */
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

int main(void)
{
	if (fork() == 0) {
		setsid();
		if (fork() == 0) {
			for (int s = 1; s < 65; s++)
				signal(s, SIG_IGN);
			for (;;)
				pause();
		}
		_exit(0);
	}
	printf("daemon started\n");
	return 0;
}
