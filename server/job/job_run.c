#include "job_run.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "result_json.h"

static size_t key_length(const char *pair)
{
	const char *eq = strchr(pair, '=');

	return eq ? (size_t)(eq - pair) : strlen(pair);
}

char **sp_env_merge(const char *const *const *lists, size_t count)
{
	size_t total = 0, n = 0;
	char **out;

	for (size_t l = 0; l < count; l++)
		for (size_t i = 0; lists[l] != NULL && lists[l][i] != NULL; i++)
			total++;
	out = calloc(total + 1, sizeof(*out));
	if (out == NULL)
		return NULL;
	for (size_t l = 0; l < count; l++) {
		for (size_t i = 0; lists[l] != NULL && lists[l][i] != NULL; i++) {
			const char *pair = lists[l][i];
			size_t k = key_length(pair), j;

			for (j = 0; j < n; j++) {
				if (key_length(out[j]) == k && strncmp(out[j], pair, k) == 0)
					break;
			}
			out[j] = (char *)pair;
			if (j == n)
				n++;
		}
	}
	return out;
}

static int write_files(struct sp_cell *cell, const struct sp_job_spec *spec, struct sp_error *err)
{
	for (size_t i = 0; i < spec->file_count; i++) {
		const struct sp_job_file *f = &spec->files[i];

		/* answered at the step (sp_run_step): one round trip less */
		if (sp_cell_write_file_begin(cell, f->name, f->fd, f->mode, err) < 0)
			return sp_error_wrap(err, "write /box/%s", f->name);
	}
	return 0;
}

/* Tell the observer that STAGE starts, and send it the step's output. */
static void observe(const struct sp_job_spec *spec, const char *stage, struct sp_step_request *req)
{
	const struct sp_job_observer *o = spec->observer;

	if (o == NULL)
		return;
	if (o->stage != NULL)
		o->stage(o->ctx, stage);
	req->on_output = o->output;
	req->output_ctx = o->ctx;
}

/* A failed compile is the program's fault (compile_error) unless the
 * sandbox failed; its limits keep their own status. */
static enum sp_status compile_status(enum sp_status s)
{
	return s == SP_STATUS_RUNTIME_ERROR ? SP_STATUS_COMPILE_ERROR : s;
}

static int compile(struct sp_cell *cell, const struct sp_cgroup_root *cgroups,
		   const struct sp_job_spec *spec, struct sp_job_result *res)
{
	struct sp_step_request req = {.argv = spec->compile_argv,
				      .envp = spec->envp,
				      .limits = spec->compile_limits,
				      .stdin_fd = -1,
				      .cancel_fd = spec->cancel_fd};
	int rc;

	observe(spec, "compile", &req);
	rc = sp_run_step(cell, cgroups, &req, &res->compile);
	/* a cell that failed before it took the step (its files written with
	 * it) ran nothing: the job may go to another */
	res->compiled = rc == 0 || res->compile.started;
	res->compile.status = compile_status(res->compile.status);
	res->status = res->compile.status;
	return rc;
}

static int run_once(struct sp_cell *cell, const struct sp_cgroup_root *cgroups,
		    const struct sp_job_spec *spec, struct sp_step_result *step)
{
	struct sp_step_request req = {
	    .argv = spec->argv,
	    .envp = spec->envp,
	    .limits = spec->limits,
	    .stdin_fd = spec->stdin_fd,
	    .cancel_fd = spec->cancel_fd,
	    .stderr_to_stdout = spec->stderr_to_stdout,
	};

	observe(spec, "run", &req);
	return sp_run_step(cell, cgroups, &req, step);
}

/* The run step, SPEC's runs times while each is ok: the last one's result,
 * its cpu time and memory averaged. Each run reads its stdin from the
 * start. */
static int run(struct sp_cell *cell, const struct sp_cgroup_root *cgroups,
	       const struct sp_job_spec *spec, struct sp_job_result *res)
{
	unsigned runs = spec->runs > 1 ? spec->runs : 1;
	uint64_t cpu_ms = 0, memory_kb = 0;
	int rc = 0;

	for (res->run_count = 0; res->run_count < runs; res->run_count++) {
		if (res->run_count > 0) {
			if (res->run.status != SP_STATUS_OK || rc < 0 ||
			    sp_job_cancel_asked(spec->cancel_fd))
				break;
			sp_step_result_free(&res->run);
			if (spec->stdin_fd >= 0 && lseek(spec->stdin_fd, 0, SEEK_SET) < 0)
				break;
		}
		rc = run_once(cell, cgroups, spec, &res->run);
		res->ran = res->ran || rc == 0 || res->run.started;
		cpu_ms += res->run.cpu_ms;
		memory_kb += res->run.memory_kb;
	}
	res->run.cpu_ms = cpu_ms / res->run_count;
	res->run.memory_kb = memory_kb / res->run_count;
	res->status = res->run.status;
	return rc;
}

const struct sp_error *sp_job_result_error(const struct sp_job_result *res)
{
	if (res->error.message[0] != '\0')
		return &res->error;
	return res->ran ? &res->run.error : &res->compile.error;
}

bool sp_job_cancel_asked(int cancel_fd)
{
	struct pollfd p = {.fd = cancel_fd, .events = POLLIN};

	return cancel_fd > 0 && poll(&p, 1, 0) > 0;
}

int sp_job_run(struct sp_cell *cell, const struct sp_cgroup_root *cgroups,
	       const struct sp_job_spec *spec, struct sp_job_result *res)
{
	struct sp_error err = {0};

	memset(res, 0, sizeof(*res));
	res->status = SP_STATUS_CANCELLED;
	if (sp_job_cancel_asked(spec->cancel_fd))
		return 0;
	if (write_files(cell, spec, &err) < 0) {
		res->status = SP_STATUS_INTERNAL_ERROR;
		res->error = err;
		return -1;
	}
	if (spec->compile_argv != NULL) {
		if (compile(cell, cgroups, spec, res) < 0)
			return -1;
		if (res->compile.status != SP_STATUS_OK || spec->compile_only)
			return 0;
		if (sp_job_cancel_asked(spec->cancel_fd)) {
			res->status = SP_STATUS_CANCELLED;
			return 0;
		}
	}
	return run(cell, cgroups, spec, res);
}

static json_t *step_or_null(const struct sp_step_result *step, bool happened)
{
	return happened ? sp_result_to_json(step) : json_null();
}

/* The top-level stdout or stderr (KEY) is the last step's: the same JSON
 * value, not a second copy of what may be megabytes. */
static void share_output(json_t *obj, json_t *step, const char *key)
{
	char encoding_key[64];
	json_t *encoding;

	json_object_set(obj, key, json_object_get(step, key));
	snprintf(encoding_key, sizeof(encoding_key), "%s_encoding", key);
	encoding = json_object_get(step, encoding_key);
	if (encoding != NULL)
		json_object_set(obj, encoding_key, encoding);
}

json_t *sp_job_result_to_json(const struct sp_job_result *res, const struct sp_language *language)
{
	json_t *obj = json_object();
	const struct sp_step_result *last = res->ran ? &res->run : &res->compile;
	char text[SP_ERROR_MESSAGE_MAX + 128];
	json_t *last_json;

	if (obj == NULL)
		return NULL;
	if (language != NULL) {
		json_object_set_new(obj, "language", json_string(language->name));
		json_object_set_new(obj, "version",
				    language->version ? json_string(language->version)
						      : json_null());
	}
	json_object_set_new(obj, "status", json_string(sp_status_to_string(res->status)));
	json_object_set_new(obj, "compile", step_or_null(&res->compile, res->compiled));
	json_object_set_new(obj, "run", step_or_null(&res->run, res->ran));
	if (res->run_count > 1)
		json_object_set_new(json_object_get(obj, "run"), "runs",
				    json_integer(res->run_count));
	last_json = json_object_get(obj, res->ran ? "run" : "compile");
	if (json_is_object(last_json) && json_object_get(last_json, "stdout") != NULL &&
	    json_object_get(last_json, "stderr") != NULL) {
		share_output(obj, last_json, "stdout");
		share_output(obj, last_json, "stderr");
	} else if (sp_json_set_output(obj, "stdout", &last->out) < 0 ||
		   sp_json_set_output(obj, "stderr", &last->err) < 0) {
		json_decref(obj);
		return NULL;
	}
	if (res->status == SP_STATUS_INTERNAL_ERROR) {
		json_object_set_new(
		    obj, "error",
		    json_string(sp_error_describe(sp_job_result_error(res), text, sizeof(text))));
	}
	return obj;
}

/* "output" in STEP (RES's step S, as JSON). */
static int add_output(json_t *step, const struct sp_step_result *s)
{
	struct sp_output both;
	int rc;

	if (!json_is_object(step))
		return 0;
	both.data = sp_step_output_interleaved(s, &both.length);
	if (both.data == NULL)
		return -1;
	rc = sp_json_set_output(step, "output", &both);
	free(both.data);
	return rc;
}

int sp_job_result_add_output(json_t *answer, const struct sp_job_result *res)
{
	if (add_output(json_object_get(answer, "compile"), &res->compile) < 0 ||
	    add_output(json_object_get(answer, "run"), &res->run) < 0)
		return -1;
	return 0;
}

void sp_job_result_free(struct sp_job_result *res)
{
	sp_step_result_free(&res->compile);
	sp_step_result_free(&res->run);
}
