/* Reports the ids and capabilities of the job, and tries to gain privilege.
 * Installed setuid-root it must still run with the caller's ids. Exits 0
 * when nothing was gained. */
#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

static int gained;

static void status_line(const char *key)
{
	char line[256];
	FILE *f = fopen("/proc/self/status", "r");

	while (f && fgets(line, sizeof(line), f)) {
		if (strncmp(line, key, strlen(key)) == 0) {
			fputs(line, stdout);
			if (strncmp(key, "Cap", 3) == 0 && strstr(line, "0000000000000000") == NULL)
				gained++;
		}
	}
	if (f)
		fclose(f);
}

int main(void)
{
	uid_t ruid, euid, suid;
	gid_t gid = 0;

	getresuid(&ruid, &euid, &suid);
	printf("uid %u euid %u suid %u\n", ruid, euid, suid);
	if (euid != ruid || suid != ruid)
		gained++;
	status_line("CapInh");
	status_line("CapPrm");
	status_line("CapEff");
	status_line("CapBnd");
	status_line("CapAmb");
	status_line("NoNewPrivs");
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
		gained++;
	if (ruid != 0 && setuid(0) == 0) {
		printf("setuid(0): ALLOWED\n");
		gained++;
	}
	if (setgroups(1, &gid) == 0) {
		printf("setgroups: ALLOWED\n");
		gained++;
	}
	printf("%d gained\n", gained);
	return gained == 0 ? 0 : 1;
}
