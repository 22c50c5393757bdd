#include "run.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "channel.h"
#include "sandbox/base/cleanup.h"
#include "sandbox/base/clock.h"
#include "step.h"

#define READ_CHUNK	    65536
#define CPU_POLL_MIN_MS	    5
#define CPU_POLL_MAX_MS	    100
#define DRAIN_AFTER_EXIT_MS 2000
#define KILL_REPORT_MS	    5000
/* The cell keeps the wall limit; the supervisor steps in only this late. */
#define WALL_BACKSTOP_MS 1000

/* The supervisor's view of a step while it runs. */
struct monitor {
	struct sp_cell *cell;
	struct sp_cgroup_cell *cg; /* the cell's cgroup; NULL without cgroups */
	const struct sp_limits *limits;
	struct sp_step_result *res;
	int out_fd;
	int err_fd;
	int in_src;  /* the caller's input, read by the supervisor */
	int in_pipe; /* write end of the job's stdin */
	int cancel_fd;
	void (*on_output)(void *ctx, int stream, const char *data, size_t length);
	void *output_ctx;
	size_t in_len;
	size_t in_off;
	char *in_buf;	/* READ_CHUNK bytes, only when there is input */
	char *read_buf; /* READ_CHUNK bytes for the output (not on the stack: a
			 * step may be run from a thread with a small one) */
	uint64_t start_ms;
	uint64_t next_cpu_ms; /* when to read the cpu counter again */
	uint64_t kill_ms;
	uint64_t end_ms;
	uint64_t start_us, end_us; /* the same two, finer */
	uint64_t output_total;
	enum sp_kill_reason killed;
	bool exited;
	struct sp_step_exit exit;
	struct sp_msg *msg; /* for the control messages: too large for a thread's stack */
};

static uint64_t output_limit(const struct sp_limits *limits)
{
	return limits->output_kb ? limits->output_kb * 1024 : UINT64_MAX;
}

static int internal(struct sp_step_result *res, const struct sp_error *err)
{
	res->status = SP_STATUS_INTERNAL_ERROR;
	res->error = *err;
	return -1;
}

static void send_kill(struct monitor *m, enum sp_kill_reason reason)
{
	if (m->killed != SP_KILL_NONE)
		return;
	m->killed = reason;
	m->kill_ms = sp_clock_ms();
	sp_channel_send(m->cell->sock, SP_MSG_KILL, NULL, 0, NULL, 0, NULL);
}

/* KEEP more bytes of STREAM came after what came before. */
static int add_turn(struct sp_step_result *res, int stream, size_t keep)
{
	struct sp_output_turn *grown;
	size_t n = res->turn_count;

	if (n > 0 && res->turns[n - 1].stream == stream) {
		res->turns[n - 1].length += keep;
		return 0;
	}
	if (n == SP_OUTPUT_TURNS_MAX)
		return 0; /* the order is no longer kept */
	/* a power of two: room for one more when full */
	if ((n & (n - 1)) == 0) {
		grown = realloc(res->turns, (n ? 2 * n : 1) * sizeof(*grown));
		if (grown == NULL)
			return -1;
		res->turns = grown;
	}
	res->turns[n] = (struct sp_output_turn){.stream = stream, .length = keep};
	res->turn_count = n + 1;
	return 0;
}

/* Keep what fits under the output limit; count everything. */
static int append_output(struct monitor *m, struct sp_output *o, const char *buf, size_t n)
{
	uint64_t limit = output_limit(m->limits);
	uint64_t room = m->output_total < limit ? limit - m->output_total : 0;
	size_t keep = n < room ? n : (size_t)room;

	m->output_total += n;
	if (keep > 0) {
		int stream = o == &m->res->out ? 1 : 2;
		char *grown = realloc(o->data, o->length + keep + 1);

		if (grown == NULL)
			return -1;
		o->data = grown;
		memcpy(o->data + o->length, buf, keep);
		o->length += keep;
		o->data[o->length] = '\0';
		if (add_turn(m->res, stream, keep) < 0)
			return -1;
		if (m->on_output != NULL)
			m->on_output(m->output_ctx, stream, buf, keep);
	}
	if (m->output_total > limit) {
		m->res->truncated = true;
		send_kill(m, SP_KILL_OUTPUT);
	}
	return 0;
}

/* Read what is there; close the fd at end of file. */
static int drain(struct monitor *m, int *fd, struct sp_output *o)
{
	for (;;) {
		ssize_t n = read(*fd, m->read_buf, READ_CHUNK);

		if (n > 0) {
			if (append_output(m, o, m->read_buf, (size_t)n) < 0)
				return -1;
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return 0;
		close(*fd);
		*fd = -1;
		return 0;
	}
}

static int take_exit(struct monitor *m, struct sp_error *err)
{
	struct sp_msg *msg = m->msg;

	if (sp_channel_recv(m->cell->sock, msg, NULL, NULL, err) < 0)
		return sp_error_wrap(err, "cell lost during the step");
	if (msg->type == SP_MSG_ERROR && msg->length == sizeof(*err)) {
		memcpy(err, msg->payload.bytes, sizeof(*err));
		err->message[sizeof(err->message) - 1] = '\0';
		return sp_error_wrap(err, "start the step");
	}
	if (msg->type != SP_MSG_EXITED || msg->length != sizeof(m->exit))
		return sp_error_set(err, EPROTO, "cell sent %u instead of the exit", msg->type);
	memcpy(&m->exit, msg->payload.bytes, sizeof(m->exit));
	m->exit.error.message[sizeof(m->exit.error.message) - 1] = '\0';
	if (m->exit.wall_expired && m->killed == SP_KILL_NONE)
		m->killed = SP_KILL_TIME;
	m->exited = true;
	m->end_ms = sp_clock_ms();
	m->end_us = sp_clock_us();
	return 0;
}

static bool polls_cpu(const struct monitor *m)
{
	return m->cg != NULL && m->limits->cpu_ms != 0 && m->cg->root->counts_cpu;
}

/* How often the cgroup's cpu counter is read: a quarter of the limit, within
 * bounds, so that a job overshoots its cpu limit by little. */
static uint64_t cpu_poll_ms(const struct monitor *m)
{
	uint64_t step = m->limits->cpu_ms / 4;

	if (step < CPU_POLL_MIN_MS)
		return CPU_POLL_MIN_MS;
	return step > CPU_POLL_MAX_MS ? CPU_POLL_MAX_MS : step;
}

/* Read the cpu counter when its time has come (not on every output chunk). */
static void check_cpu(struct monitor *m)
{
	struct sp_usage usage;
	uint64_t now = sp_clock_ms();

	if (!polls_cpu(m) || m->exited || now < m->next_cpu_ms)
		return;
	m->next_cpu_ms = now + cpu_poll_ms(m);
	if (sp_cgroup_cell_usage(m->cg, &usage, NULL) == 0 &&
	    usage.cpu_ns / 1000000 >= m->limits->cpu_ms)
		send_kill(m, SP_KILL_TIME);
}

/* When the supervisor kills a step the cell has not stopped at its wall
 * limit (a cell that no longer answers). */
static uint64_t wall_backstop_ms(const struct monitor *m)
{
	return m->start_ms + m->limits->wall_ms + WALL_BACKSTOP_MS;
}

/* How long poll may sleep: until the wall backstop, or the next cpu check. */
static int poll_timeout(struct monitor *m)
{
	uint64_t now = sp_clock_ms();
	uint64_t wait = UINT64_MAX;

	if (m->exited)
		return (int)(m->end_ms + DRAIN_AFTER_EXIT_MS > now
				 ? m->end_ms + DRAIN_AFTER_EXIT_MS - now
				 : 0);
	if (m->killed != SP_KILL_NONE)
		return (int)(m->kill_ms + KILL_REPORT_MS > now ? m->kill_ms + KILL_REPORT_MS - now
							       : 0);
	if (m->limits->wall_ms)
		wait = wall_backstop_ms(m) > now ? wall_backstop_ms(m) - now : 0;
	if (polls_cpu(m)) {
		uint64_t until_cpu = m->next_cpu_ms > now ? m->next_cpu_ms - now : 0;

		if (until_cpu < wait)
			wait = until_cpu;
	}
	return wait == UINT64_MAX ? -1 : (int)wait;
}

static void check_wall(struct monitor *m)
{
	if (!m->exited && m->limits->wall_ms && sp_clock_ms() >= wall_backstop_ms(m))
		send_kill(m, SP_KILL_TIME);
}

static void close_fd(int *fd)
{
	if (*fd >= 0) {
		close(*fd);
		*fd = -1;
	}
}

/* Stop feeding input: the job ended or closed its stdin. */
static void stop_input(struct monitor *m)
{
	close_fd(&m->in_src);
	close_fd(&m->in_pipe);
	m->in_len = 0;
}

/* Move input from the caller's descriptor to the job's pipe, as far as the
 * pipe takes it now. */
static int feed_input(struct monitor *m, bool readable, bool writable, struct sp_error *err)
{
	if (readable && m->in_len == 0 && m->in_src >= 0) {
		ssize_t n = read(m->in_src, m->in_buf, READ_CHUNK);

		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return sp_error_set(err, errno, "read the input");
		if (n == 0)
			close_fd(&m->in_src);
		if (n > 0) {
			m->in_len = (size_t)n;
			m->in_off = 0;
			writable = true;
		}
	}
	if (writable && m->in_len > 0) {
		ssize_t n = write(m->in_pipe, m->in_buf + m->in_off, m->in_len);

		if (n < 0 && errno == EPIPE) {
			stop_input(m);
			return 0;
		}
		if (n > 0) {
			m->in_off += (size_t)n;
			m->in_len -= (size_t)n;
		}
	}
	if (m->in_src < 0 && m->in_len == 0)
		close_fd(&m->in_pipe);
	return 0;
}

static bool kill_unanswered(struct monitor *m)
{
	return !m->exited && m->killed != SP_KILL_NONE &&
	       sp_clock_ms() >= m->kill_ms + KILL_REPORT_MS;
}

/* Poll the control socket and both pipes until the step is over and its
 * output is read (or the pipes stay open too long after it ended). */
static int monitor_loop(struct monitor *m, struct sp_error *err)
{
	while (!m->exited || m->out_fd >= 0 || m->err_fd >= 0) {
		struct pollfd fds[6] = {
		    {.fd = m->exited ? -1 : m->cell->sock, .events = POLLIN},
		    {.fd = m->out_fd, .events = POLLIN},
		    {.fd = m->err_fd, .events = POLLIN},
		    {.fd = m->in_len == 0 ? m->in_src : -1, .events = POLLIN},
		    {.fd = m->in_len > 0 ? m->in_pipe : -1, .events = POLLOUT},
		    {.fd = m->exited || m->killed ? -1 : m->cancel_fd, .events = POLLIN},
		};
		int timeout = poll_timeout(m);
		int n = poll(fds, 6, timeout);

		if (n < 0 && errno != EINTR)
			return sp_error_set(err, errno, "poll");
		if (n == 0 && m->exited)
			break;
		if (kill_unanswered(m))
			return sp_error_set(err, ETIMEDOUT,
					    "the cell did not report the killed step");
		if ((fds[1].revents && drain(m, &m->out_fd, &m->res->out) < 0) ||
		    (fds[2].revents && drain(m, &m->err_fd, &m->res->err) < 0))
			return sp_error_set(err, ENOMEM, "keep the output");
		if ((fds[3].revents || fds[4].revents) &&
		    feed_input(m, fds[3].revents != 0, fds[4].revents != 0, err) < 0)
			return -1;
		if (fds[0].revents && take_exit(m, err) < 0)
			return -1;
		if (fds[5].revents)
			send_kill(m, SP_KILL_CANCEL);
		if (m->exited)
			stop_input(m);
		check_wall(m);
		check_cpu(m);
	}
	return 0;
}

/* FDS: the step's ends of its stdio, or NULL to run on the cell's prepared
 * step of SLOT (whose stdio are already its own). */
static int start_step(struct monitor *m, const struct sp_step_request *req, const int *fds,
		      int slot, struct sp_error *err)
{
	struct sp_msg *msg = m->msg;
	struct sp_step_wire *wire = (void *)msg->payload.bytes;
	ssize_t len =
	    sp_step_pack(wire, sizeof(msg->payload), req->argv, req->envp, &req->limits, err);

	if (len < 0)
		return -1;
	wire->prepared = fds ? 0 : (uint32_t)slot + 1;
	/* The cell answers with EXITED (or ERROR when the step could not start):
	 * the monitor loop takes it. Files written for the step are answered
	 * first: a failed one, and the cell refuses the step (its answer read
	 * here too). */
	if (sp_channel_send(m->cell->sock, SP_MSG_RUN, wire, (size_t)len, fds, fds ? 3 : 0, err) <
	    0)
		return -1;
	if (sp_cell_write_file_end(m->cell, err) < 0) {
		struct sp_error refused;

		if (sp_cell_wait_ok(m->cell, &refused) == 0)
			sp_error_set(err, EPROTO, "the cell ran a step whose files failed");
		return sp_error_wrap(err, "write the step's files");
	}
	m->res->started = true;
	m->start_ms = sp_clock_ms();
	m->start_us = sp_clock_us();
	m->next_cpu_ms = m->start_ms + cpu_poll_ms(m);
	return 0;
}

static void fill_figures(struct monitor *m, struct sp_usage *usage)
{
	struct sp_step_result *res = m->res;
	const struct sp_cgroup_root *root = m->cg ? m->cg->root : NULL;
	int ws = m->exit.wait_status;

	res->exit_code = WIFEXITED(ws) ? WEXITSTATUS(ws) : -1;
	res->runtime_prepared = m->exit.runtime_prepared;
	res->signal = WIFSIGNALED(ws) ? WTERMSIG(ws) : 0;
	/* the cell's figure: from the execve, without the messages around it */
	res->wall_us = m->exit.wall_us ? m->exit.wall_us : m->end_us - m->start_us;
	res->wall_ms = res->wall_us / 1000;
	res->cpu_ms = (root && root->counts_cpu ? usage->cpu_ns : m->exit.cpu_ns) / 1000000;
	/* The cgroup counts every process and tmpfs file, but in batches of up to
	 * 64 pages per cpu: a small program can add nothing to the peak. */
	res->memory_kb = m->exit.maxrss_kb;
	if (m->cg && m->cg->peak_resets && usage->memory_bytes / 1024 > res->memory_kb)
		res->memory_kb = usage->memory_bytes / 1024;
	if (m->exit.failure != SP_STEP_RAN)
		res->error = m->exit.error;
}

static void decide(struct monitor *m, const struct sp_usage *usage)
{
	struct sp_verdict_input in = {
	    .killed = m->killed,
	    .wait_status = m->exit.wait_status,
	    .failure = m->exit.failure,
	    .cpu_ms = m->res->cpu_ms,
	    .cpu_limit_ms = m->limits->cpu_ms,
	    .oom_kills = usage->oom_kills,
	};

	m->res->status = sp_verdict_decide(&in);
}

/* The job's stdin, stdout and stderr: pipes whose supervisor ends do not
 * block. fds[i][0] is the read end. */
static int make_pipes(int fds[3][2], struct sp_error *err)
{
	for (int i = 0; i < 3; i++) {
		if (pipe2(fds[i], O_CLOEXEC) < 0) {
			while (i-- > 0) {
				close(fds[i][0]);
				close(fds[i][1]);
			}
			return sp_error_set(err, errno, "pipe");
		}
	}
	fcntl(fds[0][1], F_SETFL, O_NONBLOCK);
	fcntl(fds[1][0], F_SETFL, O_NONBLOCK);
	fcntl(fds[2][0], F_SETFL, O_NONBLOCK);
	return 0;
}

/* The supervisor's ends of the cell's prepared step of SLOT, as make_pipes
 * leaves its own: PIPES[i] its end of stdin (write), stdout, stderr (read),
 * the step's ends -1. */
static void take_prepared(struct sp_cell *cell, int slot, int pipes[3][2])
{
	int stdio[3];

	sp_cell_prepared_take(cell, slot, stdio);
	for (int i = 0; i < 3; i++) {
		pipes[i][i == 0 ? 1 : 0] = stdio[i];
		pipes[i][i == 0 ? 0 : 1] = -1;
	}
	fcntl(pipes[0][1], F_SETFL, O_NONBLOCK);
	fcntl(pipes[1][0], F_SETFL, O_NONBLOCK);
	fcntl(pipes[2][0], F_SETFL, O_NONBLOCK);
}

/* The step's pipes: a prepared step's that fits REQ (*SLOT its slot), else
 * new ones (*SLOT -1). */
static int step_pipes(struct monitor *m, const struct sp_step_request *req, int pipes[3][2],
		      int *slot, struct sp_error *err)
{
	*slot = req->stderr_to_stdout
		    ? -1
		    : sp_cell_prepared_slot(m->cell, req->argv, req->envp, &req->limits);
	if (*slot >= 0) {
		take_prepared(m->cell, *slot, pipes);
		return 0;
	}
	return make_pipes(pipes, err);
}

static void close_if_open(int fd)
{
	if (fd >= 0)
		close(fd);
}

static int run_monitored(struct monitor *m, const struct sp_step_request *req, struct sp_error *err)
{
	int pipes[3][2];
	int slot;
	int rc;

	if (step_pipes(m, req, pipes, &slot, err) < 0)
		return -1;
	m->in_pipe = pipes[0][1];
	m->out_fd = pipes[1][0];
	m->err_fd = pipes[2][0];
	m->in_src = req->stdin_fd >= 0 ? dup(req->stdin_fd) : -1;
	if (m->in_src >= 0 && (m->in_buf = malloc(READ_CHUNK)) == NULL)
		close_fd(&m->in_src);
	if (m->in_src >= 0)
		fcntl(m->in_src, F_SETFD, FD_CLOEXEC);
	else
		close_fd(&m->in_pipe);
	if (slot >= 0) {
		rc = start_step(m, req, NULL, slot, err);
	} else {
		int fds[3] = {pipes[0][0], pipes[1][1],
			      req->stderr_to_stdout ? pipes[1][1] : pipes[2][1]};

		rc = start_step(m, req, fds, -1, err);
	}
	close_if_open(pipes[0][0]);
	close_if_open(pipes[1][1]);
	close_if_open(pipes[2][1]);
	if (rc == 0)
		rc = monitor_loop(m, err);
	stop_input(m);
	close_fd(&m->out_fd);
	close_fd(&m->err_fd);
	return rc;
}

/* A cell lost while its step ran, with an OOM kill counted: the kernel's
 * OOM killer chose the cell's init. The step hit its memory limit. */
static bool cell_lost_to_oom(struct monitor *m)
{
	struct sp_usage usage;

	return m->cg != NULL && !m->exited && sp_cgroup_cell_usage(m->cg, &usage, NULL) == 0 &&
	       usage.oom_kills > 0;
}

/* The step in the cell's cgroup, in a monitor M that is set up. */
static int run_in_cell(struct monitor *m, const struct sp_cgroup_root *cgroups,
		       const struct sp_step_request *req, struct sp_error *err)
{
	struct sp_usage usage = {0};
	int rc;

	if (sp_cell_use_cgroups(m->cell, cgroups, err) < 0)
		return -1;
	m->cg = sp_cgroup_cell_active(&m->cell->cgroup) ? &m->cell->cgroup : NULL;
	m->cell->jobs++;
	if (sp_cgroup_cell_begin(&m->cell->cgroup, &req->limits, err) < 0)
		return -1;
	rc = run_monitored(m, req, err);
	if (rc < 0 && cell_lost_to_oom(m)) {
		m->res->status = SP_STATUS_MEMORY_LIMIT;
		return -1;
	}
	if (rc < 0 || sp_cgroup_cell_usage(&m->cell->cgroup, &usage, err) < 0)
		return -1;
	fill_figures(m, &usage);
	decide(m, &usage);
	return 0;
}

int sp_run_step(struct sp_cell *cell, const struct sp_cgroup_root *cgroups,
		const struct sp_step_request *req, struct sp_step_result *res)
{
	/* On the heap, and small: the input buffer comes only with input, and
	 * the control message buffer is not cleared (zeroing both cost a fresh
	 * 130 KB of page faults per step). */
	struct monitor *m = calloc(1, sizeof(*m));
	struct sp_error err = {0};
	int rc;

	memset(res, 0, sizeof(*res));
	res->exit_code = -1;
	if (m == NULL || (m->msg = sp_msg_new()) == NULL ||
	    (m->read_buf = malloc(READ_CHUNK)) == NULL) {
		if (m != NULL)
			free(m->msg);
		free(m);
		sp_error_set(&err, ENOMEM, "monitor");
		return internal(res, &err);
	}
	m->cell = cell;
	m->limits = &req->limits;
	m->res = res;
	m->out_fd = m->err_fd = m->in_src = m->in_pipe = -1;
	m->cancel_fd = req->cancel_fd > 0 ? req->cancel_fd : -1;
	m->on_output = req->on_output;
	m->output_ctx = req->output_ctx;
	rc = run_in_cell(m, cgroups, req, &err);
	if (rc < 0 && res->status != SP_STATUS_MEMORY_LIMIT)
		internal(res, &err);
	else if (m->exit.failure == SP_STEP_SETUP_FAILED)
		rc = -1;
	free(m->in_buf);
	free(m->read_buf);
	free(m->msg);
	free(m);
	return rc;
}

char *sp_step_output_interleaved(const struct sp_step_result *res, size_t *length)
{
	size_t at[3] = {0, 0, 0}, total = 0;
	char *both = malloc(res->out.length + res->err.length + 1);

	if (both == NULL)
		return NULL;
	for (size_t i = 0; i < res->turn_count; i++) {
		int s = res->turns[i].stream == 1 ? 1 : 2;
		const struct sp_output *o = s == 1 ? &res->out : &res->err;
		/* what was cut off since (a preview) is not there */
		size_t n = res->turns[i].length;

		if (n > o->length - at[s])
			n = o->length - at[s];
		if (n == 0)
			continue;
		memcpy(both + total, o->data + at[s], n);
		at[s] += n;
		total += n;
	}
	/* past the last turn kept */
	for (int s = 1; s <= 2; s++) {
		const struct sp_output *o = s == 1 ? &res->out : &res->err;

		if (o->length > at[s]) {
			memcpy(both + total, o->data + at[s], o->length - at[s]);
			total += o->length - at[s];
		}
	}
	both[total] = '\0';
	*length = total;
	return both;
}

void sp_step_result_free(struct sp_step_result *res)
{
	free(res->out.data);
	free(res->err.data);
	free(res->turns);
	res->out.data = NULL;
	res->err.data = NULL;
	res->turns = NULL;
	res->turn_count = 0;
}
