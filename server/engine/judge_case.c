#include "judge_case.h"

#include <errno.h>
#include <math.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cell_lease.h"
#include "pool.h"
#include "sandbox/base/read_all.h"
#include "server.h"
#include "server/job/utf8.h"

/* Where a checker or an interactor finds the test, in its /box. */
#define INPUT_FILE  "judge/input"
#define OUTPUT_FILE "judge/output"
#define ANSWER_FILE "judge/answer"
/* A Kattis validator's feedback directory: the folder of the test's files,
 * and what it may write there. */
#define FEEDBACK_DIR	"judge/"
#define JUDGE_MESSAGE	"judge/judgemessage.txt"
#define TEAM_MESSAGE	"judge/teammessage.txt"
#define SCORE_FILE	"judge/score.txt"
#define MULTIPLIER_FILE "judge/score_multiplier.txt"
#define FEEDBACK_MAX	(64 * 1024)
/* How long an interactive test waits for its program's cell. */
#define LEASE_WAIT_MS 30000
/* Room in each pipe between a program and its interactor. */
#define INTERACTION_PIPE_SIZE (1024 * 1024)

/* ---- small helpers --------------------------------------------------------- */

static void set_message(char *dst, const char *text, size_t len)
{
	sp_utf8_message(dst, SP_JUDGE_MESSAGE_MAX, text, len);
}

static void sandbox_failed(struct sp_test_outcome *o, const struct sp_error *err)
{
	char text[SP_ERROR_MESSAGE_MAX + 128];

	o->verdict = SP_VERDICT_INTERNAL_ERROR;
	sp_error_describe(err, text, sizeof(text));
	set_message(o->message, text, strlen(text));
}

/* Keep at most SP_JUDGE_PREVIEW_MAX bytes of OUT, not cutting a character. */
static bool cut_to_preview(struct sp_output *out)
{
	size_t keep = SP_JUDGE_PREVIEW_MAX;

	if (out->length <= keep)
		return false;
	while (keep > 0 && ((unsigned char)out->data[keep] & 0xc0) == 0x80)
		keep--;
	out->length = keep;
	out->data[keep] = '\0';
	return true;
}

static void close_if_open(int fd)
{
	if (fd >= 0)
		close(fd);
}

/* A memfd holding DATA, at its start. */
static int memfd_with(const char *data, size_t length, struct sp_error *err)
{
	int fd = memfd_create("sandpool-judge", MFD_CLOEXEC);

	if (fd < 0)
		return sp_error_set(err, errno, "memfd_create");
	if (sp_write_all(fd, data, length) < 0) {
		sp_error_set(err, errno, "write the test's bytes");
		close(fd);
		return -1;
	}
	if (lseek(fd, 0, SEEK_SET) < 0) { /* a step's input is read from here */
		sp_error_set(err, errno, "rewind the test's bytes");
		close(fd);
		return -1;
	}
	return fd;
}

/* PROGRAM's run command with EXTRA after it (NULL-terminated vector of
 * borrowed strings), or NULL. */
static char **argv_with(const struct sp_program *program, const char *const *extra)
{
	size_t n = 0, m = 0;
	char **argv;

	while (program->argv[n] != NULL)
		n++;
	while (extra[m] != NULL)
		m++;
	argv = calloc(n + m + 1, sizeof(*argv));
	if (argv == NULL)
		return NULL;
	memcpy(argv, program->argv, n * sizeof(*argv));
	memcpy(argv + n, extra, m * sizeof(*argv));
	return argv;
}

/* PROGRAM's files and the test's, in one borrowed list. */
static struct sp_job_file *files_with(const struct sp_program *program,
				      const struct sp_job_file *extra, size_t count)
{
	struct sp_job_file *files = calloc(program->file_count + count, sizeof(*files));

	if (files == NULL)
		return NULL;
	memcpy(files, program->files, program->file_count * sizeof(*files));
	memcpy(files + program->file_count, extra, count * sizeof(*files));
	return files;
}

/* The run step of RES into O: its verdict before any check. */
static void take_run(struct sp_test_outcome *o, struct sp_job_result *res)
{
	bool failed = res->status == SP_STATUS_INTERNAL_ERROR;

	if (failed)
		sandbox_failed(o, sp_job_result_error(res));
	o->ran = res->ran;
	o->run = res->run;
	memset(&res->run, 0, sizeof(res->run));
	if (!failed)
		o->verdict = o->ran ? sp_verdict_of_run(o->run.status) : SP_VERDICT_SKIPPED;
}

/* ---- the program, alone ------------------------------------------------------ */

/* The test's bytes WHICH (its input, its answer) in a memfd of their own. */
static int test_bytes(const struct sp_judge_run *r, const struct sp_judge_bytes *which,
		      struct sp_error *err)
{
	return memfd_with(r->data + which->offset, which->length, err);
}

/* The program on test T, its INPUT on stdin. */
static void run_program(const struct sp_judge_run *r, const struct sp_judge_test *t, int input,
			struct sp_test_outcome *o)
{
	struct sp_cell_use use = {.language = r->program->language->name};
	struct sp_job_spec spec;
	struct sp_job_result res;
	struct sp_error err = {0};

	sp_program_spec(r->server, r->program, &t->limits, &spec);
	spec.stdin_fd = input;
	spec.cancel_fd = r->cancel_fd;
	if (sp_run_on_cell(r->server, &use, &spec, &res, &err) < 0) {
		sandbox_failed(o, &err);
		return;
	}
	take_run(o, &res);
	sp_job_result_free(&res);
}

/* ---- checking the answer ----------------------------------------------------- */

static void check_builtin(const struct sp_judge_run *r, const struct sp_judge_test *t,
			  struct sp_test_outcome *o)
{
	const char *out = o->run.out.data ? o->run.out.data : "";
	struct sp_check_result check;

	if (r->judge->default_validator && t->default_flags != NULL)
		sp_default_validate(t->default_flags, out, o->run.out.length,
				    r->data + t->answer.offset, t->answer.length, &check);
	else
		sp_check(r->judge->checker_kind, r->judge->epsilon, out, o->run.out.length,
			 r->data + t->answer.offset, t->answer.length, &check);
	o->verdict = sp_verdict_of_check(check.outcome);
	set_message(o->message, check.message, strlen(check.message));
}

/* The verdict of a checker or an interactor that ended as C, as its
 * CONVENTION reads it; testlib's points into O. */
static enum sp_verdict word_of(enum sp_judge_convention convention, const struct sp_step_result *c,
			       struct sp_test_outcome *o)
{
	if (convention == SP_CONVENTION_KATTIS)
		return sp_verdict_of_validator(c);
	return sp_verdict_of_checker(c, &o->score, &o->has_score);
}

/* The checker program's verdict on O's output; its stderr is the message,
 * unless a Kattis validator's judgemessage.txt took its place. */
static void decide_by_checker(struct sp_test_outcome *o, struct sp_job_result *res,
			      enum sp_judge_convention convention)
{
	const struct sp_step_result *c = &res->run;

	if (res->status == SP_STATUS_INTERNAL_ERROR) {
		sandbox_failed(o, sp_job_result_error(res));
		return;
	}
	o->verdict = word_of(convention, c, o);
	if (o->message[0] != '\0')
		; /* the validator's own message */
	else if (c->err.length > 0)
		set_message(o->message, c->err.data, c->err.length);
	else if (o->verdict == SP_VERDICT_CHECKER_ERROR)
		snprintf(o->message, sizeof(o->message), "the checker ended with %s (exit %d%s)",
			 sp_status_to_string(c->status), c->exit_code,
			 c->signal ? ", killed by a signal" : "");
}

/* ---- a Kattis validator's feedback ----------------------------------------------- */

/* The file NAME of CELL's /box (at most FEEDBACK_MAX bytes) into BUF (SIZE,
 * NUL-terminated); 0 when it is there, -1 when not (or not readable). */
static int read_box_text(struct sp_cell *cell, const char *name, char *buf, size_t size)
{
	struct sp_error err = {0};
	int fd = -1;
	ssize_t n;

	buf[0] = '\0';
	if (sp_cell_read_file(cell, name, FEEDBACK_MAX, &fd, &err) < 0)
		return -1;
	n = pread(fd, buf, size - 1, 0);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return 0;
}

/* A number alone in TEXT (whitespace around it), or -1. */
static int number_in(const char *text, double *out)
{
	char *end = NULL;

	*out = strtod(text, &end);
	if (end == text)
		return -1;
	while (*end == ' ' || *end == '\n' || *end == '\r' || *end == '\t')
		end++;
	return *end == '\0' && isfinite(*out) ? 0 : -1;
}

/* The number in the file NAME of CELL's /box into *VALUE, NaN when the file
 * holds no number alone. Returns whether the file is there. */
static bool read_box_number(struct sp_cell *cell, const char *name, double *value)
{
	char text[SP_JUDGE_MESSAGE_MAX];

	if (read_box_text(cell, name, text, sizeof(text)) < 0)
		return false;
	if (number_in(text, value) < 0)
		*value = NAN;
	return true;
}

/* What a Kattis validator left in its feedback directory, on CELL, into O:
 * judgemessage.txt as the message, teammessage.txt, score.txt and
 * score_multiplier.txt. A score that is not a number is the checker's
 * error. */
static void read_feedback(struct sp_cell *cell, struct sp_test_outcome *o)
{
	char text[SP_JUDGE_MESSAGE_MAX];

	if (read_box_text(cell, JUDGE_MESSAGE, text, sizeof(text)) == 0 && text[0] != '\0')
		set_message(o->message, text, strlen(text));
	if (read_box_text(cell, TEAM_MESSAGE, text, sizeof(text)) == 0)
		sp_utf8_message(o->team_message, sizeof(o->team_message), text, strlen(text));
	o->has_score = read_box_number(cell, SCORE_FILE, &o->score);
	o->has_multiplier = read_box_number(cell, MULTIPLIER_FILE, &o->multiplier);
}

/* After a Kattis validator ran as a checker: its feedback. */
static int feedback_after(void *ctx, struct sp_cell *cell, struct sp_job_result *res)
{
	(void)res;
	read_feedback(cell, ctx);
	return 0;
}

/* Why a Kattis validator's score files are wrong, or NULL (as
 * problemtools has it): one that is no number; a score for an output it
 * rejected; a score where the problem takes none from its validator; none
 * where a legacy problem's validation says "score". */
static const char *score_fault(const struct sp_judge *judge, const struct sp_test_outcome *o)
{
	const struct sp_problem *p = judge->problem;
	bool given = o->has_score || o->has_multiplier;

	if ((o->has_score && isnan(o->score)) || (o->has_multiplier && isnan(o->multiplier)))
		return "the validator's score.txt or score_multiplier.txt is not a number";
	if (given && o->verdict == SP_VERDICT_WRONG_ANSWER)
		return "the validator wrote a score for an output it rejected";
	if (given && p != NULL && !p->validator_scores && !p->scoring)
		return "the validator wrote a score, and the problem takes none from it";
	if (!given && p != NULL && p->validator_scores && o->verdict == SP_VERDICT_ACCEPTED)
		return "the problem's validation says score, and the validator wrote no score.txt";
	return NULL;
}

/* A Kattis validator whose score files are wrong failed. */
static void check_scores(const struct sp_judge *judge, struct sp_test_outcome *o)
{
	const char *fault = score_fault(judge, o);

	if (fault == NULL)
		return;
	o->verdict = SP_VERDICT_CHECKER_ERROR;
	snprintf(o->message, sizeof(o->message), "%s", fault);
	o->has_score = o->has_multiplier = false;
}

/* A Kattis validator's command: input, answer, the feedback directory, then
 * the test's flags. Borrowed strings. */
static char **kattis_argv(const struct sp_program *program, const struct sp_judge_test *t)
{
	const char **extra = calloc(t->flag_count + 4, sizeof(*extra));
	char **argv;

	if (extra == NULL)
		return NULL;
	extra[0] = INPUT_FILE;
	extra[1] = ANSWER_FILE;
	extra[2] = FEEDBACK_DIR;
	for (size_t i = 0; i < t->flag_count; i++)
		extra[3 + i] = t->flags[i];
	argv = argv_with(program, extra);
	free(extra);
	return argv;
}

/* The checker program on OUTPUT (what the program wrote, or what an
 * interactor wrote of their exchange) for test T, whose INPUT the program
 * read: a file is copied into a cell from its start, whatever its offset.
 * Its cell waits for no one: the request may hold every cell of its
 * language. */
static void check_program(const struct sp_judge_run *r, const struct sp_judge_test *t, int input,
			  int output, struct sp_test_outcome *o)
{
	static const char *const paths[] = {INPUT_FILE, OUTPUT_FILE, ANSWER_FILE, NULL};
	bool kattis = r->judge->checker_convention == SP_CONVENTION_KATTIS;
	struct sp_error err = {0};
	int answer = test_bytes(r, &t->answer, &err); /* empty when it has none */
	/* a Kattis validator reads the output on its stdin, not from a file */
	struct sp_job_file extra[3] = {
	    {INPUT_FILE, input, 0644}, {ANSWER_FILE, answer, 0644}, {OUTPUT_FILE, output, 0644}};
	size_t nfiles = kattis ? 2 : 3;
	struct sp_job_file *files = files_with(r->checker, extra, nfiles);
	char **argv = kattis ? kattis_argv(r->checker, t) : argv_with(r->checker, paths);
	struct sp_cell_after after = {.fn = feedback_after, .ctx = o};
	struct sp_cell_use use = {
	    .language = r->checker->language->name, .spare = true, .after = kattis ? &after : NULL};
	struct sp_job_result res;
	struct sp_job_spec spec;

	if (answer < 0 || files == NULL || argv == NULL) {
		if (err.message[0] == '\0')
			sp_error_set(&err, ENOMEM, "the checker's files");
		sandbox_failed(o, &err);
	} else {
		sp_program_spec(r->server, r->checker, &r->checker->limits, &spec);
		spec.argv = argv;
		spec.files = files;
		spec.file_count = r->checker->file_count + nfiles;
		spec.stdin_fd = kattis ? output : -1;
		spec.cancel_fd = r->cancel_fd;
		o->message[0] = '\0';
		if (sp_run_on_cell(r->server, &use, &spec, &res, &err) < 0) {
			sandbox_failed(o, &err);
		} else {
			decide_by_checker(o, &res, r->judge->checker_convention);
			if (kattis)
				check_scores(r->judge, o);
			sp_job_result_free(&res);
		}
	}
	close_if_open(answer);
	free(files);
	free(argv);
}

/* The checker on what the program wrote. */
static void check_output(const struct sp_judge_run *r, const struct sp_judge_test *t, int input,
			 struct sp_test_outcome *o)
{
	struct sp_error err = {0};
	int output = memfd_with(o->run.out.data, o->run.out.length, &err);

	if (output < 0) {
		sandbox_failed(o, &err);
		return;
	}
	check_program(r, t, input, output, o);
	close(output);
}

/* ---- the program and its interactor ------------------------------------------ */

/* What a step writes on stdout, passed on to the other step's stdin. */
struct relay {
	int fd; /* write end, non-blocking */
	size_t dropped;
};

static void relay_output(void *ctx, int stream, const char *data, size_t length)
{
	struct relay *rl = ctx;

	while (stream == 1 && length > 0) {
		ssize_t n = write(rl->fd, data, length);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			rl->dropped += length;
		if (n <= 0)
			return;
		data += n;
		length -= (size_t)n;
	}
}

/* One side of an interaction: its cell, its step, its result. */
struct side {
	struct sp_lease lease;
	struct sp_job_spec spec;
	struct sp_job_observer observer;
	struct relay relay;
	struct sp_job_result res;
	const struct sp_cgroup_root *cgroups;
	int rc;
	int *close_after; /* the write end it feeds: closed once it ended */
};

static void run_side(struct side *s)
{
	s->rc = sp_job_run(s->lease.cell, s->cgroups, &s->spec, &s->res);
	close(*s->close_after);
	*s->close_after = -1;
}

static void *run_side_thread(void *arg)
{
	run_side(arg);
	return NULL;
}

/* The program's cell (one of those the queue gave the request), then the
 * interactor's, which waits for no one: a test never holds one cell while
 * it waits for another that only its own request could give back. */
static int lease_pair(struct sp_server *server, struct side *program, const char *lang_program,
		      struct side *interactor, const char *lang_interactor, struct sp_error *err)
{
	uint64_t deadline = sp_pool_now_ms() + LEASE_WAIT_MS;

	if (sp_pool_lease(server->pool, lang_program, deadline, &program->lease, err) < 0)
		return -1;
	if (sp_pool_lease_spare(server->pool, lang_interactor, &interactor->lease, err) < 0) {
		sp_error_wrap(err, "the interactor's cell");
		sp_pool_release(server->pool, &program->lease, true);
		return -1;
	}
	return 0;
}

/* Two pipes, program to interactor and back; the write ends do not block. */
static int interaction_pipes(int to_program[2], int to_interactor[2], struct sp_error *err)
{
	if (pipe2(to_program, O_CLOEXEC) < 0)
		return sp_error_set(err, errno, "pipe");
	if (pipe2(to_interactor, O_CLOEXEC) < 0) {
		close(to_program[0]);
		close(to_program[1]);
		return sp_error_set(err, errno, "pipe");
	}
	for (int i = 0; i < 2; i++) {
		int w = i == 0 ? to_program[1] : to_interactor[1];

		fcntl(w, F_SETPIPE_SZ, INTERACTION_PIPE_SIZE); /* best effort */
		fcntl(w, F_SETFL, O_NONBLOCK);
	}
	return 0;
}

/* The test's verdict: the program's, then the interactor's word as its
 * CONVENTION reads its end (with ERR, its stderr: testlib's points). */
static void interaction_verdict(struct sp_test_outcome *o, struct side *program,
				struct side *interactor, enum sp_judge_convention convention,
				const struct sp_output *err)
{
	struct sp_step_result *i = &interactor->res.run;
	bool broken = interactor->res.status == SP_STATUS_INTERNAL_ERROR;
	struct sp_error why = *sp_job_result_error(&interactor->res);
	enum sp_verdict word;

	o->interacted = interactor->res.ran;
	o->interactor = *i; /* its figures: its output is not shown */
	memset(i, 0, sizeof(*i));
	sp_step_result_free(&o->interactor);
	o->interactor.out.length = o->interactor.err.length = 0;
	take_run(o, &program->res);
	if (o->verdict == SP_VERDICT_INTERNAL_ERROR)
		return;
	if (broken) {
		sandbox_failed(o, &why);
		return;
	}
	o->interactor.err = *err;
	word = word_of(convention, &o->interactor, o);
	memset(&o->interactor.err, 0, sizeof(o->interactor.err));
	o->verdict = sp_verdict_of_interaction(&o->run, word);
}

/* The interactor's stderr as the message, or what was lost between them. */
static void interaction_message(struct sp_test_outcome *o, const struct side *program,
				const struct side *interactor, const struct sp_output *err)
{
	size_t dropped = program->relay.dropped + interactor->relay.dropped;

	if (o->message[0] != '\0')
		return;
	if (dropped > 0)
		snprintf(o->message, sizeof(o->message),
			 "%zu bytes of the interaction were not read by the other side and "
			 "were lost",
			 dropped);
	else if (err->length > 0)
		set_message(o->message, err->data, err->length);
}

static void interact(struct side *program, struct side *interactor, struct sp_test_outcome *o,
		     enum sp_judge_convention convention)
{
	pthread_t thread;
	struct sp_output err = {0};

	if (pthread_create(&thread, NULL, run_side_thread, interactor) != 0) {
		struct sp_error e;

		sp_error_set(&e, errno, "start the interactor's thread");
		sandbox_failed(o, &e);
		program->rc = interactor->rc = 0;
		return;
	}
	run_side(program);
	pthread_join(thread, NULL);
	err = interactor->res.run.err;
	interactor->res.run.err.data = NULL;
	interaction_verdict(o, program, interactor, convention, &err);
	interaction_message(o, program, interactor, &err);
	free(err.data);
}

/* The interactor's side: its files and the test's input (and answer), in
 * EXTRA's descriptors, which the caller closes. */
static int interactor_spec(const struct sp_judge_run *r, const struct sp_judge_test *t,
			   struct side *s, struct sp_job_file extra[2], char ***argv,
			   struct sp_job_file **files)
{
	static const char *const with_answer[] = {INPUT_FILE, OUTPUT_FILE, ANSWER_FILE, NULL};
	size_t n = t->has_answer ? 2 : 1;
	struct sp_error err;

	extra[0] = (struct sp_job_file){INPUT_FILE, test_bytes(r, &t->input, &err), 0644};
	extra[1] =
	    (struct sp_job_file){ANSWER_FILE, n == 2 ? test_bytes(r, &t->answer, &err) : -1, 0644};
	if (extra[0].fd < 0 || (n == 2 && extra[1].fd < 0))
		return -1;
	if (r->judge->interactor_convention == SP_CONVENTION_KATTIS)
		*argv = kattis_argv(r->interactor, t);
	else
		*argv = argv_with(r->interactor,
				  n == 2 ? with_answer
					 : (const char *const[]){INPUT_FILE, OUTPUT_FILE, NULL});
	*files = files_with(r->interactor, extra, n);
	if (*argv == NULL || *files == NULL)
		return -1;
	sp_program_spec(r->server, r->interactor, &r->interactor->limits, &s->spec);
	/* it waits for the program as long as the program may run */
	if (s->spec.limits.wall_ms < t->limits.wall_ms || t->limits.wall_ms == 0)
		s->spec.limits.wall_ms = t->limits.wall_ms;
	s->spec.argv = *argv;
	s->spec.files = *files;
	s->spec.file_count = r->interactor->file_count + n;
	return 0;
}

static void connect_sides(const struct sp_judge_run *r, struct side *program,
			  struct side *interactor, int to_program[2], int to_interactor[2])
{
	program->cgroups = interactor->cgroups = &r->server->cgroups;
	program->spec.stdin_fd = to_program[0];
	program->relay.fd = to_interactor[1];
	program->close_after = &to_interactor[1];
	interactor->spec.stdin_fd = to_interactor[0];
	interactor->relay.fd = to_program[1];
	interactor->close_after = &to_program[1];
	program->observer =
	    (struct sp_job_observer){.output = relay_output, .ctx = &program->relay};
	interactor->observer =
	    (struct sp_job_observer){.output = relay_output, .ctx = &interactor->relay};
	program->spec.observer = &program->observer;
	interactor->spec.observer = &interactor->observer;
	program->spec.cancel_fd = interactor->spec.cancel_fd = r->cancel_fd;
}

/* What the interactor wrote to judge/output, for the checker that follows
 * it (the Polygon way): a sealed memfd, empty when it wrote no such file; -1
 * when the file is not one a checker may read (O says why). */
static int interaction_log(const struct side *interactor, struct sp_test_outcome *o)
{
	const struct sp_limits *limits = &interactor->spec.limits;
	uint64_t max = (limits->file_kb ? limits->file_kb : limits->tmpfs_kb) * 1024;
	struct sp_error err = {0};
	int fd = -1;

	if (sp_cell_read_file(interactor->lease.cell, OUTPUT_FILE, max, &fd, &err) == 0)
		return fd;
	if (err.errnum == ENOENT)
		return memfd_with("", 0, &err);
	if (err.errnum == ELOOP || err.errnum == EINVAL || err.errnum == EFBIG) {
		o->verdict = SP_VERDICT_CHECKER_ERROR;
		snprintf(o->message, sizeof(o->message), "the interactor's %s: %s", OUTPUT_FILE,
			 err.message);
		return -1;
	}
	sandbox_failed(o, &err);
	return -1;
}

static void run_interactive(const struct sp_judge_run *r, const struct sp_judge_test *t,
			    struct sp_test_outcome *o)
{
	struct side program = {0}, interactor = {0};
	int to_program[2] = {-1, -1}, to_interactor[2] = {-1, -1};
	struct sp_job_file extra[2] = {{.fd = -1}, {.fd = -1}}, *files = NULL;
	struct sp_error err = {0};
	char **argv = NULL;
	int log = -1;

	sp_program_spec(r->server, r->program, &t->limits, &program.spec);
	if (interactor_spec(r, t, &interactor, extra, &argv, &files) < 0) {
		sp_error_set(&err, errno ? errno : ENOMEM, "the interactor's files");
		sandbox_failed(o, &err);
	} else if (interaction_pipes(to_program, to_interactor, &err) < 0 ||
		   lease_pair(r->server, &program, r->program->language->name, &interactor,
			      r->interactor->language->name, &err) < 0) {
		sandbox_failed(o, &err);
	} else {
		connect_sides(r, &program, &interactor, to_program, to_interactor);
		interact(&program, &interactor, o, r->judge->interactor_convention);
		if (r->judge->interactor_convention == SP_CONVENTION_KATTIS && interactor.rc == 0) {
			read_feedback(interactor.lease.cell, o);
			check_scores(r->judge, o);
		}
		if (r->checker != NULL && o->verdict == SP_VERDICT_ACCEPTED && interactor.rc == 0)
			log = interaction_log(&interactor, o);
		sp_pool_release(r->server->pool, &program.lease, program.rc == 0);
		sp_pool_release(r->server->pool, &interactor.lease, interactor.rc == 0);
		sp_job_result_free(&program.res);
		sp_job_result_free(&interactor.res);
	}
	/* the interactor had its word; then the checker, on its log */
	if (log >= 0)
		check_program(r, t, extra[0].fd, log, o);
	close_if_open(log);
	for (int i = 0; i < 2; i++) {
		close_if_open(to_program[i]);
		close_if_open(to_interactor[i]);
		close_if_open(extra[i].fd);
	}
	free(argv);
	free(files);
}

/* ---- one test ---------------------------------------------------------------- */

/* Test T without an interactor: the program, then the checker. The test's
 * input is made once, for both. */
static void judge_alone(const struct sp_judge_run *r, const struct sp_judge_test *t,
			struct sp_test_outcome *o)
{
	struct sp_error err = {0};
	int input = test_bytes(r, &t->input, &err);

	if (input < 0) {
		sandbox_failed(o, &err);
		return;
	}
	run_program(r, t, input, o);
	if (o->verdict == SP_VERDICT_ACCEPTED && r->checker != NULL)
		check_output(r, t, input, o);
	else if (o->verdict == SP_VERDICT_ACCEPTED)
		check_builtin(r, t, o);
	close(input);
}

void sp_judge_case_run(const struct sp_judge_run *r, size_t index, struct sp_test_outcome *o)
{
	const struct sp_judge_test *t = &r->judge->tests[index];

	memset(o, 0, sizeof(*o));
	if (r->interactor != NULL)
		run_interactive(r, t, o);
	else
		judge_alone(r, t, o);
	o->output_cut = cut_to_preview(&o->run.out);
	o->output_cut |= cut_to_preview(&o->run.err);
}

void sp_test_outcome_free(struct sp_test_outcome *o)
{
	sp_step_result_free(&o->run);
	sp_step_result_free(&o->interactor);
}
