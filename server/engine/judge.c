#include "judge.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "judge_case.h"
#include "judge_share.h"
#include "program_cache.h"
#include "queue.h"
#include "sandbox/base/clock.h"
#include "server.h"
#include "server/job/judge_summary.h"
#include "server/job/problem_grade.h"
#include "server/job/result_json.h"
#include "server/job/utf8.h"

/* A wait for tests others run, before looking again (sp_queue_share_next). */
#define SHARE_WAIT_MS 50

/* A judge request while it runs. */
struct judging {
	struct sp_judge_run run;
	const struct sp_request *req;
	const struct sp_queue_job *job;
	size_t language; /* its index among the served ones */
	/* Each test's outcome once known, as its "test" event gives it. */
	json_t **results;
	pthread_mutex_t results_lock; /* over RESULTS while tests run */
	/* Tests taken from a share with other workers (sp_queue_share_next),
	 * or else TODO's in turn. */
	bool shared;
	uint64_t claim_ms; /* a shared test's claim */
	size_t *todo;
	size_t todo_count;
	atomic_size_t next;		  /* the next of TODO to take */
	atomic_bool failed;		  /* a test failed: stop_on_first_failure skips the rest */
	enum sp_status status;		  /* of the whole job */
	enum sp_verdict verdict_if_unrun; /* the tests' verdict when they cannot run */
	char unrun_message[SP_JUDGE_MESSAGE_MAX]; /* and their message */
	char error[SP_ERROR_MESSAGE_MAX + 128];
	json_t *answer;
	void *data_map; /* the tests' data, mapped; NULL when there is none */
	/* A problem's tests no outcome still to come brings into its grading
	 * (problem_grade.h): skipped. Under RESULTS_LOCK. */
	bool *unneeded;
};

/* ---- the programs -------------------------------------------------------------- */

static json_t *compile_json(const struct sp_job_result *compile)
{
	return compile->compiled ? sp_result_to_json(&compile->compile) : json_null();
}

/* The submission, compiled once. Returns 0 when its tests may run. */
static int build_submission(struct judging *j, int cancel_fd)
{
	struct sp_job_result compile;
	struct sp_error err = {0};
	int rc =
	    sp_program_build(j->run.server, j->req, cancel_fd, &j->run.program, &compile, &err);

	json_object_set_new(j->answer, "compile", compile_json(&compile));
	if (rc < 0) {
		j->status = SP_STATUS_INTERNAL_ERROR;
		sp_error_describe(&err, j->error, sizeof(j->error));
	} else if (j->run.program == NULL) {
		j->status = compile.status;
	}
	sp_job_result_free(&compile);
	return j->run.program != NULL ? 0 : -1;
}

/* The first line of OUT that is not blank, or NULL; *LEN its length. */
static const char *first_line(const struct sp_output *out, size_t *len)
{
	const char *p = out->data, *end = out->data ? out->data + out->length : NULL;

	while (p != NULL && p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *stop = nl ? nl : end;

		for (const char *c = p; c < stop; c++) {
			if (*c != ' ' && *c != '\t' && *c != '\r') {
				*len = (size_t)(stop - c);
				return c;
			}
		}
		p = stop + 1;
	}
	return NULL;
}

/* Why WHAT did not compile, for each test: its status and the first line
 * the compiler wrote. */
static void tell_unbuilt(struct judging *j, const char *what, const struct sp_step_result *compile)
{
	char text[SP_JUDGE_MESSAGE_MAX + 128];
	const char *line;
	size_t len = 0;

	line = first_line(&compile->err, &len);
	if (line == NULL)
		line = first_line(&compile->out, &len);
	snprintf(text, sizeof(text), "the %s did not compile (%s)%s%.*s", what,
		 sp_status_to_string(compile->status), line ? ": " : "",
		 (int)(len < SP_JUDGE_MESSAGE_MAX ? len : SP_JUDGE_MESSAGE_MAX), line ? line : "");
	sp_utf8_message(j->unrun_message, sizeof(j->unrun_message), text, strlen(text));
}

/* A checker or interactor: from the cache, or built (and then kept). */
static int checking_program(struct judging *j, const struct sp_request *req, const char *what,
			    int cancel_fd, struct sp_program **out)
{
	struct sp_server *server = j->run.server;
	struct sp_job_result compile = {0};
	struct sp_error err = {0};
	char key[SP_PROGRAM_KEY_LEN + 1];
	bool keyed = sp_program_key(req, key) == 0;
	json_t *info;
	int rc = 0;

	*out = keyed ? sp_program_cache_find(server->programs, key) : NULL;
	info = json_pack("{s:s, s:b}", "language", req->language->name, "cached", *out != NULL);
	if (*out == NULL)
		rc = sp_program_build(server, req, cancel_fd, out, &compile, &err);
	json_object_set_new(info, "compile", compile_json(&compile));
	json_object_set_new(j->answer, what, info);
	if (rc < 0) {
		j->status = SP_STATUS_INTERNAL_ERROR;
		sp_error_describe(&err, j->error, sizeof(j->error));
	} else if (*out == NULL) {
		j->verdict_if_unrun = SP_VERDICT_CHECKER_ERROR;
		snprintf(j->error, sizeof(j->error), "the %s did not compile: %s", what,
			 sp_status_to_string(compile.status));
		tell_unbuilt(j, what, &compile.compile);
		if (compile.status == SP_STATUS_CANCELLED)
			j->status = SP_STATUS_CANCELLED;
	} else if (keyed && compile.compiled) {
		sp_program_cache_keep(server->programs, key, *out);
	}
	sp_job_result_free(&compile);
	return *out != NULL ? 0 : -1;
}

static uint64_t bytes_of(const struct sp_program *p)
{
	return p != NULL ? p->bytes : 0;
}

/* The programs are built: the job holds what they take, no longer the most
 * they could have taken (judge_max_program_kb each). */
static void reserve_what_was_built(struct judging *j)
{
	uint64_t most = bytes_of(j->run.program);

	if (bytes_of(j->run.checker) > most)
		most = bytes_of(j->run.checker);
	if (bytes_of(j->run.interactor) > most)
		most = bytes_of(j->run.interactor);
	sp_queue_reserve_less(
	    j->run.server->queue, j->job,
	    sp_judge_reserve(j->req, sp_judge_cells(j->run.server, j->req), most));
}

/* A stored problem's checker or interactor (WHAT), built when it was
 * stored. */
static int built_program(struct judging *j, const struct sp_judge_built *built, const char *what,
			 struct sp_program **out)
{
	struct sp_error err = {0};

	json_object_set_new(j->answer, what,
			    json_pack("{s:s, s:b, s:n}", "language", built->language->name,
				      "stored", true, "compile"));
	if (sp_program_from_box(built->language, built->argv, &built->limits, built->box_fd, out,
				&err) == 0)
		return 0;
	j->status = SP_STATUS_INTERNAL_ERROR;
	sp_error_describe(&err, j->error, sizeof(j->error));
	return -1;
}

/* The checker and the interactor, where the request has them. */
static int build_checking(struct judging *j, int cancel_fd)
{
	const struct sp_judge *judge = j->req->judge;

	if (judge->checker != NULL &&
	    checking_program(j, judge->checker, "checker", cancel_fd, &j->run.checker) < 0)
		return -1;
	if (judge->checker_built.box_fd >= 0 &&
	    built_program(j, &judge->checker_built, "checker", &j->run.checker) < 0)
		return -1;
	if (judge->interactor != NULL &&
	    checking_program(j, judge->interactor, "interactor", cancel_fd, &j->run.interactor) < 0)
		return -1;
	if (judge->interactor_built.box_fd >= 0 &&
	    built_program(j, &judge->interactor_built, "interactor", &j->run.interactor) < 0)
		return -1;
	return 0;
}

static int build_programs(struct judging *j, int cancel_fd)
{
	if (build_submission(j, cancel_fd) < 0 || build_checking(j, cancel_fd) < 0)
		return -1;
	reserve_what_was_built(j);
	return 0;
}

/* ---- the tests ------------------------------------------------------------------ */

/* What a problem's test says besides: its group, the limits it ran under,
 * and what its checker gave besides the verdict. */
static void add_problem_parts(const struct judging *j, size_t i, const struct sp_test_outcome *o,
			      json_t *t)
{
	const struct sp_judge *judge = j->req->judge;
	const struct sp_limits *l = &judge->tests[i].limits;

	if (o->has_score)
		json_object_set_new(t, "score", json_real(o->score));
	if (o->has_multiplier)
		json_object_set_new(t, "score_multiplier", json_real(o->multiplier));
	if (o->team_message[0] != '\0')
		json_object_set_new(t, "team_message", json_string(o->team_message));
	if (judge->problem == NULL)
		return;
	json_object_set_new(
	    t, "group", json_string(judge->problem->groups[judge->problem->tests[i].group].name));
	json_object_set_new(t, "limits",
			    json_pack("{s:I, s:I, s:I, s:I}", "cpu_ms", (json_int_t)l->cpu_ms,
				      "wall_ms", (json_int_t)l->wall_ms, "memory_kb",
				      (json_int_t)l->memory_kb, "output_kb",
				      (json_int_t)l->output_kb));
}

static json_t *test_json(const struct judging *j, size_t i, const struct sp_test_outcome *o)
{
	json_t *t =
	    json_pack("{s:I, s:s, s:s}", "index", (json_int_t)i, "name",
		      j->req->judge->tests[i].name, "verdict", sp_verdict_to_string(o->verdict));
	/* the run step's figures and output, as /api/v1/run gives them */
	json_t *step = o->ran ? sp_result_to_json(&o->run) : NULL;

	if (t == NULL || (o->ran && (step == NULL || json_object_update(t, step) < 0))) {
		json_decref(t);
		json_decref(step);
		return NULL;
	}
	json_decref(step);
	if (o->ran)
		json_object_set_new(t, "output_cut", json_boolean(o->output_cut));
	if (o->interacted)
		json_object_set_new(
		    t, "interactor",
		    json_pack("{s:s, s:o, s:I, s:I}", "status",
			      sp_status_to_string(o->interactor.status), "exit_code",
			      o->interactor.exit_code >= 0 ? json_integer(o->interactor.exit_code)
							   : json_null(),
			      "cpu_ms", (json_int_t)o->interactor.cpu_ms, "wall_ms",
			      (json_int_t)o->interactor.wall_ms));
	json_object_set_new(t, "message", json_string(o->message));
	add_problem_parts(j, i, o, t);
	return t;
}

static bool watched(const struct judging *j)
{
	return sp_queue_watched(j->run.server->queue, j->job);
}

/* EVENT (taken) to the job's watchers, as TYPE. */
static void publish(struct judging *j, json_t *event, const char *type)
{
	if (event == NULL)
		return;
	json_object_set_new(event, "type", json_string(type));
	sp_queue_publish(j->run.server->queue, j->job, event);
	json_decref(event);
}

static void publish_stage(struct judging *j, const char *stage)
{
	if (watched(j))
		publish(j,
			json_pack("{s:s, s:I}", "stage", stage, "tests",
				  (json_int_t)j->req->judge->test_count),
			"started");
}

/* RESULT (taken) is test I's outcome: a test whose claim lapsed may have
 * run twice here. */
static void keep_result(struct judging *j, size_t i, json_t *result)
{
	json_t *old;

	pthread_mutex_lock(&j->results_lock);
	old = j->results[i];
	j->results[i] = result;
	/* a problem's rejected test may leave others out of its grading */
	if (j->unneeded != NULL && result != NULL &&
	    sp_verdict_failed(sp_judge_test_verdict(result)))
		sp_problem_skippable(j->req->judge->problem, j->results, j->unneeded);
	pthread_mutex_unlock(&j->results_lock);
	json_decref(old);
}

/* Whether test I is one the request no longer needs. */
static bool unneeded(struct judging *j, size_t i)
{
	bool skip;

	if (j->req->judge->stop_on_first_failure && atomic_load(&j->failed))
		return true;
	if (j->unneeded == NULL)
		return false;
	pthread_mutex_lock(&j->results_lock);
	skip = j->unneeded[i];
	pthread_mutex_unlock(&j->results_lock);
	return skip;
}

/* Test I's outcome is RESULT (taken): sent to the job's watchers, told to
 * the share, kept. The event goes before the share hears of it: the job's
 * own worker answers (its result event) only once every outcome is in the
 * share, so a watcher gets every test event before the result. */
static void tell_test(struct judging *j, size_t i, json_t *result, bool failed)
{
	char *text;

	if (result == NULL)
		return;
	if (watched(j))
		publish(j, json_copy(result), "test");
	if (j->shared && (text = json_dumps(result, JSON_COMPACT)) != NULL) {
		sp_queue_share_put(j->run.server->queue, j->job, i, text, failed);
		free(text);
	}
	keep_result(j, i, result);
}

static void judge_one(struct judging *j, size_t i)
{
	struct sp_test_outcome o;

	if (unneeded(j, i) || sp_job_cancel_asked(j->run.cancel_fd)) {
		memset(&o, 0, sizeof(o));
		o.verdict = SP_VERDICT_SKIPPED;
	} else {
		sp_judge_case_run(&j->run, i, &o);
	}
	if (sp_verdict_failed(o.verdict))
		atomic_store(&j->failed, true);
	sp_metrics_test(&j->run.server->metrics, j->language, o.verdict);
	tell_test(j, i, test_json(j, i, &o), sp_verdict_failed(o.verdict));
	sp_test_outcome_free(&o);
}

/* The next test for this thread to run, in *I: from the share, waiting
 * while the job's own worker has tests others run; else from TODO. */
static bool next_test(struct judging *j, size_t *i)
{
	size_t k;
	long got;

	if (!j->shared) {
		k = atomic_fetch_add(&j->next, 1);
		*i = k < j->todo_count ? j->todo[k] : 0;
		return k < j->todo_count;
	}
	while (!sp_job_cancel_asked(j->run.cancel_fd)) {
		got = sp_queue_share_next(j->run.server->queue, j->job, j->claim_ms,
					  j->req->judge->stop_on_first_failure);
		if (got >= 0 && (size_t)got < j->req->judge->test_count) {
			*i = (size_t)got;
			return true;
		}
		/* a helper leaves the tests others hold to them */
		if (got != -2 || j->job->part)
			break;
		usleep(SHARE_WAIT_MS * 1000);
	}
	return false;
}

static void *judge_tests(void *arg)
{
	struct judging *j = arg;
	size_t i;

	while (next_test(j, &i))
		judge_one(j, i);
	return NULL;
}

/* The language of JUDGE's interactor, given or built; NULL without one. */
static const struct sp_language *interactor_language(const struct sp_judge *judge)
{
	if (judge->interactor != NULL)
		return judge->interactor->language;
	return judge->interactor_built.language;
}

/* How many tests of REQ run at once: a share of its language's cells (two
 * cells a test with an interactor of the same language), at least one. An
 * interactor or checker that finds no idle cell gets a cell of its own
 * (sp_pool_lease_spare): a language of one cell judges too. */
static size_t parallel_tests(const struct sp_server *server, const struct sp_request *req)
{
	const struct sp_judge *judge = req->judge;
	size_t language = sp_server_language_index(server, req->language);
	size_t n =
	    (size_t)server->served[language].capacity * server->config.judge_pool_percent / 100;

	if (interactor_language(judge) == req->language)
		n /= 2;
	if (n < 1)
		n = 1;
	return n < judge->test_count ? n : judge->test_count;
}

unsigned sp_judge_cells(const struct sp_server *server, const struct sp_request *req)
{
	const struct sp_judge *judge = req->judge;
	size_t n;

	if (req->mode != SP_REQUEST_JUDGE || judge == NULL)
		return 1;
	n = parallel_tests(server, req);
	if (interactor_language(judge) == req->language)
		n *= 2; /* the interactors' cells too (the job table keeps to capacity) */
	return (unsigned)n;
}

static void run_tests(struct judging *j)
{
	size_t n = parallel_tests(j->run.server, j->req), started = 0;
	pthread_t *threads = calloc(n, sizeof(*threads));

	for (size_t k = 1; threads != NULL && k < n; k++) {
		if (pthread_create(&threads[started], NULL, judge_tests, j) != 0)
			break;
		started++;
	}
	judge_tests(j);
	for (size_t k = 0; k < started; k++)
		pthread_join(threads[k], NULL);
	free(threads);
}

/* Test I, which never ran, gets VERDICT and MESSAGE. */
static void test_unrun(struct judging *j, size_t i, enum sp_verdict verdict, const char *message)
{
	struct sp_test_outcome o;

	memset(&o, 0, sizeof(o));
	o.verdict = verdict;
	snprintf(o.message, sizeof(o.message), "%s", message);
	keep_result(j, i, test_json(j, i, &o));
}

/* Tests that never ran: all of them get VERDICT, and why. */
static void tests_unrun(struct judging *j, enum sp_verdict verdict)
{
	for (size_t i = 0; i < j->req->judge->test_count; i++)
		test_unrun(j, i, verdict, j->unrun_message);
}

/* ---- the answer ----------------------------------------------------------------- */

/* The verdict of the request: a sandbox failure or a cancel first; a
 * submission that did not compile is a compile_error; then the first
 * failing test's (in test order), else accepted. */
static const char *overall_verdict(const struct judging *j, long *first)
{
	*first = -1;
	if (j->status == SP_STATUS_INTERNAL_ERROR)
		return "internal_error";
	if (j->status == SP_STATUS_CANCELLED)
		return "cancelled";
	if (j->run.program == NULL)
		return "compile_error";
	*first = sp_judge_first_failure(j->results, j->req->judge->test_count);
	return *first >= 0 ? sp_verdict_to_string(sp_judge_test_verdict(j->results[*first]))
			   : "accepted";
}

/* A problem's answer: the problem, its groups, its score, and its verdict
 * as its format grades (when the tests could run). */
static void add_grading(struct judging *j, const char *verdict)
{
	const struct sp_problem *p = j->req->judge->problem;
	json_t *graded = sp_problem_grade_json(p, j->results);

	json_object_set_new(j->answer, "problem",
			    json_pack("{s:s, s:s?, s:s}", "id", p->id, "name", p->name, "type",
				      p->scoring ? "scoring" : "pass-fail"));
	if (graded == NULL)
		return;
	json_object_set(j->answer, "groups", json_object_get(graded, "groups"));
	if (json_object_get(graded, "score") != NULL)
		json_object_set(j->answer, "score", json_object_get(graded, "score"));
	if (j->status == SP_STATUS_OK && j->run.program != NULL &&
	    strcmp(verdict, "cancelled") != 0)
		json_object_set(j->answer, "verdict", json_object_get(graded, "verdict"));
	json_decref(graded);
}

static int finish_answer(struct judging *j)
{
	json_t *tests = json_array();
	const char *verdict;
	long first;

	if (tests == NULL)
		return -1;
	for (size_t i = 0; i < j->req->judge->test_count; i++) {
		if (j->results[i] == NULL || json_array_append(tests, j->results[i]) < 0) {
			json_decref(tests);
			return -1;
		}
	}
	verdict = overall_verdict(j, &first);
	json_object_set_new(j->answer, "status", json_string(sp_status_to_string(j->status)));
	json_object_set_new(j->answer, "verdict", json_string(verdict));
	json_object_set_new(j->answer, "tests", tests);
	json_object_set_new(j->answer, "summary",
			    sp_judge_summary(j->req->judge, j->results, verdict, first));
	if (j->req->judge->problem != NULL)
		add_grading(j, verdict);
	if (j->error[0] != '\0')
		json_object_set_new(j->answer, "error", json_string(j->error));
	return 0;
}

/* The tests' inputs and answers, where the tests read them. */
static int map_data(struct judging *j)
{
	const struct sp_judge *judge = j->req->judge;

	j->run.data = "";
	if (judge->data_size == 0)
		return 0;
	j->data_map = mmap(NULL, judge->data_size, PROT_READ, MAP_PRIVATE, judge->data_fd, 0);
	if (j->data_map == MAP_FAILED) {
		j->data_map = NULL;
		return -1;
	}
	j->run.data = j->data_map;
	return 0;
}

/* With a queue shared by several workers, the tests this worker's cells do
 * not start at once are offered to others too. */
static void share_tests(struct judging *j)
{
	struct sp_server *server = j->run.server;

	j->shared = sp_judge_share_open(server, j->job, j->req, j->run.program,
					parallel_tests(server, j->req));
	if (j->shared)
		j->claim_ms = sp_judge_claim_ms(server, j->req);
}

/* Tests with no outcome yet (their share was lost, or the queue could not
 * be reached) run here, unless a failure stops them or the job is
 * cancelled: then they are skipped. */
static void run_missing(struct judging *j)
{
	const struct sp_judge *judge = j->req->judge;
	bool stop = sp_job_cancel_asked(j->run.cancel_fd);

	for (size_t i = 0; i < judge->test_count; i++)
		if (j->results[i] != NULL &&
		    sp_verdict_failed(sp_judge_test_verdict(j->results[i])))
			stop = stop || judge->stop_on_first_failure;
	j->todo_count = 0;
	for (size_t i = 0; i < judge->test_count; i++) {
		if (j->results[i] != NULL)
			continue;
		if (stop)
			test_unrun(j, i, SP_VERDICT_SKIPPED, "");
		else
			j->todo[j->todo_count++] = i;
	}
	atomic_store(&j->next, 0);
	if (j->todo_count > 0)
		run_tests(j);
}

/* ---- the request ---------------------------------------------------------------- */

static void judging_free(struct judging *j)
{
	if (j->data_map != NULL)
		munmap(j->data_map, j->req->judge->data_size);
	for (size_t i = 0; j->results != NULL && i < j->req->judge->test_count; i++)
		json_decref(j->results[i]);
	free(j->results);
	free(j->todo);
	free(j->unneeded);
	sp_program_put(j->run.program);
	sp_program_put(j->run.checker);
	sp_program_put(j->run.interactor);
	json_decref(j->answer);
	pthread_mutex_destroy(&j->results_lock);
}

static int judging_init(struct judging *j, struct sp_server *server, const struct sp_queue_job *job,
			const struct sp_request *req, int cancel_fd)
{
	size_t n = req->judge->test_count;

	*j =
	    (struct judging){.run = {.server = server, .judge = req->judge, .cancel_fd = cancel_fd},
			     .req = req,
			     .job = job,
			     .language = job->language,
			     .status = SP_STATUS_OK,
			     .verdict_if_unrun = SP_VERDICT_SKIPPED};
	j->answer = json_pack("{s:s, s:s?}", "language", req->language->name, "version",
			      req->language->version);
	j->results = calloc(n, sizeof(*j->results));
	j->todo = calloc(n, sizeof(*j->todo));
	if (req->judge->problem != NULL)
		j->unneeded = calloc(n + 1, sizeof(*j->unneeded));
	if (j->answer == NULL || j->results == NULL || j->todo == NULL || map_data(j) < 0 ||
	    (req->judge->problem != NULL && j->unneeded == NULL))
		return -1;
	for (size_t i = 0; i < n; i++)
		j->todo[i] = i;
	j->todo_count = n;
	return 0;
}

/* A helper's part of a judge job (sp_queue_job.part): the checker and the
 * interactor built (or found), the program read from the share, and tests
 * taken from it until none is left to take. */
static json_t *help_judge(struct sp_server *server, const struct sp_queue_job *job,
			  const struct sp_request *req, int cancel_fd)
{
	struct judging j;
	size_t ran = 0;
	json_t *answer = NULL;

	if (judging_init(&j, server, job, req, cancel_fd) == 0 &&
	    sp_judge_share_program(server, job, req, &j.run.program) == 0 &&
	    build_checking(&j, cancel_fd) == 0) {
		j.shared = true;
		j.claim_ms = sp_judge_claim_ms(server, req);
		run_tests(&j);
		for (size_t i = 0; i < req->judge->test_count; i++)
			ran += j.results[i] != NULL;
		answer = json_pack("{s:b, s:I}", "part", true, "tests", (json_int_t)ran);
	}
	judging_free(&j);
	return answer;
}

json_t *sp_serve_judge(struct sp_server *server, const struct sp_queue_job *job,
		       const struct sp_request *req, int cancel_fd)
{
	struct judging j;
	uint64_t started_us = sp_clock_us();
	json_t *answer = NULL;

	if (job->part)
		return help_judge(server, job, req, cancel_fd);
	if (judging_init(&j, server, job, req, cancel_fd) < 0) {
		judging_free(&j);
		return NULL;
	}
	publish_stage(&j, "compile");
	if (build_programs(&j, cancel_fd) == 0) {
		publish_stage(&j, "tests");
		share_tests(&j);
		run_tests(&j);
		if (j.shared)
			sp_judge_share_collect(server, job, j.results, req->judge->test_count);
		j.shared = false;
		run_missing(&j);
	} else {
		tests_unrun(&j, j.verdict_if_unrun);
	}
	if (j.status == SP_STATUS_OK && sp_job_cancel_asked(cancel_fd))
		j.status = SP_STATUS_CANCELLED;
	if (finish_answer(&j) == 0) {
		answer = j.answer;
		j.answer = NULL;
	}
	sp_metrics_job(&server->metrics, job->language, j.status, job->queued_ms * 1000,
		       sp_clock_us() - started_us);
	atomic_fetch_add(&server->jobs_done, 1);
	judging_free(&j);
	return answer;
}
