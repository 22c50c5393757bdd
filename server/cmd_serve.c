#include "cmd_serve.h"

#include <civetweb.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <linux/magic.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "http.h"
#include "hub.h"
#include "job.h"
#include "jobs.h"
#include "limits_json.h"
#include "paths.h"
#include "pool.h"
#include "program_cache.h"
#include "rootfs/store.h"
#include "sandbox/cleanup.h"
#include "sandbox/log.h"
#include "sandbox/mount.h"
#include "sandbox/seccomp_cache.h"
#include "sandbox/spawner.h"
#include "serve_job.h"
#include "server.h"

#define EXIT_USAGE 2
/* Checkers and interactors kept compiled between judge requests: so many,
 * and so many bytes at most (less when memory_max_mb gives less). */
#define PROGRAM_CACHE_SIZE  64
#define PROGRAM_CACHE_BYTES (256ull << 20)
/* Blocks of this size and more are mapped on their own and given back when
 * freed: a body, a string of it, an output. */
#define MMAP_THRESHOLD (128 * 1024)

enum {
	OPT_CONFIG = 256,
	OPT_LISTEN,
	OPT_STATE_DIR,
	OPT_LANGUAGES_DIR,
	OPT_TOKEN,
	OPT_VERBOSE,
	OPT_HELP
};

static const struct option serve_options[] = {
    {"config", required_argument, NULL, OPT_CONFIG},
    {"listen", required_argument, NULL, OPT_LISTEN},
    {"state-dir", required_argument, NULL, OPT_STATE_DIR},
    {"languages-dir", required_argument, NULL, OPT_LANGUAGES_DIR},
    {"token", required_argument, NULL, OPT_TOKEN},
    {"verbose", no_argument, NULL, OPT_VERBOSE},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

static void usage(FILE *to)
{
	fputs("usage: sandpool serve [--config FILE] [--listen ADDR:PORT] [--state-dir DIR]\n"
	      "                      [--languages-dir DIR] [--token TOKEN]... [--verbose]\n"
	      "  --config FILE        JSON configuration (every key has a default)\n"
	      "  --listen ADDR:PORT   where to listen (default 127.0.0.1:8080); an address\n"
	      "                       other than loopback needs a token\n"
	      "  --state-dir DIR      the image store\n"
	      "  --languages-dir DIR  the language files\n"
	      "  --token TOKEN        an API token (repeatable): requests then need\n"
	      "                       'Authorization: Bearer TOKEN'\n"
	      "Flags override the configuration file. SIGTERM or SIGINT stops the server.\n",
	      to);
}

static int fail_usage(const struct sp_error *err)
{
	fprintf(stderr, "sandpool serve: %s\n", err->message);
	return -1;
}

/* A directory given on the command line, made absolute against the current
 * directory (the configuration file takes absolute paths only). */
static int copy_path(char *dst, size_t size, const char *value, struct sp_error *err)
{
	char cwd[PATH_MAX];
	int n;

	if (value[0] == '\0' || value[0] == '-')
		return sp_error_set(err, EINVAL, "'%s' is not a directory name", value);
	if (value[0] == '/')
		n = snprintf(dst, size, "%s", value);
	else if (getcwd(cwd, sizeof(cwd)) == NULL)
		return sp_error_set(err, errno, "'%s': cannot tell the current directory", value);
	else
		n = snprintf(dst, size, "%s/%s", cwd, value);
	if (n < 0 || n >= (int)size)
		return sp_error_set(err, ENAMETOOLONG, "'%s' is too long", value);
	return 0;
}

/* The configuration: defaults, then --config, then the other flags. */
static int parse_serve_args(struct sp_config *c, int argc, char **argv)
{
	const char *file = NULL;
	struct sp_error err = {0};
	int opt;

	sp_config_defaults(c);
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+", serve_options, NULL)) != -1) {
		if (opt == OPT_HELP) {
			usage(stdout);
			exit(0);
		}
		if (opt == OPT_CONFIG)
			file = optarg;
		else if (opt == OPT_VERBOSE)
			sp_log_set_level(SP_LOG_DEBUG);
		else if (opt == '?' || opt == ':') {
			fprintf(stderr, "sandpool serve: %s '%s' (see sandpool serve --help)\n",
				optopt ? "a value is missing for" : "unknown option",
				argv[optind - 1]);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "sandpool serve: unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	if (file != NULL && sp_config_load(c, file, &err) < 0)
		return fail_usage(&err);
	optind = 1;
	while ((opt = getopt_long(argc, argv, "+", serve_options, NULL)) != -1) {
		int rc = 0;

		if (opt == OPT_LISTEN)
			rc = sp_config_set_listen(c, optarg, &err);
		else if (opt == OPT_TOKEN)
			rc = sp_config_add_token(c, optarg, &err);
		else if (opt == OPT_STATE_DIR)
			rc = copy_path(c->state_dir, sizeof(c->state_dir), optarg, &err);
		else if (opt == OPT_LANGUAGES_DIR)
			rc = copy_path(c->languages_dir, sizeof(c->languages_dir), optarg, &err);
		if (rc < 0)
			return fail_usage(&err);
	}
	return sp_config_check(c, &err) < 0 ? fail_usage(&err) : 0;
}

char **sp_server_env(const struct sp_server *server, const struct sp_language *language)
{
	for (size_t i = 0; i < server->languages.count; i++) {
		if (server->served[i].language == language)
			return server->served[i].env;
	}
	return NULL;
}

/* The environment of the language's steps: the image's, then its own. */
static int language_env(struct sp_served_language *s, struct sp_error *err)
{
	const char *const *lists[2];

	s->image_env = sp_store_image_env(s->image);
	if (s->image_env == NULL)
		return sp_error_set(err, ENOMEM, "environment");
	lists[0] = s->image_env;
	lists[1] = s->language->env;
	s->env = sp_env_merge(lists, 2);
	return s->env ? 0 : sp_error_set(err, ENOMEM, "environment");
}

/* Find the language's image and compile its policy. */
static int serve_language(struct sp_served_language *s, const char *state_dir, struct sp_error *err)
{
	char policy[PATH_MAX], cache[PATH_MAX];

	if (sp_store_image_rootfs(state_dir, s->language->image, s->rootfs, sizeof(s->rootfs),
				  err) < 0 ||
	    sp_mount_check_rootfs(s->rootfs, err) < 0)
		return -1;
	s->image = sp_store_image_config(state_dir, s->language->image, err);
	if (s->image == NULL || language_env(s, err) < 0)
		return -1;
	if (sp_policy_path(s->language->policy, policy, sizeof(policy), err) < 0)
		return -1;
	return sp_seccomp_load(policy,
			       sp_cache_dir("seccomp", cache, sizeof(cache)) == 0 ? cache : NULL,
			       &s->seccomp, err);
}

static void served_free(struct sp_served_language *s)
{
	free(s->env);
	free(s->image_env);
	json_decref(s->image);
	sp_seccomp_program_free(&s->seccomp);
	memset(s, 0, sizeof(*s));
}

/* Keep the languages whose image is there; say which are left out. */
static int load_languages(struct sp_server *server, struct sp_error *err)
{
	struct sp_language_set *set = &server->languages;
	char dir[PATH_MAX], state[PATH_MAX];
	size_t kept = 0;

	if (server->config.languages_dir[0] != '\0')
		snprintf(dir, sizeof(dir), "%s", server->config.languages_dir);
	else if (sp_languages_dir(dir, sizeof(dir), err) < 0)
		return -1;
	if (sp_language_set_load(set, dir, err) < 0 ||
	    sp_state_dir(server->config.state_dir[0] ? server->config.state_dir : NULL, state,
			 sizeof(state), err) < 0)
		return -1;
	for (size_t i = 0; i < set->count; i++) {
		struct sp_language *l = &set->items[i];

		if ((server->config.default_limits &&
		     sp_limits_from_json(server->config.default_limits, "default_limits",
					 &l->limits, err) < 0) ||
		    (server->config.default_compile_limits &&
		     sp_limits_from_json(server->config.default_compile_limits,
					 "default_compile_limits", &l->compile_limits, err) < 0))
			return -1;
	}
	server->served = calloc(set->count, sizeof(*server->served));
	if (server->served == NULL)
		return sp_error_set(err, ENOMEM, "languages");
	for (size_t i = 0; i < set->count; i++) {
		struct sp_served_language *s = &server->served[kept];
		struct sp_error why = {0};

		set->items[kept] = set->items[i];
		s->language = &set->items[kept];
		if (serve_language(s, state, &why) == 0) {
			kept++;
			continue;
		}
		fprintf(stderr, "sandpool serve: language %s left out: %s\n", set->items[kept].name,
			why.message);
		served_free(s);
		sp_language_free(&set->items[kept]);
	}
	set->count = kept;
	if (kept == 0)
		return sp_error_set(
		    err, ENOENT, "no language has its image in %s (run tools/build-images)", state);
	return 0;
}

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

/* Every queued job holds descriptors (its files and input as memfds, its
 * cancel eventfd): the server may open as many as the hard limit allows.
 * Called after the spawner is forked, which keeps the limit it had. */
static void raise_open_files(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			log_warn("cannot raise the open files limit: %s", strerror(errno));
	}
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

	/* 0: one per job that may run at once (jobs.h) */
	for (size_t i = 0; server->config.workers == 0 && i < server->languages.count; i++)
		workers += server->served[i].capacity;
	return sp_memory_plan(&server->config, workers, &server->memory, err);
}

static int start_jobs(struct sp_server *server, struct sp_error *err)
{
	size_t n = server->languages.count;
	unsigned *capacity = calloc(n, sizeof(*capacity));
	struct sp_jobs_config jc = {
	    .languages = n,
	    .capacity = capacity,
	    .workers = server->config.workers,
	    .queue_size = server->config.queue_size,
	    .queue_timeout_ms = (uint64_t)server->config.queue_timeout_s * 1000,
	    .retention_ms = (uint64_t)server->config.job_retention_s * 1000,
	    .retention_count = server->config.job_retention_count,
	    .user_in_flight = server->config.user_in_flight,
	    .user_jobs_per_minute = server->config.user_jobs_per_minute,
	    .max_bytes = server->memory.requests,
	    .share_bytes = server->memory.share,
	    .share_by_token = server->config.token_count > 1,
	    .measure = sp_serve_job_measure,
	    .run = sp_serve_job,
	    .unrun = sp_serve_job_unrun,
	    .event = sp_serve_job_event,
	    .ctx = server,
	};
	int rc;

	server->hub = sp_hub_new();
	server->programs =
	    sp_program_cache_new(PROGRAM_CACHE_SIZE, server->memory.programs < PROGRAM_CACHE_BYTES
							 ? server->memory.programs
							 : PROGRAM_CACHE_BYTES);
	if (capacity == NULL || server->hub == NULL || server->programs == NULL) {
		free(capacity);
		return sp_error_set(err, ENOMEM, "job table");
	}
	for (size_t i = 0; i < n; i++)
		capacity[i] = server->served[i].capacity;
	rc = sp_jobs_start(&server->jobs, &jc, err);
	free(capacity);
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

static void wait_for_signal(const sigset_t *set)
{
	int sig;

	while (sigwait(set, &sig) != 0) {
	}
	fprintf(stderr, "sandpool serve: %s, stopping\n", strsignal(sig));
}

static void shutdown_server(struct sp_server *server, struct mg_context *ctx,
			    struct sp_spawner *spawner)
{
	atomic_store(&server->draining, true);
	/* Jobs first: their end answers the requests waiting for them, so that
	 * civetweb can stop; then no cell is leased any more. */
	if (server->jobs != NULL)
		sp_jobs_stop(server->jobs, (uint64_t)server->config.shutdown_grace_s * 1000);
	sp_http_stop(ctx);
	if (server->pool != NULL)
		sp_pool_stop(server->pool, (uint64_t)server->config.shutdown_grace_s * 1000);
	sp_jobs_free(server->jobs);
	sp_hub_free(server->hub);
	sp_program_cache_free(server->programs);
	sp_web_free(&server->web);
	sp_spawner_stop(spawner);
	sp_cgroup_root_destroy(&server->cgroups, NULL);
	for (size_t i = 0; i < server->languages.count; i++)
		served_free(&server->served[i]);
	free(server->served);
	sp_metrics_free(&server->metrics);
	sp_language_set_free(&server->languages);
	sp_config_free(&server->config);
}

int sp_cmd_serve(int argc, char **argv)
{
	struct sp_server server = {0};
	struct sp_spawner spawner = {.pid = -1, .sock = -1};
	struct mg_context *ctx = NULL;
	struct sp_error err = {0}, no_web = {0};
	char name[64];
	sigset_t stop;

	if (parse_serve_args(&server.config, argc, argv) < 0)
		return EXIT_USAGE;
	mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD);
	/* Before any thread: the signals we wait for, and the spawner. */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	sigprocmask(SIG_BLOCK, &stop, NULL);
	snprintf(name, sizeof(name), "sandpool-serve-%d", (int)getpid());
	if (load_languages(&server, &err) < 0 ||
	    sp_metrics_init(&server.metrics, server.languages.count) < 0 ||
	    sp_cgroup_root_init(&server.cgroups, name, SP_CGROUP_AUTO, &err) < 0 ||
	    sp_spawner_start(&spawner, &err) < 0)
		goto fail;
	raise_open_files();
	if (sp_web_load(&server.web, &no_web) < 0)
		fprintf(stderr, "sandpool serve: no playground: %s\n", no_web.message);
	plan_capacity(&server);
	if (plan_memory(&server, &err) < 0)
		goto fail;
	choose_inputs_dir(&server.config);
	if (start_pool(&server, &spawner, &err) < 0 || start_jobs(&server, &err) < 0)
		goto fail;
	mg_init_library(0);
	ctx = sp_http_start(&server, &err);
	if (ctx == NULL)
		goto fail;
	fprintf(stderr, "sandpool serve: listening on %s:%u, %zu languages, cgroup %s\n",
		server.config.listen_host, server.config.listen_port, server.languages.count,
		sp_cgroup_mode_to_string(server.cgroups.mode));
	fprintf(stderr,
		"sandpool serve: memory_max_mb %llu: %llu MiB for requests (%llu for one client), "
		"large inputs in %s\n",
		(unsigned long long)server.config.memory_max_mb,
		(unsigned long long)(server.memory.requests >> 20),
		(unsigned long long)(server.memory.share >> 20),
		server.config.inputs_dir[0] ? server.config.inputs_dir : "memory");
	wait_for_signal(&stop);
	shutdown_server(&server, ctx, &spawner);
	mg_exit_library();
	return 0;
fail:
	fprintf(stderr, "sandpool serve: %s%s%s\n", err.message, err.errnum ? ": " : "",
		err.errnum ? strerror(err.errnum) : "");
	shutdown_server(&server, ctx, &spawner);
	return 1;
}
