#include "judge_verdict.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const names[SP_VERDICT_COUNT] = {
    [SP_VERDICT_ACCEPTED] = "accepted",
    [SP_VERDICT_WRONG_ANSWER] = "wrong_answer",
    [SP_VERDICT_PRESENTATION_ERROR] = "presentation_error",
    [SP_VERDICT_TIME_LIMIT] = "time_limit",
    [SP_VERDICT_MEMORY_LIMIT] = "memory_limit",
    [SP_VERDICT_OUTPUT_LIMIT] = "output_limit",
    [SP_VERDICT_RUNTIME_ERROR] = "runtime_error",
    [SP_VERDICT_SYSCALL_BLOCKED] = "syscall_blocked",
    [SP_VERDICT_CHECKER_ERROR] = "checker_error",
    [SP_VERDICT_SKIPPED] = "skipped",
    [SP_VERDICT_INTERNAL_ERROR] = "internal_error",
    [SP_VERDICT_PARTIALLY_ACCEPTED] = "partially_accepted",
};

const char *sp_verdict_to_string(enum sp_verdict verdict)
{
	return verdict < SP_VERDICT_COUNT ? names[verdict] : "internal_error";
}

enum sp_verdict sp_verdict_from_string(const char *name)
{
	for (int v = 0; name != NULL && v < SP_VERDICT_COUNT; v++)
		if (strcmp(names[v], name) == 0)
			return (enum sp_verdict)v;
	return SP_VERDICT_INTERNAL_ERROR;
}

bool sp_verdict_failed(enum sp_verdict verdict)
{
	return verdict != SP_VERDICT_ACCEPTED && verdict != SP_VERDICT_SKIPPED &&
	       verdict != SP_VERDICT_PARTIALLY_ACCEPTED;
}

enum sp_verdict sp_verdict_of_run(enum sp_status status)
{
	switch (status) {
	case SP_STATUS_OK:
		return SP_VERDICT_ACCEPTED;
	case SP_STATUS_COMPILE_ERROR: /* a run step never says it; a crash it would be */
	case SP_STATUS_RUNTIME_ERROR:
		return SP_VERDICT_RUNTIME_ERROR;
	case SP_STATUS_TIME_LIMIT:
		return SP_VERDICT_TIME_LIMIT;
	case SP_STATUS_MEMORY_LIMIT:
		return SP_VERDICT_MEMORY_LIMIT;
	case SP_STATUS_OUTPUT_LIMIT:
		return SP_VERDICT_OUTPUT_LIMIT;
	case SP_STATUS_SYSCALL_BLOCKED:
		return SP_VERDICT_SYSCALL_BLOCKED;
	case SP_STATUS_CANCELLED:
		return SP_VERDICT_SKIPPED;
	case SP_STATUS_INTERNAL_ERROR:
	default:
		return SP_VERDICT_INTERNAL_ERROR;
	}
}

enum sp_verdict sp_verdict_of_check(enum sp_check_outcome outcome)
{
	switch (outcome) {
	case SP_CHECK_ACCEPTED:
		return SP_VERDICT_ACCEPTED;
	case SP_CHECK_PRESENTATION_ERROR:
		return SP_VERDICT_PRESENTATION_ERROR;
	case SP_CHECK_WRONG_ANSWER:
	default:
		return SP_VERDICT_WRONG_ANSWER;
	}
}

/* A number at the start of TEXT (LEN bytes), after PREFIX when it is
 * there; -1 when there is none. */
static int leading_number(const char *text, size_t len, const char *prefix, double *out)
{
	char buf[64], *end = NULL;
	size_t n = strlen(prefix), k = 0;

	if (len >= n && strncmp(text, prefix, n) == 0) {
		text += n;
		len -= n;
	}
	while (k < len && k < sizeof(buf) - 1 && text[k] != ' ' && text[k] != '\n' &&
	       text[k] != '\r' && text[k] != '\t') {
		buf[k] = text[k];
		k++;
	}
	buf[k] = '\0';
	*out = strtod(buf, &end);
	return k > 0 && *end == '\0' && isfinite(*out) ? 0 : -1;
}

/* testlib's "partially correct (N) ..." on stderr: N, or -1. */
static int partially_correct(const char *text, size_t len)
{
	static const char prefix[] = "partially correct (";
	size_t n = sizeof(prefix) - 1;
	int v = 0;

	if (len <= n || strncmp(text, prefix, n) != 0)
		return -1;
	for (size_t i = n; i < len && i < n + 4; i++) {
		if (text[i] == ')')
			return i > n ? v : -1;
		if (text[i] < '0' || text[i] > '9')
			return -1;
		v = v * 10 + (text[i] - '0');
	}
	return -1;
}

enum sp_verdict sp_verdict_of_checker(const struct sp_step_result *checker, double *points,
				      bool *has_points)
{
	const char *err = checker->err.data ? checker->err.data : "";
	size_t len = checker->err.data ? checker->err.length : 0;
	int pc = partially_correct(err, len);

	*has_points = false;
	if (checker->status == SP_STATUS_INTERNAL_ERROR)
		return SP_VERDICT_INTERNAL_ERROR;
	if (checker->status != SP_STATUS_OK && checker->status != SP_STATUS_RUNTIME_ERROR)
		return SP_VERDICT_CHECKER_ERROR;
	if (pc >= 0 && (checker->exit_code == pc || checker->exit_code == 50 + pc)) {
		*points = pc;
		*has_points = true;
		return SP_VERDICT_PARTIALLY_ACCEPTED;
	}
	switch (checker->exit_code) {
	case 0:
		return SP_VERDICT_ACCEPTED;
	case 1:
		return SP_VERDICT_WRONG_ANSWER;
	case 2:
	case 4:
	case 8:
		return SP_VERDICT_PRESENTATION_ERROR;
	case 7:
		if (leading_number(err, len, "points ", points) < 0)
			return SP_VERDICT_CHECKER_ERROR;
		*has_points = true;
		return SP_VERDICT_PARTIALLY_ACCEPTED;
	default:
		return SP_VERDICT_CHECKER_ERROR;
	}
}

enum sp_verdict sp_verdict_of_validator(const struct sp_step_result *validator)
{
	if (validator->status == SP_STATUS_INTERNAL_ERROR)
		return SP_VERDICT_INTERNAL_ERROR;
	if (validator->status != SP_STATUS_OK && validator->status != SP_STATUS_RUNTIME_ERROR)
		return SP_VERDICT_CHECKER_ERROR;
	if (validator->exit_code == 42)
		return SP_VERDICT_ACCEPTED;
	if (validator->exit_code == 43)
		return SP_VERDICT_WRONG_ANSWER;
	return SP_VERDICT_CHECKER_ERROR;
}

enum sp_verdict sp_verdict_of_interaction(const struct sp_step_result *submission,
					  enum sp_verdict word)
{
	enum sp_verdict own = sp_verdict_of_run(submission->status);

	if (own == SP_VERDICT_INTERNAL_ERROR || word == SP_VERDICT_INTERNAL_ERROR)
		return SP_VERDICT_INTERNAL_ERROR;
	/* the interactor's failure after a crash or a limit of the submission is
	 * most likely its consequence */
	return own != SP_VERDICT_ACCEPTED ? own : word;
}
