#include "cmd_serve.h"

#include <civetweb.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "sandbox/base/log.h"
#include "sandbox/cgroup.h"
#include "sandbox/spawner.h"
#include "server/engine/engine.h"
#include "server/engine/server.h"
#include "server/http/http.h"
#include "server/http/web.h"
#include "server/job/queue_url.h"

#define EXIT_USAGE 2
/* Blocks of this size and more are mapped on their own and given back when
 * freed: a body, a string of it, an output. */
#define MMAP_THRESHOLD (128 * 1024)

enum {
	OPT_CONFIG = 256,
	OPT_LISTEN,
	OPT_STATE_DIR,
	OPT_LANGUAGES_DIR,
	OPT_TOKEN,
	OPT_QUEUE,
	OPT_VERBOSE,
	OPT_HELP
};

static const struct option serve_options[] = {
    {"config", required_argument, NULL, OPT_CONFIG},
    {"listen", required_argument, NULL, OPT_LISTEN},
    {"state-dir", required_argument, NULL, OPT_STATE_DIR},
    {"languages-dir", required_argument, NULL, OPT_LANGUAGES_DIR},
    {"token", required_argument, NULL, OPT_TOKEN},
    {"queue", required_argument, NULL, OPT_QUEUE},
    {"verbose", no_argument, NULL, OPT_VERBOSE},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

static void usage(FILE *to, const char *cmd)
{
	if (strcmp(cmd, "worker") == 0)
		fputs("usage: sandpool worker --queue URL [--config FILE] [--listen ADDR:PORT]\n"
		      "                       [--state-dir DIR] [--languages-dir DIR] [--verbose]\n"
		      "  --queue URL          the shared queue: "
		      "redis://[USER:PASSWORD@]HOST:PORT[/DB]\n"
		      "  --listen ADDR:PORT   serve /healthz and /metrics there (default: none)\n"
		      "A worker runs the queue's jobs on its warm pool; the API nodes\n"
		      "(sandpool serve --queue URL) take the requests.\n",
		      to);
	else
		fputs(
		    "usage: sandpool serve [--config FILE] [--listen ADDR:PORT] [--state-dir DIR]\n"
		    "                      [--languages-dir DIR] [--token TOKEN]... [--queue URL]\n"
		    "                      [--verbose]\n",
		    to);
	fputs("  --config FILE        JSON configuration (every key has a default)\n"
	      "  --listen ADDR:PORT   where to listen (default 127.0.0.1:8080); an address\n"
	      "                       other than loopback needs a token\n"
	      "  --state-dir DIR      the image store\n"
	      "  --languages-dir DIR  the language files\n"
	      "  --token TOKEN        an API token (repeatable): requests then need\n"
	      "                       'Authorization: Bearer TOKEN'\n"
	      "  --queue URL          share a queue in Redis with other nodes (default: the\n"
	      "                       queue is in this process)\n"
	      "Flags override the configuration file. SIGTERM or SIGINT stops the server.\n",
	      to);
}

static int fail_usage(const char *cmd, const struct sp_error *err)
{
	fprintf(stderr, "sandpool %s: %s\n", cmd, err->message);
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

/* The flags of `sandpool CMD` over the configuration C. *LISTEN says whether
 * --listen was given. */
static int apply_flags(struct sp_config *c, const char *cmd, int argc, char **argv, bool *listen)
{
	struct sp_error err = {0};
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "+", serve_options, NULL)) != -1) {
		int rc = 0;

		if (opt == OPT_LISTEN)
			rc = sp_config_set_listen(c, optarg, &err), *listen = true;
		else if (opt == OPT_TOKEN)
			rc = sp_config_add_token(c, optarg, &err);
		else if (opt == OPT_QUEUE)
			rc = sp_config_set_queue(c, optarg, &err);
		else if (opt == OPT_STATE_DIR)
			rc = copy_path(c->state_dir, sizeof(c->state_dir), optarg, &err);
		else if (opt == OPT_LANGUAGES_DIR)
			rc = copy_path(c->languages_dir, sizeof(c->languages_dir), optarg, &err);
		if (rc < 0)
			return fail_usage(cmd, &err);
	}
	return 0;
}

/* The configuration of `sandpool CMD`: defaults, then --config, then the
 * other flags. *LISTEN says whether --listen was given. */
static int parse_serve_args(struct sp_config *c, const char *cmd, int argc, char **argv,
			    bool *listen)
{
	const char *file = NULL;
	struct sp_error err = {0};
	int opt;

	sp_config_defaults(c);
	*listen = false;
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+", serve_options, NULL)) != -1) {
		if (opt == OPT_HELP) {
			usage(stdout, cmd);
			exit(0);
		}
		if (opt == OPT_CONFIG)
			file = optarg;
		else if (opt == OPT_VERBOSE)
			sp_log_set_level(SP_LOG_DEBUG);
		else if (opt == '?' || opt == ':') {
			fprintf(stderr, "sandpool %s: %s '%s' (see sandpool %s --help)\n", cmd,
				optopt ? "a value is missing for" : "unknown option",
				argv[optind - 1], cmd);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "sandpool %s: unexpected argument '%s'\n", cmd, argv[optind]);
		return -1;
	}
	if (file != NULL && sp_config_load(c, file, &err) < 0)
		return fail_usage(cmd, &err);
	if (apply_flags(c, cmd, argc, argv, listen) < 0)
		return -1;
	if (strcmp(cmd, "worker") == 0 && c->queue[0] == '\0') {
		fprintf(stderr, "sandpool worker: --queue URL is needed: the queue whose jobs it "
				"runs (see sandpool worker --help)\n");
		return -1;
	}
	return sp_config_check(c, &err) < 0 ? fail_usage(cmd, &err) : 0;
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

static void wait_for_signal(const char *cmd, const sigset_t *set)
{
	int sig;

	while (sigwait(set, &sig) != 0) {
	}
	fprintf(stderr, "sandpool %s: %s, stopping\n", cmd, strsignal(sig));
}

static void shutdown_server(struct sp_server *server, struct mg_context *ctx,
			    struct sp_spawner *spawner)
{
	/* Jobs first: their end answers the requests waiting for them, so that
	 * civetweb can stop; then no cell is leased any more. */
	sp_engine_drain(server);
	sp_http_stop(ctx);
	sp_engine_stop(server);
	sp_web_free(server->web);
	server->web = NULL;
	sp_spawner_stop(spawner);
	sp_server_free(server);
}

static void say_started(const char *cmd, const struct sp_server *server, bool http)
{
	char queue[sizeof(server->config.queue)];

	sp_queue_url_redacted(server->config.queue, queue, sizeof(queue));
	if (http)
		fprintf(stderr, "sandpool %s: listening on %s:%u, ", cmd,
			server->config.listen_host, server->config.listen_port);
	else
		fprintf(stderr, "sandpool %s: ", cmd);
	fprintf(stderr, "%zu languages, cgroup %s, queue %s\n", server->languages.count,
		sp_cgroup_mode_to_string(server->cgroups.mode),
		server->config.queue[0] ? queue : "in this process");
	fprintf(stderr,
		"sandpool %s: memory_max_mb %llu: %llu MiB for requests (%llu for one client), "
		"large inputs in %s\n",
		cmd, (unsigned long long)server->config.memory_max_mb,
		(unsigned long long)(server->memory.requests >> 20),
		(unsigned long long)(server->memory.share >> 20),
		server->config.inputs_dir[0] ? server->config.inputs_dir : "memory");
}

/* Load the server, its spawner, the playground (not for a worker), the
 * engine, and HTTP when HTTP says so. Returns 0, or -1 with ERR. */
static int start_server(const char *cmd, struct sp_server *server, struct sp_spawner *spawner,
			bool http, struct mg_context **ctx, struct sp_error *err)
{
	struct sp_error no_web = {0};
	char name[64];

	sp_cgroup_owner_name(name, sizeof(name), cmd);
	if (sp_server_load(server, name, err) < 0 || sp_spawner_start_renewable(spawner, err) < 0)
		return -1;
	raise_open_files();
	if (!server->worker) {
		server->web = sp_web_load(&no_web);
		if (server->web == NULL)
			fprintf(stderr, "sandpool %s: no playground: %s\n", cmd, no_web.message);
	}
	if (sp_engine_start(server, spawner, err) < 0)
		return -1;
	mg_init_library(0);
	if (http && (*ctx = sp_http_start(server, err)) == NULL)
		return -1;
	return 0;
}

/* `sandpool CMD`: serve (the API) or worker (the queue's jobs). */
static int run_server(const char *cmd, int argc, char **argv)
{
	struct sp_server server = {.worker = strcmp(cmd, "worker") == 0};
	struct sp_spawner spawner = {.pid = -1, .sock = -1, .program = -1};
	struct mg_context *ctx = NULL;
	struct sp_error err = {0};
	bool listen;
	sigset_t stop;

	if (parse_serve_args(&server.config, cmd, argc, argv, &listen) < 0)
		return EXIT_USAGE;
	mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD);
	/* Before any thread: the signals we wait for, and the spawner. */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	sigprocmask(SIG_BLOCK, &stop, NULL);
	if (start_server(cmd, &server, &spawner, !server.worker || listen, &ctx, &err) < 0) {
		fprintf(stderr, "sandpool %s: %s%s%s\n", cmd, err.message, err.errnum ? ": " : "",
			err.errnum ? strerror(err.errnum) : "");
		shutdown_server(&server, ctx, &spawner);
		return 1;
	}
	say_started(cmd, &server, ctx != NULL);
	wait_for_signal(cmd, &stop);
	shutdown_server(&server, ctx, &spawner);
	mg_exit_library();
	return 0;
}

int sp_cmd_serve(int argc, char **argv)
{
	return run_server("serve", argc, argv);
}

int sp_cmd_worker(int argc, char **argv)
{
	return run_server("worker", argc, argv);
}
