#include "prepared_step.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandbox/base/cleanup.h"
#include "sandbox/base/read_all.h"

#define READY  'R'
#define FAILED 'E'

/* The descriptors of a prepared step, as it sees them (a runtime's loader
 * as STEP_LOADER until it is copied). */
enum { STEP_STDIN, STEP_STDOUT, STEP_STDERR, STEP_CONTROL, STEP_LOADER, STEP_FDS_MAX };

void sp_prepared_step_clear(struct sp_prepared_step *prepared)
{
	prepared->pid = -1;
	prepared->control = -1;
	for (int i = 0; i < 3; i++)
		prepared->stdio[i] = -1;
	prepared->runtime = false;
	prepared->refused = false;
}

/* ---- in the prepared step ------------------------------------------------ */

/* FDS[i] as descriptor i (N of them), every other closed: the cell's
 * control socket is not the step's to hold, even before its job. Only the
 * control socket of a runtime (its loader reads it) stays open at execve. */
static int place_fds(const int *fds, int n, struct sp_error *err)
{
	int high[STEP_FDS_MAX];

	for (int i = 0; i < n; i++) {
		high[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 64);
		if (high[i] < 0)
			return sp_error_set(err, errno, "move descriptor %d", fds[i]);
	}
	for (int i = 0; i < n; i++) {
		bool open_at_exec = i < STEP_CONTROL || (i == STEP_CONTROL && n > STEP_LOADER);

		if (dup3(high[i], i, open_at_exec ? 0 : O_CLOEXEC) < 0)
			return sp_error_set(err, errno, "dup3 to fd %d", i);
	}
	if (syscall(SYS_close_range, n, ~0U, 0) < 0)
		return sp_error_set(err, errno, "close_range");
	return 0;
}

static int write_all(int fd, const void *data, size_t length)
{
	const char *p = data;

	while (length > 0) {
		ssize_t n = send(fd, p, length, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		length -= (size_t)n;
	}
	return 0;
}

/* Tell the cell what stopped the step before it was ready, and end. */
__attribute__((noreturn)) static void not_ready(const struct sp_error *error)
{
	char failed = FAILED;

	if (write_all(STEP_CONTROL, &failed, 1) == 0)
		write_all(STEP_CONTROL, error, sizeof(*error));
	_exit(126);
}

/* Read the job (an sp_step_wire) to its end into MSG's payload. */
static int read_job(struct sp_msg *msg, struct sp_error *err)
{
	size_t have = 0;

	for (;;) {
		ssize_t n = read(STEP_CONTROL, msg->payload.bytes + have,
				 sizeof(msg->payload.bytes) - have);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return sp_error_set(err, errno, "read the job");
		if (n == 0)
			break;
		have += (size_t)n;
		if (have == sizeof(msg->payload.bytes))
			return sp_error_set(err, E2BIG, "the job is too long");
	}
	if (have == 0)
		return sp_error_set(err, EPIPE, "no job came");
	msg->length = (uint32_t)have;
	return 0;
}

/* A step that waits for its job: once ready, whatever fails is the job's
 * failure, reported as such; it never ends without a report or an execve. */
__attribute__((noreturn)) static void step_main(struct sp_step_context *ctx, struct sp_msg *msg)
{
	struct sp_error err = {0};
	char ready = READY;

	if (sp_step_session_in_child(&err) < 0 || sp_step_drop_in_child(ctx, &err) < 0 ||
	    sp_step_seal_in_child(ctx, &err) < 0)
		not_ready(&err);
	if (write_all(STEP_CONTROL, &ready, 1) < 0)
		_exit(126);
	if (read_job(msg, &err) < 0 ||
	    sp_step_unpack((void *)msg->payload.bytes, msg->length, ctx, &err) < 0)
		sp_step_fail_in_child(ctx, &err);
	close(STEP_CONTROL);
	sp_step_start_in_child(ctx);
}

/* mkdir -p of PATH's folders, each 0700, and PATH itself with the content
 * of the loader (STEP_LOADER, then closed), 0600: as the job's user, below
 * /tmp, never through a symlink. */
static int install_loader(const struct sp_prepared_loader *loader, struct sp_error *err)
{
	char path[PATH_MAX];
	cleanup_close int out = -1;

	if (snprintf(path, sizeof(path), "%s", loader->path) >= (int)sizeof(path))
		return sp_error_set(err, ENAMETOOLONG, "loader path");
	for (char *p = path + 1; (p = strchr(p, '/')) != NULL; p++) {
		*p = '\0';
		if (mkdir(path, 0700) < 0 && errno != EEXIST)
			return sp_error_set(err, errno, "mkdir %s", path);
		*p = '/';
	}
	out = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (out < 0)
		return sp_error_set(err, errno, "create %s", path);
	if (sp_copy_all(STEP_LOADER, out, err) < 0)
		return sp_error_wrap(err, "%s", path);
	close(STEP_LOADER);
	return 0;
}

/* CTX's command with LOADER's environment after the job's, and its
 * arguments after the command's first word. */
static int loader_command(struct sp_step_context *ctx, const struct sp_prepared_loader *loader,
			  struct sp_error *err)
{
	size_t n = 0, extra = 0, argc = 0, insert = 0;

	while (ctx->envp[n] != NULL)
		n++;
	while (loader->env[extra] != NULL)
		extra++;
	while (ctx->argv[argc] != NULL)
		argc++;
	while (loader->args[insert] != NULL)
		insert++;
	if (n + extra > SP_STEP_ARGS_MAX || argc + insert > SP_STEP_ARGS_MAX || argc == 0)
		return sp_error_set(err, E2BIG, "command too long");
	if (ctx->envp != ctx->envp_store)
		memmove(ctx->envp_store, ctx->envp, n * sizeof(char *));
	memcpy(ctx->envp_store + n, loader->env, (extra + 1) * sizeof(char *));
	ctx->envp = ctx->envp_store;
	if (ctx->argv != ctx->argv_store)
		memmove(ctx->argv_store, ctx->argv, (argc + 1) * sizeof(char *));
	memmove(ctx->argv_store + 1 + insert, ctx->argv_store + 1, argc * sizeof(char *));
	memcpy(ctx->argv_store + 1, loader->args, insert * sizeof(char *));
	ctx->argv = ctx->argv_store;
	return 0;
}

/* A runtime: its sandbox and rlimits, its loader, then its command now. */
__attribute__((noreturn)) static void runtime_main(struct sp_step_context *ctx,
						   const struct sp_prepared_loader *loader)
{
	struct sp_error err = {0};
	char ready = READY;

	if (sp_step_session_in_child(&err) < 0 || sp_step_drop_in_child(ctx, &err) < 0 ||
	    install_loader(loader, &err) < 0 || loader_command(ctx, loader, &err) < 0 ||
	    sp_step_seal_in_child(ctx, &err) < 0 || sp_step_limit_in_child(ctx, &err) < 0)
		not_ready(&err);
	if (write_all(STEP_CONTROL, &ready, 1) < 0)
		_exit(126);
	sp_step_exec_command_in_child(ctx);
}

/* ---- in the cell ----------------------------------------------------------- */

static void close_fds(int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (fds[i] >= 0)
			close(fds[i]);
		fds[i] = -1;
	}
}

static int refuse(struct sp_prepared_step *prepared, struct sp_error *err)
{
	sp_prepared_step_discard(prepared);
	prepared->refused = true;
	return sp_error_wrap(err, "prepared step");
}

/* Its first word: ready, or the error that stopped it. */
static int wait_ready(struct sp_prepared_step *prepared, struct sp_error *err)
{
	char word = 0;
	ssize_t n;

	while ((n = read(prepared->control, &word, 1)) < 0 && errno == EINTR) {
	}
	if (n == 1 && word == READY)
		return 0;
	if (n == 1 && word == FAILED &&
	    read(prepared->control, err, sizeof(*err)) == (ssize_t)sizeof(*err)) {
		err->message[sizeof(err->message) - 1] = '\0';
		return -1;
	}
	return sp_error_set(err, EPIPE, "the step ended before it was ready");
}

/* Three pipes and a socket: PIPES[i] as pipe2 gives them, CONTROL a pair. */
static int make_fds(int pipes[3][2], int control[2], struct sp_error *err)
{
	for (int i = 0; i < 3; i++) {
		if (pipe2(pipes[i], O_CLOEXEC) < 0)
			return sp_error_set(err, errno, "pipe");
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, control) < 0)
		return sp_error_set(err, errno, "socketpair");
	return 0;
}

/* The cell's side once forked: its ends and the supervisor's. */
static void keep_ends(struct sp_prepared_step *prepared, int pipes[3][2], int control[2],
		      int ends[3])
{
	prepared->stdio[0] = pipes[0][0];
	prepared->stdio[1] = pipes[1][1];
	prepared->stdio[2] = pipes[2][1];
	ends[0] = pipes[0][1];
	ends[1] = pipes[1][0];
	ends[2] = pipes[2][0];
	prepared->control = control[0];
	close(control[1]);
}

int sp_prepared_step_start(struct sp_prepared_step *prepared, struct sp_step_context *ctx,
			   const struct sp_prepared_loader *loader, struct sp_msg *buffer,
			   int ends[3], struct sp_error *err)
{
	int pipes[3][2] = {{-1, -1}, {-1, -1}, {-1, -1}};
	int control[2] = {-1, -1};
	pid_t pid;

	if (make_fds(pipes, control, err) < 0) {
		close_fds(&pipes[0][0], 6);
		close_fds(control, 2);
		return refuse(prepared, err);
	}
	pid = fork();
	if (pid == 0) {
		int fds[STEP_FDS_MAX] = {pipes[0][0], pipes[1][1], pipes[2][1], control[1],
					 loader ? loader->fd : -1};
		struct sp_error child_err = {0};

		if (place_fds(fds, loader ? STEP_LOADER + 1 : STEP_LOADER, &child_err) < 0)
			_exit(126);
		if (loader != NULL)
			runtime_main(ctx, loader);
		step_main(ctx, buffer);
	}
	keep_ends(prepared, pipes, control, ends);
	if (pid < 0) {
		close_fds(ends, 3);
		sp_error_set(err, errno, "fork");
		return refuse(prepared, err);
	}
	prepared->pid = pid;
	prepared->runtime = loader != NULL;
	if (wait_ready(prepared, err) < 0) {
		close_fds(ends, 3);
		return refuse(prepared, err);
	}
	return 0;
}

pid_t sp_prepared_step_go(struct sp_prepared_step *prepared, const void *data, size_t length)
{
	pid_t pid = prepared->pid;

	/* gone: reaped already (0), or ended and not yet reaped (reaped now) */
	if (pid <= 0 || waitpid(pid, NULL, WNOHANG | __WALL) != 0) {
		prepared->pid = pid <= 0 ? pid : 0;
		prepared->refused = true;
		return -1;
	}
	if ((length > 0 && write_all(prepared->control, data, length) < 0) ||
	    shutdown(prepared->control, SHUT_WR) < 0) {
		prepared->refused = true;
		return -1;
	}
	close_fds(&prepared->control, 1);
	close_fds(prepared->stdio, 3);
	prepared->pid = -1;
	prepared->runtime = false;
	return pid;
}

void sp_prepared_step_discard(struct sp_prepared_step *prepared)
{
	if (prepared->pid > 0) {
		kill(prepared->pid, SIGKILL);
		while (waitpid(prepared->pid, NULL, __WALL) < 0 && errno == EINTR) {
		}
	}
	close_fds(&prepared->control, 1);
	close_fds(prepared->stdio, 3);
	prepared->pid = -1;
	prepared->runtime = false;
}

/* ---- either side ------------------------------------------------------------- */

static bool same_strings(char *const *a, char *const *b, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		if (a[i] == NULL || b[i] == NULL || strcmp(a[i], b[i]) != 0)
			return false;
	}
	return true;
}

static size_t count_strings(char *const *list)
{
	size_t n = 0;

	while (list != NULL && list[n] != NULL)
		n++;
	return n;
}

bool sp_prepared_runtime_fits(char *const *prepare_argv, char *const *prepare_envp,
			      const struct sp_limits *prepare_limits, bool takes_arguments,
			      char *const *argv, char *const *envp, const struct sp_limits *limits,
			      bool cgroup_memory, bool cgroup_pids)
{
	size_t argc = count_strings(prepare_argv), envc = count_strings(prepare_envp);
	size_t job_argc = count_strings(argv);
	const struct sp_limits *a = prepare_limits, *b = limits;

	if (job_argc < argc || (job_argc > argc && !takes_arguments) ||
	    count_strings(envp) != envc || !same_strings(prepare_argv, argv, argc) ||
	    !same_strings(prepare_envp, envp, envc))
		return false;
	if (a->cpu_ms != b->cpu_ms || a->file_kb != b->file_kb || a->open_files != b->open_files ||
	    a->stack_kb != b->stack_kb)
		return false;
	return (cgroup_memory || a->memory_kb == b->memory_kb) &&
	       (cgroup_pids || a->processes == b->processes);
}
