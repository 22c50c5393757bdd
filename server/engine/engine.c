/* The engine under the HTTP API, started and stopped in order: each
 * language's cells and memory_max_mb planned, the warm pool, the queue of
 * jobs and its workers (its local backend), the event hub, the program
 * cache. */
#include "engine.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "hub.h"
#include "pool.h"
#include "problem_access.h"
#include "program_cache.h"
#include "queue_local.h"
#include "queue_redis.h"
#include "rootfs/store.h"
#include "sandbox/base/log.h"
#include "sandbox/spawner.h"
#include "serve_job.h"
#include "server.h"
#include "server/job/paths.h"

/* Checkers and interactors kept compiled between judge requests: so many,
 * and so many bytes at most (less when memory_max_mb gives less). */
#define PROGRAM_CACHE_SIZE  64
#define PROGRAM_CACHE_BYTES (256ull << 20)

/* The warm cells each language keeps: the configured size, else an even
 * share of pool_total. */
static unsigned pool_size(const struct sp_server *server, size_t i)
{
	json_t *size = json_object_get(server->config.pool_sizes, server->languages.items[i].name);
	size_t n = server->languages.count;
	unsigned share = server->config.pool_total / (unsigned)n;

	if (json_is_integer(size))
		return (unsigned)json_integer_value(size);
	return share + (i < server->config.pool_total % n ? 1 : 0);
}

/* Each language's warm cells, and how many of its jobs may run at once. */
static void plan_capacity(struct sp_server *server)
{
	for (size_t i = 0; i < server->languages.count; i++) {
		struct sp_served_language *s = &server->served[i];

		s->pool_size = pool_size(server, i);
		s->capacity = s->pool_size ? s->pool_size : server->config.cold_concurrency;
	}
}

/* memory_max_mb, split (memory_plan.h). */
static int plan_memory(struct sp_server *server, struct sp_error *err)
{
	unsigned workers = server->config.workers;

	/* 0: one per job that may run at once (job_table.h) */
	for (size_t i = 0; server->config.workers == 0 && i < server->languages.count; i++)
		workers += server->served[i].capacity;
	return sp_memory_plan(&server->config, workers, &server->memory, err);
}

/* The job's watchers are the hub's, of its id or its user. */
static void deliver_to_hub(void *ctx, const struct sp_queue_job *job, json_t *event)
{
	struct sp_server *server = ctx;

	sp_hub_publish(server->hub, job->id, job->user, job->owner, event);
}

static bool watched_in_hub(void *ctx, const struct sp_queue_job *job)
{
	struct sp_server *server = ctx;

	return sp_hub_watched(server->hub, job->id, job->user, job->owner);
}

/* A topic of the hub gained its first watch or lost its last: the queue
 * tells the processes that run jobs (queue.h). */
static void topic_to_queue(void *ctx, const char *key, bool user, int owner, bool watched)
{
	struct sp_server *server = ctx;

	sp_queue_topic(server->queue, key, user, owner, watched);
}

/* This node's cells, for the list of workers (queue.h). */
static json_t *describe_node(void *ctx)
{
	struct sp_server *server = ctx;
	json_t *languages = json_object();

	for (size_t i = 0; languages != NULL && i < server->languages.count; i++) {
		struct sp_pool_stats st = {0};

		sp_pool_stats(server->pool, server->languages.items[i].name, &st);
		json_object_set_new(languages, server->languages.items[i].name,
				    json_pack("{s:i, s:i, s:i}", "cells",
					      server->served[i].capacity, "idle", st.idle, "busy",
					      st.busy));
	}
	return json_pack("{s:o, s:I}", "languages", languages, "jobs_done",
			 (json_int_t)atomic_load(&server->jobs_done));
}

/* What runs this node's jobs: the server's cells. */
static struct sp_queue_worker worker_of(struct sp_server *server)
{
	return (struct sp_queue_worker){.run = sp_serve_job,
					.measure = sp_serve_job_measure,
					.unrun = sp_serve_job_unrun,
					.prepare = sp_problems_prepare,
					.describe = describe_node,
					.ctx = server};
}

/* Who watches jobs on this node: the hub's WebSocket clients. */
static struct sp_queue_watchers watchers_of(struct sp_server *server)
{
	return (struct sp_queue_watchers){
	    .deliver = deliver_to_hub, .watched = watched_in_hub, .ctx = server};
}

/* This node's name: its host and process. */
static void name_node(struct sp_server *server)
{
	char host[64] = "";

	gethostname(host, sizeof(host) - 1);
	snprintf(server->node, sizeof(server->node), "%s-%d", host, (int)getpid());
}

/* What this node runs of a shared queue: NULL for nothing, an API node
 * without a warm cell; a worker, or an API node with warm cells, runs every
 * language (the cold ones too), as one process does. */
static unsigned *shared_capacity(const struct sp_server *server, unsigned *capacity)
{
	for (size_t i = 0; !server->worker && i < server->languages.count; i++)
		if (server->served[i].pool_size > 0)
			return capacity;
	return server->worker ? capacity : NULL;
}

/* The queue in Redis (queue_redis.h), this node one of its API nodes or
 * workers. */
static int start_redis_queue(struct sp_server *server, unsigned *capacity, struct sp_error *err)
{
	struct sp_queue_redis_config rc = {
	    .config = &server->config,
	    .languages = &server->languages,
	    .capacity = shared_capacity(server, capacity),
	    .node = server->node,
	    .max_bytes = server->memory.requests,
	    .share_bytes = server->memory.share,
	    .share_by_token = server->config.token_count > 1,
	    .worker = worker_of(server),
	    .watchers = watchers_of(server),
	};
	if (server->worker) /* no API: no one watches jobs here */
		rc.watchers = (struct sp_queue_watchers){0};
	if (sp_queue_url_parse(server->config.queue, &rc.url, err) < 0)
		return -1;
	return sp_queue_redis_start(&server->queue, &rc, err);
}

/* The queue in this process: the job table (queue_local.h). */
static int start_local_queue(struct sp_server *server, const unsigned *capacity,
			     struct sp_error *err)
{
	struct sp_queue_local_config qc = {
	    .table.languages = server->languages.count,
	    .table.capacity = capacity,
	    .table.workers = server->config.workers,
	    .table.queue_size = server->config.queue_size,
	    .table.queue_timeout_ms = (uint64_t)server->config.queue_timeout_s * 1000,
	    .table.retention_ms = (uint64_t)server->config.job_retention_s * 1000,
	    .table.retention_count = server->config.job_retention_count,
	    .table.user_in_flight = server->config.user_in_flight,
	    .table.user_jobs_per_minute = server->config.user_jobs_per_minute,
	    .table.max_bytes = server->memory.requests,
	    .table.share_bytes = server->memory.share,
	    .table.share_by_token = server->config.token_count > 1,
	    .worker = worker_of(server),
	    .watchers = watchers_of(server),
	    .node = server->node,
	};

	return sp_queue_local_start(&server->queue, &qc, err);
}

static int start_jobs(struct sp_server *server, struct sp_error *err)
{
	size_t n = server->languages.count;
	unsigned *capacity = calloc(n, sizeof(*capacity));
	int rc;

	server->hub = sp_hub_new();
	server->programs =
	    sp_program_cache_new(PROGRAM_CACHE_SIZE, server->memory.programs < PROGRAM_CACHE_BYTES
							 ? server->memory.programs
							 : PROGRAM_CACHE_BYTES);
	if (capacity == NULL || server->hub == NULL || server->programs == NULL) {
		free(capacity);
		return sp_error_set(err, ENOMEM, "queue");
	}
	for (size_t i = 0; i < n; i++)
		capacity[i] = server->served[i].capacity;
	name_node(server);
	rc = server->config.queue[0] ? start_redis_queue(server, capacity, err)
				     : start_local_queue(server, capacity, err);
	free(capacity);
	if (rc == 0)
		sp_hub_observe(server->hub,
			       &(struct sp_hub_topics){.changed = topic_to_queue, .ctx = server});
	return rc;
}

/* Can DIR hold unnamed files of ours that are not memory? */
static bool inputs_dir_usable(const char *dir)
{
	struct statfs fs;
	int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	bool usable = fd >= 0 && fstatfs(fd, &fs) == 0 && fs.f_type != TMPFS_MAGIC &&
		      fs.f_type != RAMFS_MAGIC;

	if (fd >= 0)
		close(fd);
	return usable;
}

/* STATE/tmp/inputs, a folder of ours for no one else (0700). */
static bool make_inputs_dir(const char *state, char *dir, size_t size)
{
	struct stat st;

	if (snprintf(dir, size, "%s/tmp", state) >= (int)size ||
	    (mkdir(dir, 0755) < 0 && errno != EEXIST) ||
	    snprintf(dir, size, "%s/tmp/inputs", state) >= (int)size ||
	    (mkdir(dir, 0700) < 0 && errno != EEXIST) || lstat(dir, &st) < 0)
		return false;
	return S_ISDIR(st.st_mode) && st.st_uid == geteuid() && chmod(dir, 0700) == 0;
}

/* Where large inputs go as unnamed files (request.h): the state directory's
 * tmp/inputs, else $TMPDIR, else /tmp; none (memfds) when each is in memory
 * or cannot hold such files. */
static void choose_inputs_dir(struct sp_config *c)
{
	char state[PATH_MAX], dir[PATH_MAX];
	struct sp_error err = {0};
	const char *tmp = getenv("TMPDIR");

	if (sp_state_dir(c->state_dir[0] ? c->state_dir : NULL, state, sizeof(state), &err) == 0 &&
	    make_inputs_dir(state, dir, sizeof(dir)) && inputs_dir_usable(dir))
		snprintf(c->inputs_dir, sizeof(c->inputs_dir), "%s", dir);
	else if (tmp != NULL && tmp[0] == '/' && inputs_dir_usable(tmp))
		snprintf(c->inputs_dir, sizeof(c->inputs_dir), "%s", tmp);
	else if (inputs_dir_usable("/tmp"))
		snprintf(c->inputs_dir, sizeof(c->inputs_dir), "/tmp");
	else
		c->inputs_dir[0] = '\0';
}

static uint64_t max_u64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

/* Language I's runtime of a step (its compile when COMPILE), prepared in
 * its warm cells, or NULL: the server prepares none, the language has none,
 * or its loader cannot be read (said in the log; its jobs start the runtime
 * as they come). */
static const struct sp_cell_runtime *engine_runtime(struct sp_server *server, size_t i,
						    bool compile)
{
	struct sp_error err = {0};
	const struct sp_cell_runtime *r;
	char buf[SP_ERROR_MESSAGE_MAX + 64];

	if (!server->config.prepare_runtimes)
		return NULL;
	err.message[0] = '\0';
	r = sp_served_runtime(&server->served[i], compile, &err);
	if (r == NULL && err.message[0] != '\0')
		log_warn("%s", sp_error_describe(&err, buf, sizeof(buf)));
	return r;
}

/* The larger of two bounds, 0 being none. */
static uint64_t larger_bound(uint64_t a, uint64_t b)
{
	return a == 0 || b == 0 ? 0 : a > b ? a : b;
}

/* The steps language I's warm cells prepare: its compile's and its run's,
 * or its run's, each on its runtime when it has one. */
static void plan_prepares(struct sp_server *server, size_t i, struct sp_pool_language *lang)
{
	const struct sp_language *l = &server->languages.items[i];

	lang->prepare_limits = l->limits;
	if (l->compile == NULL) {
		lang->prepare_slots = 1;
		lang->runtime[0] = engine_runtime(server, i, false);
		return;
	}
	lang->prepare_slots = 2;
	lang->runtime[0] = engine_runtime(server, i, true);
	lang->runtime[1] = engine_runtime(server, i, false);
	/* the cell's cgroup holds both while they wait */
	lang->prepare_limits = l->compile_limits;
	lang->prepare_limits.memory_kb =
	    larger_bound(l->limits.memory_kb, l->compile_limits.memory_kb);
	lang->prepare_limits.processes =
	    larger_bound(l->limits.processes, l->compile_limits.processes);
}

static int start_pool(struct sp_server *server, struct sp_spawner *spawner, struct sp_error *err)
{
	size_t n = server->languages.count;
	struct sp_pool_language *langs = calloc(n, sizeof(*langs));
	struct sp_idmap idmap;
	int rc;

	if (langs == NULL)
		return sp_error_set(err, ENOMEM, "pool");
	if (sp_idmap_plan(&idmap, SP_IDMAP_AUTO, (unsigned)getpid(), err) < 0) {
		free(langs);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		const struct sp_language *l = &server->languages.items[i];

		langs[i].name = l->name;
		langs[i].size = server->served[i].pool_size;
		langs[i].max_jobs_per_cell = server->config.max_jobs_per_cell;
		langs[i].prepare_steps = server->config.prepare_steps;
		plan_prepares(server, i, &langs[i]);
		langs[i].cell_config = (struct sp_cell_config){
		    .rootfs = server->served[i].rootfs,
		    .hostname = "sandpool",
		    .idmap = idmap,
		    .seccomp = &server->served[i].seccomp,
		    .tmpfs_kb = max_u64(l->limits.tmpfs_kb, l->compile_limits.tmpfs_kb),
		    .cgroup_memory = server->cgroups.limits_memory,
		    .cgroup_pids = server->cgroups.limits_pids,
		};
	}
	rc = sp_pool_start(&server->pool, spawner, &server->cgroups, langs, n, err);
	free(langs);
	return rc;
}

int sp_engine_start(struct sp_server *server, struct sp_spawner *spawner, struct sp_error *err)
{
	plan_capacity(server);
	if (plan_memory(server, err) < 0)
		return -1;
	choose_inputs_dir(&server->config);
	if (start_pool(server, spawner, err) < 0)
		return -1;
	return start_jobs(server, err);
}

void sp_engine_drain(struct sp_server *server)
{
	atomic_store(&server->draining, true);
	if (server->queue != NULL)
		sp_queue_stop(server->queue, (uint64_t)server->config.shutdown_grace_s * 1000);
}

void sp_engine_stop(struct sp_server *server)
{
	if (server->pool != NULL)
		sp_pool_stop(server->pool, (uint64_t)server->config.shutdown_grace_s * 1000);
	if (server->hub != NULL)
		sp_hub_observe(server->hub, &(struct sp_hub_topics){0});
	sp_queue_free(server->queue);
	server->queue = NULL;
	sp_hub_free(server->hub);
	server->hub = NULL;
	sp_program_cache_free(server->programs);
	server->programs = NULL;
}
