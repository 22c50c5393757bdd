/* Packing /box out of a real cell after a step, and writing what came out
 * into another cell: only regular files come back (no symlink followed, no
 * fifo, nothing past the path limits), with their modes and content, and
 * the copy runs there. Runs over a rootfs of busybox-static made in a
 * temporary folder, as root or rootless. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/unit/busybox_rootfs.h"

#include "sandbox/box_archive.h"
#include "sandbox/cell.h"
#include "sandbox/cgroup.h"
#include "sandbox/run.h"
#include "sandbox/seccomp.h"
#include "sandbox/spawner.h"

struct fixture {
	struct busybox_bench bench;
	struct sp_cell compiler; /* runs the step whose /box is packed */
	struct sp_cell runner;	 /* a fresh cell that gets the files */
};

/* An /etc/passwd in the rootfs, so that a symlink to it, if followed, would
 * bring back a file. */
static int add_passwd(const char *rootfs)
{
	char path[160];
	FILE *f;

	snprintf(path, sizeof(path), "%s/etc", rootfs);
	if (mkdir(path, 0755) < 0)
		return -1;
	snprintf(path, sizeof(path), "%s/etc/passwd", rootfs);
	if ((f = fopen(path, "w")) == NULL)
		return -1;
	fputs("root:x:0:0:root:/:/bin/sh\n", f);
	fclose(f);
	return chmod(path, 0644);
}

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	if (fx == NULL || busybox_bench_start(&fx->bench, "sp-pack") < 0 ||
	    add_passwd(fx->bench.rootfs) < 0)
		return -1;
	sp_cell_clear(&fx->compiler, &fx->bench.config);
	sp_cell_clear(&fx->runner, &fx->bench.config);
	if (busybox_cell(&fx->bench, &fx->compiler) < 0 ||
	    busybox_cell(&fx->bench, &fx->runner) < 0)
		return -1;
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	int rc;

	sp_cell_destroy(&fx->compiler);
	sp_cell_destroy(&fx->runner);
	rc = busybox_bench_stop(&fx->bench);
	free(fx);
	return rc;
}

/* SCRIPT in CELL, which must print OUT and succeed. */
static void step_ok(struct fixture *fx, struct sp_cell *cell, const char *script, const char *out)
{
	struct sp_step_result res;

	assert_int_equal(busybox_step(cell, &fx->bench.cgroups, script, &res), 0);
	if (res.status != SP_STATUS_OK)
		fail_msg("step: status %d, stderr: %s", res.status,
			 res.err.data ? res.err.data : "");
	assert_non_null(res.out.data);
	assert_string_equal(res.out.data, out);
	sp_step_result_free(&res);
}

/* Pack CELL's /box and read the archive, files sorted by name. */
static int compare_files(const void *a, const void *b)
{
	return strcmp(((const struct sp_box_file *)a)->name, ((const struct sp_box_file *)b)->name);
}

static void pack(struct sp_cell *cell, struct sp_box_file **files, size_t *count)
{
	struct sp_error err = {0};
	int archive = -1;

	if (sp_cell_pack_box(cell, 0, &archive, &err) < 0)
		fail_msg("pack: %s", err.message);
	assert_true(archive >= 0);
	assert_int_equal(fcntl(archive, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
	assert_int_equal(fcntl(archive, F_GET_SEALS) & SP_BOX_SEALS, SP_BOX_SEALS);
	if (sp_box_archive_read(archive, files, count, &err) < 0)
		fail_msg("read: %s", err.message);
	close(archive);
	qsort(*files, *count, sizeof(**files), compare_files);
}

static void assert_content(int fd, const char *data, size_t len)
{
	char buf[256];

	assert_true(len < sizeof(buf));
	assert_int_equal(pread(fd, buf, sizeof(buf), 0), (ssize_t)len);
	assert_memory_equal(buf, data, len);
}

/* What the job leaves in /box: files of every mode, in directories at
 * every depth up to the limit and past it, and what must not come back. */
static const char JOB[] =
    "set -e\n"
    "mkdir -p src/nested/deeper emptydir\n"
    "printf 'int main;\\n' > src/main.c\n"
    "printf nested > src/nested/deeper/data.txt\n"
    "printf '#!/bin/sh\\necho \"ran $0: $(cat src/nested/deeper/data.txt)\"\\n' > run.sh\n"
    "chmod 755 run.sh\n"
    "printf secret > secret; chmod 000 secret\n"
    "mkdir locked; printf inside > locked/file; chmod 000 locked\n"
    "printf 'a\\000b' > nul.bin\n"
    ": > empty\n"
    "printf s > suid; chmod 4755 suid\n"
    "printf w > world; chmod 666 world\n"
    "ln -s /etc/passwd passwd-link\n"
    "ln -s /bin bin-link\n"
    "ln -s run.sh script-link\n"
    "ln -s src src-link\n"
    "mkfifo fifo\n"
    "touch \"$(printf 'new\\nline')\"\n"
    "d=d1; for i in 2 3 4 5 6 7 8 9 10 11 12 13 14 15; do d=$d/d$i; done\n"
    "mkdir -p $d/d16; printf 16 > $d/at16; printf 17 > $d/d16/at17\n"
    "echo done\n";

#define D15 "d1/d2/d3/d4/d5/d6/d7/d8/d9/d10/d11/d12/d13/d14/d15"

static const struct {
	const char *name;
	mode_t mode;
	const char *data;
	size_t len;
} WANT[] = {
    /* sorted by strcmp */
    {D15 "/at16", 0644, "16", 2},
    {"empty", 0644, "", 0},
    {"locked/file", 0644, "inside", 6},
    {"nul.bin", 0644, "a\0b", 3},
    {"run.sh", 0755, "#!/bin/sh\necho \"ran $0: $(cat src/nested/deeper/data.txt)\"\n", 59},
    {"secret", 0, "secret", 6},
    {"src/main.c", 0644, "int main;\n", 10},
    {"src/nested/deeper/data.txt", 0644, "nested", 6},
    {"suid", 0755, "s", 1},
    {"world", 0644, "w", 1},
};

/* What the copy of the box must show: the script runs, the modes are kept,
 * and only the files came (with the directories they need). */
#define CHECK                                                                                      \
	"./run.sh; stat -c '%a %n' run.sh secret suid world src/main.c " D15 "/at16; "             \
	"cat locked/file; echo; ls -A | sort | tr '\\n' ' '"
#define CHECK_OUT                                                                                  \
	"ran ./run.sh: nested\n"                                                                   \
	"755 run.sh\n0 secret\n755 suid\n644 world\n644 src/main.c\n644 " D15 "/at16\n"            \
	"inside\n"                                                                                 \
	"d1 empty locked nul.bin run.sh secret src suid world "

static void write_files(struct sp_cell *cell, const struct sp_box_file *files, size_t count)
{
	struct sp_error err = {0};

	for (size_t i = 0; i < count; i++) {
		if (sp_cell_write_file(cell, files[i].name, files[i].fd, files[i].mode, &err) < 0)
			fail_msg("write %s: %s", files[i].name, err.message);
	}
}

static void test_pack_and_run_elsewhere(void **state)
{
	struct fixture *fx = *state;
	struct sp_box_file *files = NULL;
	struct sp_error err = {0};
	size_t count = 0;

	step_ok(fx, &fx->compiler, JOB, "done\n");
	pack(&fx->compiler, &files, &count);
	for (size_t i = 0; i < count; i++)
		print_message("packed %04o %s\n", (unsigned)files[i].mode, files[i].name);
	assert_int_equal(count, sizeof(WANT) / sizeof(WANT[0]));
	for (size_t i = 0; i < count; i++) {
		assert_string_equal(files[i].name, WANT[i].name);
		assert_int_equal(files[i].mode, WANT[i].mode);
		assert_content(files[i].fd, WANT[i].data, WANT[i].len);
	}
	/* packing read the box, it did not change it */
	step_ok(fx, &fx->compiler,
		"ls -A | wc -l; stat -c '%a' secret locked; readlink passwd-link; test -p fifo && "
		"echo fifo",
		"16\n0\n0\n/etc/passwd\nfifo\n");

	/* into a fresh cell, where the script runs and finds its data */
	write_files(&fx->runner, files, count);
	step_ok(fx, &fx->runner, CHECK, CHECK_OUT);
	/* and into the first cell once reset, the descriptors left at their end:
	 * a file is copied whole whatever its offset (one compile, many runs) */
	assert_int_equal(sp_cell_reset(&fx->compiler, &err), 0);
	for (size_t i = 0; i < count; i++)
		assert_true(lseek(files[i].fd, 0, SEEK_END) >= 0);
	write_files(&fx->compiler, files, count);
	step_ok(fx, &fx->compiler, CHECK, CHECK_OUT);
	sp_box_files_free(files, count);
}

static void test_empty_box_packs_empty(void **state)
{
	struct fixture *fx = *state;
	struct sp_box_file *files = NULL;
	size_t count = 1;

	step_ok(fx, &fx->compiler, "mkdir -p only/dirs; ln -s /etc/passwd p; echo ok", "ok\n");
	pack(&fx->compiler, &files, &count);
	assert_int_equal(count, 0);
	sp_box_files_free(files, count);
}

static void test_too_many_files(void **state)
{
	struct fixture *fx = *state;
	struct sp_box_file *files = NULL;
	struct sp_error err = {0};
	size_t count = 0;
	int archive = 7;

	step_ok(fx, &fx->compiler,
		"mkdir a b; i=0; while [ $i -lt 2049 ]; do : > a/$i; : > b/$i; i=$((i+1)); done; "
		"echo ok",
		"ok\n");
	assert_int_equal(sp_cell_pack_box(&fx->compiler, 0, &archive, &err), -1);
	assert_int_equal(archive, -1);
	assert_int_equal(err.errnum, EMFILE);
	assert_string_equal(err.message, "the step left more than 4096 files in /box");
	/* the cell goes on */
	assert_int_equal(sp_cell_reset(&fx->compiler, &err), 0);
	step_ok(fx, &fx->compiler, "echo x > x; echo ok", "ok\n");
	pack(&fx->compiler, &files, &count);
	assert_int_equal(count, 1);
	assert_string_equal(files[0].name, "x");
	sp_box_files_free(files, count);
}

/* Hard links claim their content once per name: more than /box holds is
 * refused, not copied. */
static void test_content_bounded_by_box_size(void **state)
{
	struct fixture *fx = *state;
	struct sp_error err = {0};
	int archive = -1;

	step_ok(fx, &fx->compiler,
		"dd if=/dev/zero of=big bs=1024 count=1000 2>/dev/null; "
		"for i in 1 2 3 4 5 6 7 8 9; do ln big link$i; done; echo ok",
		"ok\n");
	assert_int_equal(sp_cell_pack_box(&fx->compiler, 0, &archive, &err), -1);
	assert_int_equal(err.errnum, EFBIG);
	assert_int_equal(archive, -1);
}

/* The caller's bound, below the size of /box: a 1000 KiB file passes 1 MiB
 * and not 512 KiB, and the cell serves on after the refusal. */
static void test_content_bounded_by_the_caller(void **state)
{
	struct fixture *fx = *state;
	struct sp_error err = {0};
	int archive = -1;

	step_ok(fx, &fx->compiler, "dd if=/dev/zero of=big bs=1024 count=1000 2>/dev/null; echo ok",
		"ok\n");
	assert_int_equal(sp_cell_pack_box(&fx->compiler, 512 * 1024, &archive, &err), -1);
	assert_int_equal(err.errnum, EFBIG);
	assert_int_equal(sp_cell_pack_box(&fx->compiler, 1024 * 1024, &archive, &err), 0);
	close(archive);
	step_ok(fx, &fx->compiler, "echo still", "still\n");
}

/* One file out of /box: a regular file comes back sealed; a symlink on the
 * way, a directory, a fifo, a missing or oversized file is refused; the cell
 * serves on after each. */
static void test_read_one_file(void **state)
{
	static const struct {
		const char *name;
		int errnum;
	} refused[] = {
	    {"passwd-link", ELOOP}, /* to /etc/passwd: not followed */
	    {"dir-link/out", ELOOP},   {"dir", EINVAL},
	    {"fifo", EINVAL}, /* opened without blocking, then refused */
	    {"missing", ENOENT},       {"big", EFBIG},
	    {"../etc/passwd", EINVAL}, {"/etc/passwd", EINVAL},
	};
	struct fixture *fx = *state;
	struct sp_error err = {0};
	int fd = -1;

	step_ok(fx, &fx->compiler,
		"mkdir -p judge dir; printf 'out\\000put' > judge/output; chmod 000 judge/output; "
		"ln -s /etc/passwd passwd-link; ln -s judge dir-link; mkfifo fifo; "
		"dd if=/dev/zero of=big bs=1024 count=65 2>/dev/null; echo ok",
		"ok\n");
	if (sp_cell_read_file(&fx->compiler, "judge/output", 64 * 1024, &fd, &err) < 0)
		fail_msg("read: %s", err.message);
	assert_int_equal(fcntl(fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
	assert_int_equal(fcntl(fd, F_GET_SEALS) & SP_BOX_SEALS, SP_BOX_SEALS);
	assert_content(fd, "out\0put", 7);
	close(fd);
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		fd = 7;
		memset(&err, 0, sizeof(err));
		if (sp_cell_read_file(&fx->compiler, refused[i].name, 64 * 1024, &fd, &err) == 0)
			fail_msg("%s was read", refused[i].name);
		assert_int_equal(fd, -1);
		if (err.errnum != refused[i].errnum)
			fail_msg("%s: errno %d (%s), want %d", refused[i].name, err.errnum,
				 err.message, refused[i].errnum);
	}
	step_ok(fx, &fx->compiler, "echo still", "still\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_pack_and_run_elsewhere, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_empty_box_packs_empty, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_too_many_files, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_read_one_file, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_content_bounded_by_box_size, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_content_bounded_by_the_caller, setup, teardown),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
