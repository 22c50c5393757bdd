/* Tries to write or escape through the file system. Exits 0 when every
 * attempt failed; prints one line per attempt. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

static int allowed;

static void report(const char *name, int rc)
{
	if (rc < 0) {
		printf("%s: refused (%s)\n", name, strerror(errno));
	} else {
		printf("%s: ALLOWED\n", name);
		allowed++;
	}
}

static int write_to(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY);
	int rc;

	if (fd < 0)
		return -1;
	rc = write(fd, text, strlen(text)) < 0 ? -1 : 0;
	close(fd);
	return rc;
}

static int create(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);

	if (fd < 0)
		return -1;
	close(fd);
	unlink(path);
	return 0;
}

/* Reading any byte counts as allowed. */
static int read_some(const char *path)
{
	char buf[16];
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n > 0)
		return 0;
	errno = n == 0 ? ENODATA : errno;
	return -1;
}

/* Is there anything above / ? Walk up with "..": the root's parent is itself. */
static int escape_root(void)
{
	struct stat root, up;

	if (stat("/", &root) < 0 || stat("/../../..", &up) < 0)
		return -1;
	if (root.st_ino == up.st_ino && root.st_dev == up.st_dev) {
		errno = ENOENT;
		return -1;
	}
	return 0;
}

int main(void)
{
	report("create /etc/evil", create("/etc/evil"));
	report("create /usr/evil", create("/usr/evil"));
	report("remount / rw", mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND, NULL));
	report("write /proc/sys/kernel/hostname", write_to("/proc/sys/kernel/hostname", "evil"));
	report("write /proc/sysrq-trigger", write_to("/proc/sysrq-trigger", "h"));
	report("write /proc/self/exe", write_to("/proc/self/exe", "x"));
	report("create in /proc", create("/proc/evil"));
	report("create in /dev", create("/dev/evil"));
	report("open /sys/kernel", open("/sys/kernel", O_RDONLY));
	report("read /proc/kcore", read_some("/proc/kcore"));
	report("read /proc/keys", read_some("/proc/keys"));
	report("read /proc/timer_list", read_some("/proc/timer_list"));
	report("escape root by ..", escape_root());
	if (create("/box/ok") < 0) {
		printf("create /box/ok: FAILED (%s), /box must be writable\n", strerror(errno));
		allowed++;
	}
	printf("%d allowed\n", allowed);
	return allowed == 0 ? 0 : 1;
}
