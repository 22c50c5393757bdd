#include "serve_job.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cell_lease.h"
#include "judge.h"
#include "pool.h"
#include "queue.h"
#include "sandbox/base/clock.h"
#include "server.h"
#include "server/job/base64.h"
#include "server/job/job_run.h"
#include "server/job/result_json.h"

static json_t *lease_failed(const struct sp_language *language, const struct sp_error *err)
{
	char text[SP_ERROR_MESSAGE_MAX + 128];

	return json_pack("{s:s, s:s?, s:s, s:n, s:n, s:s, s:s, s:s}", "language", language->name,
			 "version", language->version, "status", "internal_error", "compile", "run",
			 "stdout", "", "stderr", "", "error",
			 sp_error_describe(err, text, sizeof(text)));
}

/* The job's time on its cell less its steps' own run (GO to exit). */
static void observe_overhead(struct sp_server *server, uint64_t leased_us,
			     const struct sp_job_result *res)
{
	uint64_t total = sp_clock_us() - leased_us;
	uint64_t steps =
	    (res->compiled ? res->compile.wall_us : 0) + (res->ran ? res->run.wall_us : 0);

	sp_histogram_observe(&server->metrics.overhead, total > steps ? total - steps : 0);
}

/* Events of a running job for its watchers. */
struct progress {
	struct sp_server *server;
	const struct sp_queue_job *job;
	bool watched; /* anyone watching when the step started */
};

static void publish(struct progress *p, json_t *event)
{
	if (event != NULL)
		sp_queue_publish(p->server->queue, p->job, event);
	json_decref(event);
}

static void on_stage(void *ctx, const char *stage)
{
	struct progress *p = ctx;

	p->watched = sp_queue_watched(p->server->queue, p->job);
	if (p->watched)
		publish(p, json_pack("{s:s, s:s}", "type", "started", "stage", stage));
}

/* A chunk as text when it is UTF-8 on its own, else base64. */
static void on_output(void *ctx, int stream, const char *data, size_t length)
{
	struct progress *p = ctx;
	const char *type = stream == 1 ? "stdout" : "stderr";
	json_t *text;
	char *b64;

	if (!p->watched)
		return;
	text = json_stringn(data, length);
	if (text != NULL) {
		publish(p, json_pack("{s:s, s:o}", "type", type, "data", text));
		return;
	}
	b64 = sp_base64_encode((const unsigned char *)data, length);
	if (b64 != NULL)
		publish(p, json_pack("{s:s, s:s, s:s}", "type", type, "data", b64, "encoding",
				     "base64"));
	free(b64);
}

/* OUT with the request's "echo" given back. */
static json_t *with_echo(json_t *out, const struct sp_request *req)
{
	json_t *echo;

	if (out == NULL || req->echo == NULL)
		return out;
	echo = json_loads(req->echo, 0, NULL);
	if (echo == NULL) {
		json_decref(out);
		return NULL;
	}
	json_object_set_new(out, "echo", echo);
	return out;
}

json_t *sp_serve_job(void *ctx, const struct sp_queue_job *job, const struct sp_request *req,
		     int cancel_fd)
{
	struct sp_server *server = ctx;
	size_t language = job->language;
	uint64_t queued_ms = job->queued_ms;
	uint64_t asked = sp_pool_now_ms();
	struct sp_cell_use use = {.language = req->language->name};
	struct sp_job_spec spec;
	struct sp_job_result res;
	struct sp_error err = {0};
	json_t *out;
	struct progress progress = {.server = server, .job = job};
	struct sp_job_observer observer = {
	    .stage = on_stage, .output = on_output, .ctx = &progress};

	if (req->mode == SP_REQUEST_JUDGE)
		return sp_serve_judge(server, job, req, cancel_fd);
	sp_request_job_spec(req, sp_server_env(server, req->language), &spec);
	spec.cancel_fd = cancel_fd;
	spec.observer = &observer;
	if (sp_run_on_cell(server, &use, &spec, &res, &err) < 0) {
		sp_metrics_job(&server->metrics, language, SP_STATUS_INTERNAL_ERROR,
			       (queued_ms + sp_pool_now_ms() - asked) * 1000, 0);
		return with_echo(lease_failed(req->language, &err), req);
	}
	sp_metrics_job(&server->metrics, language, res.status,
		       queued_ms * 1000 + (use.leased_us - asked * 1000),
		       sp_clock_us() - use.leased_us);
	observe_overhead(server, use.leased_us, &res);
	out = sp_job_result_to_json(&res, req->language);
	if (out != NULL && req->interleave && sp_job_result_add_output(out, &res) < 0) {
		json_decref(out);
		out = NULL;
	}
	sp_job_result_free(&res);
	atomic_fetch_add(&server->jobs_done, 1);
	return with_echo(out, req);
}

void sp_serve_job_measure(void *ctx, const struct sp_request *req, unsigned cells, uint64_t *held,
			  uint64_t *reserve)
{
	struct sp_server *server = ctx;

	(void)held; /* its inputs, as the table counts them */
	*reserve = sp_request_reserve(req, cells, server->config.judge_max_program_kb * 1024);
}

void sp_serve_job_unrun(void *ctx, size_t language)
{
	struct sp_server *server = ctx;

	sp_metrics_count(&server->metrics, language, SP_STATUS_CANCELLED);
}
