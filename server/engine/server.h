/* The running server: what its HTTP threads, its workers and its WebSocket
 * loop share; the languages it serves; started and stopped in order. The
 * HTTP side's own state (its connections, WebSockets, the playground) hangs
 * here by pointers to types this layer does not know. */
#ifndef SANDPOOL_SERVER_H
#define SANDPOOL_SERVER_H

#include <jansson.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "metrics.h"
#include "sandbox/cgroup.h"
#include "sandbox/seccomp.h"
#include "server/job/config.h"
#include "server/job/language.h"
#include "server/job/memory_plan.h"
#include "server/job/problem_store.h"

struct sp_pool;
struct sp_queue;
struct sp_hub;
struct sp_program_cache;
struct sp_ws_loop;
struct sp_http_conns;
struct sp_http_callbacks;
struct sp_ws_admit;
struct sp_ws_upgrades;
struct sp_web;

/* A language the server runs: its image found, its policy compiled. */
struct sp_served_language {
	const struct sp_language *language;
	char rootfs[PATH_MAX];
	json_t *image;		/* image.json */
	const char **image_env; /* points into image */
	char **env;		/* image env, then the language's */
	struct sp_seccomp_program seccomp;
	unsigned pool_size; /* warm cells; 0 = cold */
	unsigned capacity;  /* jobs at once: pool_size, or the cold concurrency */
	/* its run's and its compile's runtimes prepared before the job, when
	 * the language has them and the server prepares runtimes (argv set) */
	struct sp_cell_runtime run_runtime, compile_runtime;
};

struct sp_server {
	struct sp_config config;
	struct sp_language_set languages;  /* those served (image there) */
	struct sp_served_language *served; /* one per entry of languages */
	struct sp_cgroup_root cgroups;
	struct sp_pool *pool;
	struct sp_queue *queue;		     /* the jobs (queue.h) */
	struct sp_hub *hub;		     /* WebSocket watchers of jobs */
	struct sp_ws_loop *ws;		     /* the WebSocket connections */
	struct sp_http_conns *conns;	     /* HTTP connections per address, token */
	struct sp_http_callbacks *callbacks; /* Judge0 callbacks waiting to be sent */
	struct sp_ws_admit *ws_admit;	     /* the WebSockets' caps */
	struct sp_ws_upgrades *ws_pending;   /* WebSockets civetweb still has */
	struct sp_program_cache *programs;   /* judges' checkers and interactors */
	struct sp_problem_store problems;    /* stored problems (problems.h) */
	pthread_mutex_t upload_lock;	     /* one problem upload at a time */
	struct sp_web *web;		     /* the playground's files, or NULL */
	struct sp_metrics metrics;
	struct sp_memory_plan memory; /* memory_max_mb, split */
	bool worker;		      /* `sandpool worker`: runs the queue's jobs, no API */
	char node[128];		      /* this node's name among the queue's workers */
	atomic_bool ready;	      /* every HTTP handler is registered */
	atomic_bool draining;	      /* shutting down: 503 to new jobs */
	atomic_ulong jobs_done;
};

/* The index of LANGUAGE (one of those served) among the server's languages:
 * of its queue, its cells, its metrics. */
size_t sp_server_language_index(const struct sp_server *server, const struct sp_language *language);

/* The environment of LANGUAGE's steps. */
char **sp_server_env(const struct sp_server *server, const struct sp_language *language);

/* S's runtime of a step (its compile when COMPILE, else its run), to be
 * prepared in its warm cells (sp_cell_prepare_begin): its command as a
 * program in the language's own source file has it, its loader read from
 * the language's file. NULL when the language prepares none for it, or
 * (said in ERR) the loader cannot be read. */
const struct sp_cell_runtime *sp_served_runtime(struct sp_served_language *s, bool compile,
						struct sp_error *err);

/* Load the languages whose image is there (saying on stderr which are left
 * out), the metrics, and the cgroups (NAME: the server's own). Before any
 * thread. */
int sp_server_load(struct sp_server *server, const char *name, struct sp_error *err);

/* Once the engine stopped (engine.h): the cgroups, the languages, the
 * metrics, the configuration. */
void sp_server_free(struct sp_server *server);

#endif
