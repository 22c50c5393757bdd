#include "http.h"

#include <civetweb.h>
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "job.h"
#include "limits_json.h"
#include "pool.h"
#include "request.h"
#include "sandbox/cleanup.h"
#include "sandbox/log.h"

#define LEASE_WAIT_MS 30000 /* a job waits this long for a cell, then 429 */

static const char *reason(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 413:
		return "Payload Too Large";
	case 429:
		return "Too Many Requests";
	case 503:
		return "Service Unavailable";
	default:
		return "Internal Server Error";
	}
}

/* Answer with OBJ (stolen) as JSON. EXTRA is more header lines, or "". */
static int reply(struct mg_connection *conn, int status, json_t *obj, const char *extra)
{
	char *body = obj ? json_dumps(obj, JSON_COMPACT) : NULL;
	size_t len = body ? strlen(body) : 0;

	json_decref(obj);
	mg_printf(conn,
		  "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
		  "Cache-Control: no-store\r\n%s\r\n",
		  status, reason(status), len + 1, extra);
	if (body != NULL)
		mg_write(conn, body, len);
	mg_write(conn, "\n", 1);
	free(body);
	return status;
}

static int reply_error(struct mg_connection *conn, int status, const char *code,
		       const char *message, const char *extra)
{
	json_t *obj = json_pack("{s:{s:s, s:s}}", "error", "code", code, "message", message);

	return reply(conn, status, obj, extra);
}

bool sp_http_token_ok(const struct sp_config *config, const char *header)
{
	static const char prefix[] = "Bearer ";
	bool ok = false;
	size_t len;

	if (header == NULL || strncmp(header, prefix, sizeof(prefix) - 1) != 0)
		return false;
	header += sizeof(prefix) - 1;
	len = strlen(header);
	for (unsigned i = 0; i < config->token_count; i++) {
		const char *token = config->tokens[i];
		size_t tlen = strlen(token);
		unsigned char diff = (unsigned char)(len != tlen);

		for (size_t j = 0; j < tlen; j++)
			diff |= (unsigned char)(token[j] ^ (j < len ? header[j] : 0));
		ok |= diff == 0;
	}
	return ok;
}

/* Tokens are asked for when the configuration has any. */
static bool authorized(struct mg_connection *conn, const struct sp_server *server)
{
	if (server->config.token_count == 0)
		return true;
	return sp_http_token_ok(&server->config, mg_get_header(conn, "Authorization"));
}

/* The body, up to MAX bytes; *too_large when there was more (the rest is
 * not read: the connection is closed after the answer). */
static char *read_body(struct mg_connection *conn, uint64_t max, size_t *length, bool *too_large)
{
	const struct mg_request_info *ri = mg_get_request_info(conn);
	size_t cap = 65536, used = 0;
	char *buf;

	*too_large = ri->content_length > 0 && (uint64_t)ri->content_length > max;
	if (*too_large)
		return NULL;
	buf = malloc(cap + 1);
	while (buf != NULL) {
		int n;

		if (used == cap) {
			char *grown = used >= max + 1 ? NULL : realloc(buf, cap * 2 + 1);

			if (grown == NULL)
				break;
			buf = grown;
			cap *= 2;
		}
		n = mg_read(conn, buf + used, cap - used);
		if (n <= 0)
			break;
		used += (size_t)n;
		if (used > max) {
			*too_large = true;
			break;
		}
	}
	if (buf == NULL || *too_large) {
		free(buf);
		return NULL;
	}
	buf[used] = '\0';
	*length = used;
	return buf;
}

/* A job to run off the HTTP thread, whose stack is too small for the
 * sandbox's work. */
struct job_call {
	struct sp_server *server;
	struct sp_request *req;
	int status;
	char code[32];
	json_t *out;
};

static void *run_job(void *arg)
{
	struct job_call *call = arg;
	struct sp_server *server = call->server;
	uint64_t asked = sp_pool_now_ms(), leased;
	struct sp_job_spec spec;
	struct sp_job_result res;
	struct sp_lease lease;
	struct sp_error err = {0};
	int rc;

	if (sp_pool_lease(server->pool, call->req->language->name, sp_pool_now_ms() + LEASE_WAIT_MS,
			  &lease, &err) < 0) {
		call->status = err.errnum == ECANCELED ? 503 : 429;
		snprintf(call->code, sizeof(call->code), "%s",
			 call->status == 503 ? "draining" : "busy");
		call->out = json_string(err.message);
		return NULL;
	}
	leased = sp_pool_now_ms();
	sp_request_job_spec(call->req, sp_server_env(server, call->req->language), &spec);
	rc = sp_job_run(lease.cell, &server->cgroups, &spec, &res);
	sp_pool_release(server->pool, &lease, rc == 0);
	sp_metrics_job(&server->metrics, (size_t)(call->req->language - server->languages.items),
		       res.status, (leased - asked) * 1000, (sp_pool_now_ms() - leased) * 1000);
	call->out = sp_job_result_to_json(&res, call->req->language);
	sp_job_result_free(&res);
	atomic_fetch_add(&server->jobs_done, 1);
	call->status = 200;
	return NULL;
}

static json_t *run_request(struct sp_server *server, struct sp_request *req, int *status,
			   char *code, size_t code_size)
{
	struct job_call call = {.server = server, .req = req, .status = 500};
	pthread_t thread;

	snprintf(call.code, sizeof(call.code), "internal_error");
	if (pthread_create(&thread, NULL, run_job, &call) != 0)
		call.out = json_string("cannot start the job");
	else
		pthread_join(thread, NULL);
	*status = call.status;
	snprintf(code, code_size, "%s", call.code);
	return call.out;
}

static int handle_run(struct mg_connection *conn, void *data)
{
	struct sp_server *server = data;
	const struct mg_request_info *ri = mg_get_request_info(conn);
	struct sp_request req;
	struct sp_request_failure fail = {0};
	bool too_large;
	size_t length = 0;
	char code[32];
	char *body;
	json_t *out;
	int status;

	if (strcmp(ri->request_method, "POST") != 0)
		return reply_error(conn, 405, "method_not_allowed", "use POST", "Allow: POST\r\n");
	if (!authorized(conn, server))
		return reply_error(conn, 401, "unauthorized", "a valid Bearer token is required",
				   "WWW-Authenticate: Bearer\r\n");
	if (atomic_load(&server->draining))
		return reply_error(conn, 503, "draining", "the server is shutting down", "");
	body = read_body(conn, server->config.max_body, &length, &too_large);
	if (too_large)
		return reply_error(conn, 413, "body_too_large", "the request body is too large",
				   "Connection: close\r\n");
	if (body == NULL)
		return reply_error(conn, 400, "bad_request", "the body could not be read", "");
	if (sp_request_parse(body, length, &server->languages, &server->config, &req, &fail) < 0) {
		free(body);
		sp_request_free(&req);
		return reply_error(conn, fail.http_status, fail.code, fail.message, "");
	}
	free(body);
	out = run_request(server, &req, &status, code, sizeof(code));
	sp_request_free(&req);
	if (status != 200) {
		int rc = reply_error(conn, status, code, json_string_value(out),
				     status == 429 ? "Retry-After: 1\r\n" : "");

		json_decref(out);
		return rc;
	}
	return reply(conn, 200, out, "");
}

static int handle_languages(struct mg_connection *conn, void *data)
{
	struct sp_server *server = data;
	json_t *list = json_array();

	if (!authorized(conn, server))
		return reply_error(conn, 401, "unauthorized", "a valid Bearer token is required",
				   "WWW-Authenticate: Bearer\r\n");
	for (size_t i = 0; i < server->languages.count; i++) {
		const struct sp_language *l = &server->languages.items[i];
		json_t *aliases = json_array();

		for (size_t j = 0; l->aliases[j] != NULL; j++)
			json_array_append_new(aliases, json_string(l->aliases[j]));
		json_array_append_new(list, json_pack("{s:s, s:s?, s:o, s:b, s:s}", "name", l->name,
						      "version", l->version, "aliases", aliases,
						      "compiled", l->compile != NULL, "source",
						      l->source));
	}
	return reply(conn, 200, list, "");
}

static json_t *pool_state(struct sp_server *server)
{
	json_t *pools = json_object();

	for (size_t i = 0; i < server->languages.count; i++) {
		const char *name = server->languages.items[i].name;
		struct sp_pool_stats st;

		if (sp_pool_stats(server->pool, name, &st) == 0)
			json_object_set_new(pools, name,
					    json_pack("{s:i, s:i, s:i, s:I, s:I}", "idle", st.idle,
						      "busy", st.busy, "starting", st.starting,
						      "jobs", (json_int_t)st.jobs, "replaced",
						      (json_int_t)st.replaced));
	}
	return pools;
}

static int handle_health(struct mg_connection *conn, void *data)
{
	struct sp_server *server = data;
	const struct sp_cgroup_root *cg = &server->cgroups;
	json_t *obj =
	    json_pack("{s:s, s:s, s:{s:b, s:b, s:b, s:b}, s:o, s:I}", "status",
		      atomic_load(&server->draining) ? "draining" : "ok", "cgroup",
		      sp_cgroup_mode_to_string(cg->mode), "limits", "memory_by_cgroup",
		      cg->limits_memory, "processes_by_cgroup", cg->limits_pids, "cpu_by_cgroup",
		      cg->counts_cpu, "kill_by_cgroup", cg->has_kill, "pool", pool_state(server),
		      "jobs_done", (json_int_t)atomic_load(&server->jobs_done));

	return reply(conn, atomic_load(&server->draining) ? 503 : 200, obj, "");
}

static void render_histogram(FILE *f, const char *name, const char *help,
			     const struct sp_histogram *h)
{
	unsigned long cumulative = 0;

	fprintf(f, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
	for (size_t i = 0; i < SP_METRICS_BUCKETS; i++) {
		cumulative += atomic_load(&h->buckets[i]);
		if (i == SP_METRICS_BUCKETS - 1)
			fprintf(f, "%s_bucket{le=\"+Inf\"} %lu\n", name, cumulative);
		else
			fprintf(f, "%s_bucket{le=\"%g\"} %lu\n", name, sp_metrics_bucket_seconds[i],
				cumulative);
	}
	fprintf(f, "%s_sum %.6f\n%s_count %lu\n", name, atomic_load(&h->sum_us) / 1e6, name,
		atomic_load(&h->count));
}

static void render_jobs(FILE *f, struct sp_server *server)
{
	fputs("# HELP sandpool_jobs_total Jobs finished, by language and status.\n"
	      "# TYPE sandpool_jobs_total counter\n",
	      f);
	for (size_t i = 0; i < server->languages.count; i++) {
		for (int st = 0; st < SP_METRICS_STATUSES; st++) {
			unsigned long n = atomic_load(
			    &server->metrics.jobs[i * SP_METRICS_STATUSES + (size_t)st]);

			fprintf(f, "sandpool_jobs_total{language=\"%s\",status=\"%s\"} %lu\n",
				server->languages.items[i].name,
				sp_status_to_string((enum sp_status)st), n);
		}
	}
}

static void render_cells(FILE *f, struct sp_server *server)
{
	fputs("# HELP sandpool_cells Cells by language and state.\n"
	      "# TYPE sandpool_cells gauge\n",
	      f);
	for (size_t i = 0; i < server->languages.count; i++) {
		const char *name = server->languages.items[i].name;
		struct sp_pool_stats st;

		if (sp_pool_stats(server->pool, name, &st) < 0)
			continue;
		fprintf(f,
			"sandpool_cells{language=\"%s\",state=\"idle\"} %u\n"
			"sandpool_cells{language=\"%s\",state=\"busy\"} %u\n"
			"sandpool_cells{language=\"%s\",state=\"starting\"} %u\n",
			name, st.idle, name, st.busy, name, st.starting);
	}
}

/* GET /metrics: Prometheus text format. */
static int handle_metrics(struct mg_connection *conn, void *data)
{
	struct sp_server *server = data;
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	if (!authorized(conn, server))
		return reply_error(conn, 401, "unauthorized", "a valid Bearer token is required",
				   "WWW-Authenticate: Bearer\r\n");
	f = open_memstream(&text, &len);
	if (f == NULL)
		return reply_error(conn, 500, "internal_error", "out of memory", "");
	render_jobs(f, server);
	render_cells(f, server);
	render_histogram(f, "sandpool_queue_wait_seconds",
			 "Time from the request to a leased cell.", &server->metrics.wait);
	render_histogram(f, "sandpool_run_seconds", "Time from the leased cell to the result.",
			 &server->metrics.run);
	fclose(f);
	mg_printf(conn,
		  "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\n"
		  "Content-Length: %zu\r\nCache-Control: no-store\r\n\r\n",
		  len);
	mg_write(conn, text, len);
	free(text);
	return 200;
}

static int handle_not_found(struct mg_connection *conn, void *data)
{
	(void)data;
	return reply_error(conn, 404, "not_found", "no such endpoint", "");
}

/* Until every handler is registered, civetweb would answer with its own
 * HTML pages: refuse with a JSON 503 instead. */
static int gate_request(struct mg_connection *conn)
{
	struct sp_server *server = mg_get_user_data(mg_get_context(conn));

	if (atomic_load(&server->ready))
		return 0;
	return reply_error(conn, 503, "starting", "the server is starting", "Retry-After: 1\r\n");
}

static int log_message(const struct mg_connection *conn, const char *message)
{
	(void)conn;
	log_warn("civetweb: %s", message);
	return 1;
}

struct mg_context *sp_http_start(struct sp_server *server, struct sp_error *err)
{
	struct mg_callbacks callbacks = {.begin_request = gate_request, .log_message = log_message};
	char ports[300], threads[16];
	const char *options[] = {
	    "listening_ports",	  ports,   "num_threads", threads, "enable_keep_alive", "yes",
	    "request_timeout_ms", "30000", NULL};
	struct mg_context *ctx;
	bool v6 = strchr(server->config.listen_host, ':') != NULL;

	snprintf(ports, sizeof(ports), v6 ? "[%s]:%u" : "%s:%u", server->config.listen_host,
		 server->config.listen_port);
	if (strcmp(server->config.listen_host, "localhost") == 0)
		snprintf(ports, sizeof(ports), "127.0.0.1:%u", server->config.listen_port);
	snprintf(threads, sizeof(threads), "%u", server->config.threads);
	ctx = mg_start(&callbacks, server, options);
	if (ctx == NULL) {
		sp_error_set(err, EADDRINUSE, "cannot listen on %s", ports);
		return NULL;
	}
	mg_set_request_handler(ctx, "/api/v1/run$", handle_run, server);
	mg_set_request_handler(ctx, "/api/v1/languages$", handle_languages, server);
	mg_set_request_handler(ctx, "/healthz$", handle_health, server);
	mg_set_request_handler(ctx, "/metrics$", handle_metrics, server);
	mg_set_request_handler(ctx, "/", handle_not_found, server);
	atomic_store(&server->ready, true);
	return ctx;
}

void sp_http_stop(struct mg_context *ctx)
{
	if (ctx != NULL)
		mg_stop(ctx);
}
