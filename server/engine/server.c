/* The running server's object: the languages it serves (their images found,
 * policies compiled, environments merged), its metrics and cgroups. */
#include "server.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rootfs/store.h"
#include "sandbox/base/cleanup.h"
#include "sandbox/base/log.h"
#include "sandbox/base/read_all.h"
#include "sandbox/box_archive.h"
#include "sandbox/mount.h"
#include "sandbox/seccomp_cache.h"
#include "server/job/entry.h"
#include "server/job/job_run.h"
#include "server/job/limits_json.h"
#include "server/job/paths.h"

size_t sp_server_language_index(const struct sp_server *server, const struct sp_language *language)
{
	return (size_t)(language - server->languages.items);
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

/* Find the language's image and compile its policy; WHY says, for a
 * client, what stopped it. */
static int serve_language(struct sp_served_language *s, const char *state_dir, char *why,
			  size_t size, struct sp_error *err)
{
	const char *image = s->language->image;
	char policy[PATH_MAX], cache[PATH_MAX];

	if (sp_store_image_rootfs(state_dir, image, s->rootfs, sizeof(s->rootfs), err) < 0 ||
	    sp_mount_check_rootfs(s->rootfs, err) < 0 ||
	    (s->image = sp_store_image_config(state_dir, image, err)) == NULL) {
		if (err->errnum == ENOENT)
			snprintf(why, size, "its image %s is not in the server's image store",
				 image);
		else
			snprintf(why, size, "its image %s cannot be used", image);
		return -1;
	}
	snprintf(why, size, "its policy %s cannot be loaded", s->language->policy);
	if (language_env(s, err) < 0 ||
	    sp_policy_path(s->language->policy, policy, sizeof(policy), err) < 0)
		return -1;
	return sp_seccomp_load(policy,
			       sp_cache_dir("seccomp", cache, sizeof(cache)) == 0 ? cache : NULL,
			       &s->seccomp, err);
}

/* PATH's content in a sealed memfd, or -1. */
static int loader_memfd(const char *name, const char *path, struct sp_error *err)
{
	cleanup_close int in = open(path, O_RDONLY | O_CLOEXEC);
	cleanup_close int fd = -1;

	if (in < 0)
		return sp_error_set(err, errno, "%s: prepare loader %s", name, path);
	fd = sp_box_memfd_new("sandpool-loader", err);
	if (fd < 0)
		return -1;
	if (sp_copy_all(in, fd, err) < 0)
		return sp_error_wrap(err, "%s: %s", name, path);
	if (sp_box_memfd_seal(fd, err) < 0)
		return -1;
	return steal_fd(&fd);
}

const struct sp_cell_runtime *sp_served_runtime(struct sp_served_language *s, bool compile,
						struct sp_error *err)
{
	const struct sp_language *l = s->language;
	const struct sp_language_prepare *p = compile ? &l->prepare_compile : &l->prepare;
	struct sp_cell_runtime *r = compile ? &s->compile_runtime : &s->run_runtime;
	struct sp_entry entry;
	char **argv;
	int fd;

	if (r->argv != NULL || p->loader == NULL)
		return r->argv ? r : NULL;
	sp_entry_of(l, "", 0, &entry);
	argv = compile ? sp_entry_compile_command(l->compile, &entry, NULL, 0)
		       : sp_entry_command(l->run, &entry, NULL, 0);
	if (argv == NULL) {
		sp_error_set(err, ENOMEM, "%s: prepare", l->name);
		return NULL;
	}
	fd = loader_memfd(l->name, p->loader, err);
	if (fd < 0) {
		sp_argv_free(argv);
		return NULL;
	}
	*r = (struct sp_cell_runtime){
	    .argv = argv,
	    .envp = s->env,
	    .limits = compile ? l->compile_limits : l->limits,
	    .takes_arguments = p->takes_arguments,
	    .loader_fd = fd,
	    .loader_path = p->path,
	    .loader_env = (char *const *)p->env,
	    .loader_args = (char *const *)p->args,
	};
	return r;
}

static void runtime_free(struct sp_cell_runtime *r)
{
	if (r->argv == NULL)
		return;
	close(r->loader_fd);
	sp_argv_free((char **)r->argv);
}

static void served_free(struct sp_served_language *s)
{
	runtime_free(&s->run_runtime);
	runtime_free(&s->compile_runtime);
	free(s->env);
	free(s->image_env);
	json_decref(s->image);
	sp_seccomp_program_free(&s->seccomp);
	memset(s, 0, sizeof(*s));
}

/* Keep the languages whose image is there; set the others apart as absent,
 * saying on stderr why. */
static int load_languages(struct sp_server *server, struct sp_error *err)
{
	struct sp_language_set *set = &server->languages;
	char dir[PATH_MAX], state[PATH_MAX];
	size_t read, kept = 0;

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
	read = set->count;
	for (size_t i = 0; i < read; i++) {
		struct sp_served_language *s = &server->served[kept];
		struct sp_error cause = {0};
		char why[256];

		set->items[kept] = set->items[i];
		s->language = &set->items[kept];
		if (serve_language(s, state, why, sizeof(why), &cause) == 0) {
			kept++;
			continue;
		}
		fprintf(stderr, "sandpool serve: language %s left out: %s\n", set->items[kept].name,
			cause.message);
		served_free(s);
		if (sp_language_set_absent(set, &set->items[kept], why, err) < 0) {
			while (++i < read)
				sp_language_free(&set->items[i]);
			set->count = kept;
			return -1;
		}
	}
	set->count = kept;
	if (kept == 0)
		return sp_error_set(
		    err, ENOENT, "no language has its image in %s (run tools/build-images)", state);
	return 0;
}

/* The store of problems: problems_dir, else the state directory's
 * problems/. */
static int open_problems(struct sp_server *server, struct sp_error *err)
{
	char state[PATH_MAX], dir[PATH_MAX + 16];
	const char *given = server->config.state_dir;

	pthread_mutex_init(&server->upload_lock, NULL);
	if (server->config.problems_dir[0] != '\0')
		snprintf(dir, sizeof(dir), "%s", server->config.problems_dir);
	else if (sp_state_dir(given[0] ? given : NULL, state, sizeof(state), err) < 0)
		return sp_error_wrap(err, "problems");
	else
		snprintf(dir, sizeof(dir), "%s/problems", state);
	/* a store that cannot be made does not stop the server: uploads then
	 * fail with the reason */
	if (sp_problem_store_open(&server->problems, dir, err) < 0)
		log_warn("problems cannot be stored in %s: %s", dir, err->message);
	return 0;
}

int sp_server_load(struct sp_server *server, const char *name, struct sp_error *err)
{
	if (load_languages(server, err) < 0)
		return -1;
	if (sp_metrics_init(&server->metrics, server->languages.count) < 0)
		return sp_error_set(err, ENOMEM, "metrics");
	if (open_problems(server, err) < 0)
		return -1;
	return sp_cgroup_root_init(&server->cgroups, name, SP_CGROUP_AUTO, err);
}

void sp_server_free(struct sp_server *server)
{
	sp_cgroup_root_destroy(&server->cgroups, NULL);
	for (size_t i = 0; i < server->languages.count; i++)
		served_free(&server->served[i]);
	free(server->served);
	server->served = NULL;
	sp_metrics_free(&server->metrics);
	sp_language_set_free(&server->languages);
	sp_config_free(&server->config);
}
