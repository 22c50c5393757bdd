/* The server's configuration: one JSON file, every key with a default, and
 * the flags of `sandpool serve` over it. */
#ifndef SANDPOOL_CONFIG_H
#define SANDPOOL_CONFIG_H

#include <jansson.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "sandbox/base/error.h"
#include "sandbox/limits.h"

#define SP_CONFIG_MAX_TOKENS 64

struct sp_config {
	char listen_host[256]; /* "127.0.0.1", "::1", "0.0.0.0" */
	uint16_t listen_port;
	unsigned threads;	       /* HTTP threads: one per connection being served */
	unsigned request_timeout_s;    /* headers in, and each stall of a body read */
	unsigned workers;	       /* job threads; 0 = one per job that may run at once */
	unsigned queue_size;	       /* jobs waiting, per language; beyond it, 429 */
	unsigned queue_timeout_s;      /* a job not started by then: 429 (run), cancelled (jobs) */
	unsigned cold_concurrency;     /* jobs at once of a language without warm cells */
	unsigned user_in_flight;       /* queued + running jobs per userId; 0 = no limit */
	unsigned user_jobs_per_minute; /* submissions per userId; 0 = no limit */
	unsigned ws_max_frame;	       /* bytes of a WebSocket message from a client */
	unsigned ws_max_backlog;       /* bytes of events waiting for a slow client */
	unsigned ws_stall_timeout_s;   /* a WebSocket taking no byte while events wait */
	unsigned ws_max_connections;   /* WebSockets open at once */
	unsigned ws_max_per_address;   /* from one client address (IPv6: a /64); 0 = no cap */
	unsigned ws_max_per_token;     /* with one API token; 0 = half with several */
	unsigned ws_ping_interval_s;   /* a WebSocket silent this long is pinged; 0 = never */
	unsigned ws_ping_timeout_s;    /* and closed when nothing comes back this long */
	unsigned ws_idle_timeout_s;    /* no message and nothing watched: closed; 0 = never */
	char *tokens[SP_CONFIG_MAX_TOKENS];
	unsigned token_count;
	char state_dir[PATH_MAX];     /* "" = the default state directory */
	char languages_dir[PATH_MAX]; /* "" = the languages found beside sandpool */
	char problems_dir[PATH_MAX];  /* "" = the state directory's problems/ */
	unsigned pool_total;	      /* warm cells in all, spread over the languages */
	json_t *pool_sizes;	      /* {"python": 10, "java": 0}: per language, 0 = cold */
	unsigned max_jobs_per_cell;
	bool prepare_steps; /* a warm cell builds the sandbox of every next step before the job */
	bool prepare_runtimes;	     /* ...of a step on a runtime, and starts the runtime */
	uint64_t max_body;	     /* bytes of a request body */
	struct sp_limits max_limits; /* a request asking more: 400, or clamped */
	/* Laid over every language's own defaults, member by member; NULL: the
	 * languages' own. */
	json_t *default_limits;
	json_t *default_compile_limits;
	bool clamp_limits;
	bool piston_api;	      /* Piston v2's API at /api/v2 */
	bool judge0_api;	      /* Judge0 CE's API at /submissions, /languages... */
	bool judge0_callbacks;	      /* a Judge0 submission's callback_url is called */
	unsigned job_retention_s;     /* finished jobs kept this long... */
	unsigned job_retention_count; /* ...and at most this many */
	unsigned shutdown_grace_s;
	unsigned judge_max_tests;      /* tests in one judge request */
	unsigned judge_pool_percent;   /* of a language's warm cells, one judge request's at once */
	unsigned judge_spread;	       /* helper parts a judge job queues for other workers */
	uint64_t judge_max_program_kb; /* what a compile may leave in /box for the tests */
	/* {"java": 2}: a stored problem's time limit times this for a
	 * language's submissions; NULL, or a language not in it: 1 */
	json_t *judge_time_multipliers;
	uint64_t problem_max_mb;       /* a problem package's files, unpacked, in all */
	unsigned problem_max_files;    /* files in a problem package */
	uint64_t memory_max_mb;	       /* the server's memory, all in (memory_plan.h) */
	unsigned memory_share_percent; /* of what requests hold, one client's at most */
	unsigned http_address_percent; /* of the threads, one client address's at most */
	unsigned http_token_percent;   /* of the threads, one token's (of several) at most */
	unsigned body_min_rate_kb;     /* KiB/s a body must average after request_timeout_s */
	char queue[1024];	       /* "" = in this process; else a Redis URL (queue_url.h) */
	unsigned queue_lease_s;	       /* a job's worker silent this long: another takes it */
	unsigned queue_max_deliveries; /* a job taken this often ends internal_error, aside */
	/* Set when the server starts, not a key: the directory whose unnamed
	 * files (O_TMPFILE) hold large inputs; "" = memfds only. */
	char inputs_dir[PATH_MAX];
};

/* The defaults: loopback 127.0.0.1:8080, no token, 45 warm cells... */
void sp_config_defaults(struct sp_config *config);

/* Read FILE over the defaults. Unknown keys, wrong types and values out of
 * range are errors naming the key. */
int sp_config_load(struct sp_config *config, const char *file, struct sp_error *err);

/* Apply JSON (a parsed config document) over CONFIG; WHERE names it. */
int sp_config_apply(struct sp_config *config, json_t *doc, const char *where, struct sp_error *err);

/* The judge_time_multipliers factor of LANGUAGE (1 when none is set). */
double sp_config_time_multiplier(const struct sp_config *config, const char *language);

/* "ADDR:PORT", "[V6]:PORT" or ":PORT" into the listen fields. */
int sp_config_set_listen(struct sp_config *config, const char *text, struct sp_error *err);

int sp_config_add_token(struct sp_config *config, const char *token, struct sp_error *err);

/* The queue: "" for the one in this process, else a Redis URL. */
int sp_config_set_queue(struct sp_config *config, const char *url, struct sp_error *err);

/* True when the listen address is a loopback one. */
bool sp_config_is_loopback(const struct sp_config *config);

/* Checks across keys: a non-loopback address needs a token. */
int sp_config_check(const struct sp_config *config, struct sp_error *err);

void sp_config_free(struct sp_config *config);

#endif
