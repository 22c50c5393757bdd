#include "http_handlers.h"

#include <civetweb.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_conns.h"
#include "http_reply.h"
#include "server/engine/queue.h"
#include "server/engine/pool.h"

/* A language as GET /api/v1/languages lists it; WHY is NULL when it runs
 * here, else why it cannot. */
static json_t *language_entry(const struct sp_language *l, const char *why)
{
	json_t *aliases = json_array();
	json_t *entry;

	for (size_t j = 0; l->aliases[j] != NULL; j++)
		json_array_append_new(aliases, json_string(l->aliases[j]));
	entry = json_pack("{s:s, s:s?, s:o, s:b, s:s, s:b}", "name", l->name, "version", l->version,
			  "aliases", aliases, "compiled", l->compile != NULL, "source", l->source,
			  "available", why == NULL);
	if (entry != NULL && why != NULL)
		json_object_set_new(entry, "reason", json_string(why));
	return entry;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(json_string_value(json_object_get(*(json_t *const *)a, "name")),
		      json_string_value(json_object_get(*(json_t *const *)b, "name")));
}

/* Every language of SET, those that cannot run here too, by name; NULL
 * when out of memory. */
static json_t *language_list(const struct sp_language_set *set)
{
	size_t n = set->count + set->absent_count, made = 0;
	json_t **entries = calloc(n + 1, sizeof(*entries));
	json_t *list = entries ? json_array() : NULL;

	for (size_t i = 0; list != NULL && i < n; i++, made++) {
		entries[i] = i < set->count ? language_entry(&set->items[i], NULL)
					    : language_entry(&set->absent[i - set->count].language,
							     set->absent[i - set->count].why);
		if (entries[i] == NULL)
			break;
	}
	if (list != NULL && made == n) {
		qsort(entries, n, sizeof(*entries), by_name);
		for (size_t i = 0; i < n; i++)
			json_array_append_new(list, entries[i]);
	} else {
		for (size_t i = 0; i < made; i++)
			json_decref(entries[i]);
		json_decref(list);
		list = NULL;
	}
	free(entries);
	return list;
}

int sp_http_languages(struct mg_connection *conn, void *data)
{
	struct sp_server *server = data;
	json_t *list;

	if (!sp_http_authorized(conn, &server->config))
		return sp_reply_unauthorized(conn);
	if ((list = language_list(&server->languages)) == NULL)
		return sp_reply_error(conn, 500, "internal_error", "out of memory", "");
	return sp_reply(conn, 200, list, "");
}

/* The languages this node cannot run, with why. */
static json_t *unavailable_languages(const struct sp_language_set *set)
{
	json_t *out = json_object();

	for (size_t i = 0; out != NULL && i < set->absent_count; i++)
		json_object_set_new(out, set->absent[i].language.name,
				    json_string(set->absent[i].why));
	return out;
}

static json_t *pool_state(struct sp_server *server)
{
	json_t *pools = json_object();

	for (size_t i = 0; i < server->languages.count; i++) {
		const char *name = server->languages.items[i].name;
		struct sp_pool_stats st;
		struct sp_queue_stats js;

		if (sp_pool_stats(server->pool, name, &st) < 0)
			continue;
		sp_queue_stats(server->queue, i, &js);
		json_object_set_new(pools, name,
				    json_pack("{s:s, s:i, s:i, s:i, s:i, s:i, s:I, s:I, s:s}",
					      "mode", server->served[i].pool_size ? "warm" : "cold",
					      "idle", st.idle, "busy", st.busy, "starting",
					      st.starting, "queued", js.queued, "running",
					      js.running, "jobs", (json_int_t)st.jobs, "replaced",
					      (json_int_t)st.replaced, "prepares",
					      st.prepares ? st.prepares : "nothing"));
	}
	return pools;
}

/* What the server holds for requests, against memory_max_mb. */
static json_t *memory_state(struct sp_server *server, const struct sp_queue_stats *js)
{
	const uint64_t *b = js->bytes;

	return json_pack(
	    "{s:I, s:I, s:I, s:I, s:{s:I, s:I, s:I, s:I}, s:I, s:I, s:b, s:I, s:s}", "max_mb",
	    (json_int_t)server->config.memory_max_mb, "requests_max", (json_int_t)js->bytes_limit,
	    "share_max", (json_int_t)server->memory.share, "held",
	    (json_int_t)(b[SP_BYTES_BODIES] + b[SP_BYTES_QUEUED] + b[SP_BYTES_RUNNING] +
			 b[SP_BYTES_KEPT]),
	    "by", "bodies", (json_int_t)b[SP_BYTES_BODIES], "queued",
	    (json_int_t)b[SP_BYTES_QUEUED], "running", (json_int_t)b[SP_BYTES_RUNNING], "kept",
	    (json_int_t)b[SP_BYTES_KEPT], "peak", (json_int_t)js->bytes_peak, "results_dropped",
	    (json_int_t)js->dropped_results, "waiting", js->waiting_for_memory, "programs_max",
	    (json_int_t)server->memory.programs, "inputs_dir",
	    server->config.inputs_dir[0] ? server->config.inputs_dir : "");
}

/* The queue: its jobs, its backend, and what this node's workers took. */
static json_t *queue_state(struct sp_server *server, const struct sp_queue_stats *js)
{
	json_t *q =
	    json_pack("{s:i, s:i, s:i, s:i, s:s, s:b}", "queued", js->queued, "running",
		      js->running, "kept", js->kept, "size", server->config.queue_size, "backend",
		      js->backend ? js->backend : "", "reachable", js->reachable);

	if (q != NULL && js->backend != NULL && strcmp(js->backend, "redis") == 0)
		json_object_update_new(q, json_pack("{s:I, s:I, s:I}", "deliveries",
						    (json_int_t)js->deliveries, "redeliveries",
						    (json_int_t)js->redeliveries, "set_aside",
						    (json_int_t)js->set_aside));
	return q;
}

/* What the health says first: draining, the queue out of reach, or ok. */
static const char *health_status(struct sp_server *server, const struct sp_queue_stats *js)
{
	if (atomic_load(&server->draining))
		return "draining";
	return js->reachable ? "ok" : "queue_unavailable";
}

int sp_http_health(struct mg_connection *conn, void *data)
{
	struct sp_server *server = data;
	const struct sp_cgroup_root *cg = &server->cgroups;
	struct sp_queue_stats js;
	json_t *obj;

	const char *status;

	sp_queue_stats(server->queue, (size_t)-1, &js);
	status = health_status(server, &js);
	obj = json_pack("{s:s, s:s, s:{s:b, s:b, s:b, s:b}, s:o, s:o, s:I}", "status", status,
			"cgroup", sp_cgroup_mode_to_string(cg->mode), "limits", "memory_by_cgroup",
			cg->limits_memory, "processes_by_cgroup", cg->limits_pids, "cpu_by_cgroup",
			cg->counts_cpu, "kill_by_cgroup", cg->has_kill, "pool", pool_state(server),
			"queue", queue_state(server, &js), "jobs_done",
			(json_int_t)atomic_load(&server->jobs_done));
	json_object_set_new(obj, "languages",
			    json_pack("{s:i, s:o}", "available", (int)server->languages.count,
				      "unavailable", unavailable_languages(&server->languages)));
	json_object_set_new(obj, "memory", memory_state(server, &js));
	json_object_set_new(obj, "http", sp_http_conns_json(server->conns));
	json_object_set_new(obj, "websockets", sp_http_ws_health(server));

	return sp_reply(conn, strcmp(status, "ok") == 0 ? 200 : 503, obj, "");
}

/* GET /api/v1/workers: the nodes that run the queue's jobs. */
int sp_http_workers(struct mg_connection *conn, void *data)
{
	struct sp_server *server = data;
	struct sp_error err = {0};
	json_t *list;

	if (!sp_http_authorized(conn, &server->config))
		return sp_reply_unauthorized(conn);
	list = sp_queue_workers(server->queue, &err);
	if (list == NULL)
		return sp_http_refused(conn, server, NULL, &err);
	return sp_reply(conn, 200, json_pack("{s:o}", "workers", list), "");
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
			fprintf(f, "%s_bucket{le=\"%g\"} %lu\n", name, h->bounds[i], cumulative);
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

static void render_tests(FILE *f, struct sp_server *server)
{
	fputs("# HELP sandpool_judge_tests_total Tests of judge requests, by language and "
	      "verdict.\n"
	      "# TYPE sandpool_judge_tests_total counter\n",
	      f);
	for (size_t i = 0; i < server->languages.count; i++) {
		for (int v = 0; v < SP_VERDICT_COUNT; v++) {
			unsigned long n =
			    atomic_load(&server->metrics.tests[i * SP_VERDICT_COUNT + (size_t)v]);

			fprintf(f,
				"sandpool_judge_tests_total{language=\"%s\",verdict=\"%s\"} %lu\n",
				server->languages.items[i].name,
				sp_verdict_to_string((enum sp_verdict)v), n);
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

static void render_queue(FILE *f, struct sp_server *server)
{
	struct sp_queue_stats js;

	fputs("# HELP sandpool_queue_depth Jobs waiting for a cell, by language.\n"
	      "# TYPE sandpool_queue_depth gauge\n",
	      f);
	for (size_t i = 0; i < server->languages.count; i++) {
		sp_queue_stats(server->queue, i, &js);
		fprintf(f, "sandpool_queue_depth{language=\"%s\"} %u\n",
			server->languages.items[i].name, js.queued);
	}
	sp_queue_stats(server->queue, (size_t)-1, &js);
	fprintf(
	    f,
	    "# HELP sandpool_queue_up Whether the queue answers (1) or not (0).\n"
	    "# TYPE sandpool_queue_up gauge\nsandpool_queue_up{backend=\"%s\"} %d\n"
	    "# HELP sandpool_queue_deliveries_total Jobs this node's workers took.\n"
	    "# TYPE sandpool_queue_deliveries_total counter\n"
	    "sandpool_queue_deliveries_total %lu\n"
	    "# HELP sandpool_queue_redeliveries_total Jobs taken again after their worker went "
	    "silent past its lease.\n# TYPE sandpool_queue_redeliveries_total counter\n"
	    "sandpool_queue_redeliveries_total %lu\n"
	    "# HELP sandpool_queue_set_aside_total Jobs taken too often, ended internal_error.\n"
	    "# TYPE sandpool_queue_set_aside_total counter\nsandpool_queue_set_aside_total %lu\n",
	    js.backend ? js.backend : "", js.reachable, js.deliveries, js.redeliveries,
	    js.set_aside);
}

static void render_memory(FILE *f, struct sp_server *server)
{
	static const char *const classes[SP_BYTES_CLASSES] = {"bodies", "queued", "running",
							      "kept"};
	struct sp_queue_stats js;

	sp_queue_stats(server->queue, (size_t)-1, &js);
	fputs("# HELP sandpool_memory_held_bytes What the server holds for requests, by what "
	      "holds it.\n# TYPE sandpool_memory_held_bytes gauge\n",
	      f);
	for (int c = 0; c < SP_BYTES_CLASSES; c++)
		fprintf(f, "sandpool_memory_held_bytes{class=\"%s\"} %llu\n", classes[c],
			(unsigned long long)js.bytes[c]);
	fprintf(f,
		"# HELP sandpool_memory_limit_bytes The most requests may hold (memory_max_mb, "
		"less the server's own).\n# TYPE sandpool_memory_limit_bytes gauge\n"
		"sandpool_memory_limit_bytes %llu\n"
		"# HELP sandpool_results_dropped_total Kept results dropped early to make room.\n"
		"# TYPE sandpool_results_dropped_total counter\nsandpool_results_dropped_total "
		"%lu\n",
		(unsigned long long)js.bytes_limit, js.dropped_results);
	sp_http_conns_render(f, server->conns);
}

/* GET /metrics: Prometheus text format. */
int sp_http_metrics(struct mg_connection *conn, void *data)
{
	struct sp_server *server = data;
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	if (!sp_http_authorized(conn, &server->config))
		return sp_reply_unauthorized(conn);
	f = open_memstream(&text, &len);
	if (f == NULL)
		return sp_reply_error(conn, 500, "internal_error", "out of memory", "");
	render_jobs(f, server);
	render_tests(f, server);
	render_cells(f, server);
	render_queue(f, server);
	render_memory(f, server);
	sp_http_ws_metrics(f, server);
	render_histogram(f, "sandpool_queue_wait_seconds",
			 "Time from the request to a leased cell.", &server->metrics.wait);
	render_histogram(f, "sandpool_run_seconds", "Time from the leased cell to the result.",
			 &server->metrics.run);
	render_histogram(
	    f, "sandpool_overhead_seconds",
	    "What the sandbox adds to a job: leased cell to result, less its steps' run.",
	    &server->metrics.overhead);
	fclose(f);
	mg_printf(conn,
		  "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\n"
		  "Content-Length: %zu\r\nCache-Control: no-store\r\n\r\n",
		  len);
	mg_write(conn, text, len);
	free(text);
	return 200;
}
