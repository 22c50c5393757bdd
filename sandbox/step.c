#include "step.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "caps.h"
#include "rlimit.h"
#include "sandbox/base/clock.h"

#define DEFAULT_PATH "/usr/local/bin:/usr/bin:/bin"

static int unpack_strings(char **out, uint32_t count, char **cursor, const char *end,
			  struct sp_error *err)
{
	for (uint32_t i = 0; i < count; i++) {
		size_t room = (size_t)(end - *cursor);
		size_t len = strnlen(*cursor, room);

		if (len == room)
			return sp_error_set(err, EBADMSG, "step strings are not terminated");
		out[i] = *cursor;
		*cursor += len + 1;
	}
	out[count] = NULL;
	return 0;
}

int sp_step_unpack(struct sp_step_wire *wire, size_t length, struct sp_step_context *ctx,
		   struct sp_error *err)
{
	char *cursor = wire->strings;
	char *end;

	if (length < sizeof(*wire) || wire->strings_length != length - sizeof(*wire))
		return sp_error_set(err, EBADMSG, "malformed step");
	if (wire->argc == 0 || wire->argc > SP_STEP_ARGS_MAX || wire->envc > SP_STEP_ARGS_MAX)
		return sp_error_set(err, EBADMSG, "bad argument count in step");
	end = wire->strings + wire->strings_length;
	if (unpack_strings(ctx->argv_store, wire->argc, &cursor, end, err) < 0 ||
	    unpack_strings(ctx->envp_store, wire->envc, &cursor, end, err) < 0)
		return -1;
	ctx->argv = ctx->argv_store;
	ctx->envp = ctx->envp_store;
	ctx->limits = wire->limits;
	return 0;
}

static ssize_t pack_strings(char *dst, size_t room, char *const *list, uint32_t *count,
			    struct sp_error *err)
{
	size_t used = 0;

	*count = 0;
	for (size_t i = 0; list != NULL && list[i] != NULL; i++) {
		size_t len = strlen(list[i]) + 1;

		if (len > room - used || *count >= SP_STEP_ARGS_MAX)
			return sp_error_set(err, E2BIG, "arguments and environment too long");
		memcpy(dst + used, list[i], len);
		used += len;
		(*count)++;
	}
	return (ssize_t)used;
}

ssize_t sp_step_pack(struct sp_step_wire *wire, size_t size, char *const *argv, char *const *envp,
		     const struct sp_limits *limits, struct sp_error *err)
{
	size_t room = size - sizeof(*wire);
	ssize_t a, e;

	wire->limits = *limits;
	wire->prepared = 0;
	a = pack_strings(wire->strings, room, argv, &wire->argc, err);
	if (a < 0)
		return -1;
	if (wire->argc == 0)
		return sp_error_set(err, EINVAL, "no command to run");
	e = pack_strings(wire->strings + a, room - (size_t)a, envp, &wire->envc, err);
	if (e < 0)
		return -1;
	wire->strings_length = (uint32_t)(a + e);
	return (ssize_t)(sizeof(*wire) + wire->strings_length);
}

/* Report a failure to the cell (it reads the report once this process has
 * ended) and end the step. */
__attribute__((noreturn)) static void
fail(const struct sp_step_context *ctx, enum sp_step_failure failure, const struct sp_error *error)
{
	ctx->report->failure = failure;
	ctx->report->error = *error;
	_exit(failure == SP_STEP_EXEC_FAILED ? 127 : 126);
}

/* The cell leaves every disposition at its default (an execve keeps only
 * SIG_IGN; handlers go): unblocking is all there is to do. */
static int reset_signals(struct sp_error *err)
{
	sigset_t none;

	sigemptyset(&none);
	if (sigprocmask(SIG_SETMASK, &none, NULL) < 0)
		return sp_error_set(err, errno, "sigprocmask");
	return 0;
}

static int setup_stdio(const struct sp_step_context *ctx, struct sp_error *err)
{
	for (int i = 0; i < 3; i++) {
		if (dup2(ctx->stdio[i], i) < 0)
			return sp_error_set(err, errno, "dup2 to fd %d", i);
	}
	/* Everything above 2 closes at execve: the job starts with 0, 1, 2. */
	if (syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
		return sp_error_set(err, errno, "close_range");
	return 0;
}

static const char *env_path(char *const *envp)
{
	for (size_t i = 0; envp[i] != NULL; i++) {
		if (strncmp(envp[i], "PATH=", 5) == 0)
			return envp[i] + 5;
	}
	return DEFAULT_PATH;
}

/* execve, searching the job's PATH when the command has no slash. Returns
 * the most telling errno when every candidate failed. */
static int exec_command(char *const *argv, char *const *envp)
{
	const char *path = env_path(envp);
	int saved = ENOENT;
	char candidate[4096];

	if (strchr(argv[0], '/') != NULL) {
		execve(argv[0], argv, envp);
		return errno;
	}
	while (*path != '\0') {
		size_t len = strcspn(path, ":");

		if (snprintf(candidate, sizeof(candidate), "%.*s/%s", (int)len, len ? path : ".",
			     argv[0]) < (int)sizeof(candidate)) {
			execve(candidate, argv, envp);
			if (errno != ENOENT && errno != ENOTDIR)
				saved = errno;
		}
		path += len;
		if (*path == ':')
			path++;
	}
	return saved;
}

__attribute__((noreturn)) static void exec_job(const struct sp_step_context *ctx)
{
	struct sp_error err = {0};
	int exec_errno;

	__atomic_store_n(ctx->exec_us, sp_clock_us(), __ATOMIC_RELEASE);
	exec_errno = exec_command(ctx->argv, ctx->envp);
	sp_error_set(&err, exec_errno, "exec %s", ctx->argv[0]);
	fail(ctx, SP_STEP_EXEC_FAILED, &err);
}

void sp_step_exec_command_in_child(const struct sp_step_context *ctx)
{
	exec_job(ctx);
}

void sp_step_fail_in_child(const struct sp_step_context *ctx, const struct sp_error *error)
{
	fail(ctx, SP_STEP_SETUP_FAILED, error);
}

static int enter_session(struct sp_error *err)
{
	if (reset_signals(err) < 0)
		return -1;
	if (setsid() < 0)
		return sp_error_set(err, errno, "setsid");
	if (unshare(CLONE_NEWIPC) < 0)
		return sp_error_set(err, errno, "unshare the IPC namespace");
	return 0;
}

static int lock_down(const struct sp_step_context *ctx, struct sp_error *err)
{
	if (sp_caps_drop_in_child(ctx->uid, ctx->gid, err) < 0)
		return -1;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return sp_error_set(err, errno, "PR_SET_NO_NEW_PRIVS");
	return sp_seccomp_apply_in_child(ctx->seccomp, err);
}

/* The step's sandbox, in order. Seccomp is last, right before execve. */
void sp_step_exec_in_child(const struct sp_step_context *ctx)
{
	struct sp_error err = {0};

	if (enter_session(&err) < 0 || setup_stdio(ctx, &err) < 0 ||
	    sp_rlimit_in_child(&ctx->limits, ctx->cgroup_memory, ctx->cgroup_pids, &err) < 0 ||
	    lock_down(ctx, &err) < 0)
		fail(ctx, SP_STEP_SETUP_FAILED, &err);
	exec_job(ctx);
}

int sp_step_session_in_child(struct sp_error *err)
{
	return enter_session(err);
}

int sp_step_drop_in_child(const struct sp_step_context *ctx, struct sp_error *err)
{
	return sp_caps_drop_in_child(ctx->uid, ctx->gid, err);
}

/* The one call sp_step_start_in_child makes after the filter, made once,
 * harmlessly: a policy that refuses it fails here, before any job. */
static int probe_prlimit(struct sp_error *err)
{
	struct rlimit limit;

	if (getrlimit(RLIMIT_CORE, &limit) < 0 || setrlimit(RLIMIT_CORE, &limit) < 0)
		return sp_error_set(err, errno, "the policy refuses prlimit64");
	return 0;
}

int sp_step_seal_in_child(const struct sp_step_context *ctx, struct sp_error *err)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return sp_error_set(err, errno, "PR_SET_NO_NEW_PRIVS");
	if (sp_seccomp_apply_in_child(ctx->seccomp, err) < 0)
		return -1;
	return probe_prlimit(err);
}

int sp_step_limit_in_child(const struct sp_step_context *ctx, struct sp_error *err)
{
	return sp_rlimit_in_child(&ctx->limits, ctx->cgroup_memory, ctx->cgroup_pids, err);
}

void sp_step_start_in_child(const struct sp_step_context *ctx)
{
	struct sp_error err = {0};

	if (sp_step_limit_in_child(ctx, &err) < 0)
		fail(ctx, SP_STEP_SETUP_FAILED, &err);
	exec_job(ctx);
}
