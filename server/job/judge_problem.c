/* A judge request made whole from a stored problem: judge_problem.h. */
#include "judge_problem.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "judge_request.h"

/* The wall time a problem's test is given: twice its cpu time, and a
 * second more for a program that waits. */
#define WALL_FACTOR   2
#define WALL_EXTRA_MS 1000

static int internal(struct sp_request_failure *fail, const struct sp_error *err)
{
	return sp_request_fail(fail, SP_REQ_INTERNAL, "problem: %s", err->message);
}

static uint64_t at_most(uint64_t value, uint64_t max)
{
	return max > 0 && value > max ? max : value;
}

/* The limits of a test of PROBLEM for a submission in REQ's language. */
static void test_limits(const struct sp_request *req, const struct sp_problem *problem,
			const struct sp_config *config, struct sp_limits *out)
{
	const struct sp_limits *asked = &req->judge->asked, *max = &config->max_limits;
	double factor = sp_config_time_multiplier(config, req->language->name);

	*out = req->limits;
	if (problem->time_ms > 0 && asked->cpu_ms == 0)
		out->cpu_ms =
		    at_most((uint64_t)ceil((double)problem->time_ms * factor), max->cpu_ms);
	if (problem->time_ms > 0 && asked->wall_ms == 0)
		out->wall_ms = at_most(out->cpu_ms * WALL_FACTOR + WALL_EXTRA_MS, max->wall_ms);
	if (problem->memory_kb > 0 && asked->memory_kb == 0)
		out->memory_kb = at_most(problem->memory_kb, max->memory_kb);
	if (problem->output_kb > 0 && asked->output_kb == 0)
		out->output_kb = at_most(problem->output_kb, max->output_kb);
}

/* The problem's tests as the judge's, their bytes in its data file. */
static int take_tests(struct sp_judge *judge, const struct sp_request *req,
		      const struct sp_config *config, struct sp_request_failure *fail)
{
	const struct sp_problem *p = judge->problem;
	struct sp_limits limits;

	if (p->test_count > config->judge_max_tests)
		return sp_request_fail(fail, SP_REQ_BAD_FIELD,
				       "problem %s has %zu tests, more than this server's "
				       "judge_max_tests (%u)",
				       p->id, p->test_count, config->judge_max_tests);
	judge->tests = calloc(p->test_count, sizeof(*judge->tests));
	if (judge->tests == NULL)
		return sp_request_fail(fail, SP_REQ_INTERNAL, "out of memory");
	test_limits(req, p, config, &limits);
	for (size_t i = 0; i < p->test_count; i++) {
		const struct sp_problem_test *pt = &p->tests[i];
		const struct sp_problem_group *g = &p->groups[pt->group];
		struct sp_judge_test *t = &judge->tests[i];

		t->name = strdup(pt->name);
		if (t->name == NULL)
			return sp_request_fail(fail, SP_REQ_INTERNAL, "out of memory");
		judge->test_count = i + 1;
		t->input = (struct sp_judge_bytes){pt->input_offset, pt->input_length};
		t->answer = (struct sp_judge_bytes){pt->answer_offset, pt->answer_length};
		t->has_answer = true;
		t->limits = limits;
		t->flags = g->flags;
		t->flag_count = g->flag_count;
		t->default_flags = &g->default_flags;
	}
	return 0;
}

/* The problem's data file in place of the request's (empty) one. */
static int take_data(struct sp_judge *judge, const struct sp_problem_store *store,
		     struct sp_request_failure *fail)
{
	struct sp_error err = {0};
	int fd = sp_problem_store_open_file(store, judge->problem->id, "data", &err);
	struct stat st;

	if (fd < 0)
		return err.errnum == ENOENT ? sp_request_fail(fail, SP_REQ_UNKNOWN_PROBLEM,
							      "no problem %s", judge->problem_id)
					    : internal(fail, &err);
	if (fstat(fd, &st) < 0 || (uint64_t)st.st_size < judge->problem->data_bytes) {
		close(fd);
		return sp_request_fail(fail, SP_REQ_INTERNAL, "problem %s: its data file is short",
				       judge->problem->id);
	}
	close(judge->data_fd);
	judge->data_fd = fd;
	judge->data_size = judge->problem->data_bytes;
	return 0;
}

/* PROGRAM of the problem (compiled into the store's file NAME) as BUILT. */
static int take_program(struct sp_judge *judge, const struct sp_problem_program *program,
			const char *name, const struct sp_problem_store *store,
			const struct sp_language_set *languages, struct sp_judge_built *built,
			struct sp_request_failure *fail)
{
	const struct sp_language *language = sp_language_find(languages, program->language);
	struct sp_error err = {0};

	if (language == NULL)
		return sp_request_fail(
		    fail, SP_REQ_LANGUAGE_UNAVAILABLE,
		    "problem %s: its %s is in %s, which this server does not run",
		    judge->problem->id, name, program->language);
	built->box_fd = sp_problem_store_open_file(store, judge->problem->id, name, &err);
	if (built->box_fd < 0)
		return err.errnum == ENOENT ? sp_request_fail(fail, SP_REQ_UNKNOWN_PROBLEM,
							      "no problem %s", judge->problem_id)
					    : internal(fail, &err);
	built->language = language;
	built->argv = program->argv;
	built->limits = language->limits;
	return 0;
}

/* How the problem judges an answer, as the judge's. */
static int take_checking(struct sp_judge *judge, const struct sp_problem_store *store,
			 const struct sp_language_set *languages, struct sp_request_failure *fail)
{
	const struct sp_problem *p = judge->problem;

	judge->checker_kind = p->builtin;
	judge->epsilon = 1e-6;
	judge->default_validator = p->checking == SP_PROBLEM_DEFAULT_VALIDATOR;
	judge->checker_convention =
	    p->checking == SP_PROBLEM_VALIDATOR ? SP_CONVENTION_KATTIS : SP_CONVENTION_TESTLIB;
	if (p->interaction == SP_PROBLEM_KATTIS_INTERACTIVE) {
		/* the validator is the interactor: its word is the verdict */
		judge->interactor_convention = SP_CONVENTION_KATTIS;
		return take_program(judge, &p->validator, "validator.box", store, languages,
				    &judge->interactor_built, fail);
	}
	if ((p->checking == SP_PROBLEM_VALIDATOR || p->checking == SP_PROBLEM_TESTLIB) &&
	    take_program(judge, &p->validator, "validator.box", store, languages,
			 &judge->checker_built, fail) < 0)
		return -1;
	judge->interactor_convention = SP_CONVENTION_TESTLIB;
	if (p->interaction == SP_PROBLEM_TESTLIB_INTERACTOR)
		return take_program(judge, &p->interactor, "interactor.box", store, languages,
				    &judge->interactor_built, fail);
	return 0;
}

int sp_judge_attach_problem(struct sp_request *req, const struct sp_problem_store *store,
			    const struct sp_language_set *languages, const struct sp_config *config,
			    struct sp_request_failure *fail)
{
	struct sp_judge *judge = req->judge;
	struct sp_error err = {0};

	if (req->mode != SP_REQUEST_JUDGE || judge == NULL || judge->problem_id[0] == '\0' ||
	    judge->problem != NULL)
		return 0;
	judge->problem = calloc(1, sizeof(*judge->problem));
	if (judge->problem == NULL)
		return sp_request_fail(fail, SP_REQ_INTERNAL, "out of memory");
	if (sp_problem_store_load(store, judge->problem_id, judge->problem, &err) < 0) {
		free(judge->problem);
		judge->problem = NULL;
		return err.errnum == ENOENT ? sp_request_fail(fail, SP_REQ_UNKNOWN_PROBLEM,
							      "no problem %s", judge->problem_id)
					    : internal(fail, &err);
	}
	if (take_data(judge, store, fail) < 0 || take_checking(judge, store, languages, fail) < 0)
		return -1;
	return take_tests(judge, req, config, fail);
}
