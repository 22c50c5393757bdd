#include "cmd_run.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rootfs/store.h"
#include "run_options.h"
#include "sandbox/base/cleanup.h"
#include "sandbox/base/read_all.h"
#include "sandbox/cell.h"
#include "sandbox/cgroup.h"
#include "sandbox/mount.h"
#include "sandbox/seccomp_cache.h"
#include "server/job/entry.h"
#include "server/job/job_run.h"
#include "server/job/language.h"
#include "server/job/paths.h"
#include "server/job/result_json.h"

#define EXIT_USAGE 2

static const char *const default_env[] = {
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", NULL};

/* Everything one `sandpool run` resolved before building a sandbox. */
struct run_plan {
	struct sp_language_set languages;
	const struct sp_language *language;
	char rootfs[PATH_MAX];
	char policy[PATH_MAX];
	json_t *image; /* image.json of a store image, or NULL */
	char **env;    /* merged; points into the lists it came from */
	char **argv;   /* the command: given, or the image's Entrypoint + Cmd */
	/* with a language: the source's entry, and the commands for it (the
	 * run command with the given CMD as its arguments) */
	struct sp_entry entry;
	char **compile_argv, **run_argv;
	const char **image_env;
	struct sp_limits limits;
	struct sp_limits compile_limits;
};

/* What lives for one `sandpool run`: policy, cgroups, the cell. */
struct run_session {
	struct sp_seccomp_program seccomp;
	struct sp_cgroup_root cgroups;
	bool cgroups_made;
	struct sp_cell cell;
	bool cell_made;
};

static int usage_error(const char *what, const struct sp_error *err)
{
	char text[SP_ERROR_MESSAGE_MAX + 128];

	fprintf(stderr, "sandpool run: %s%s%s\n", what ? what : "", what ? ": " : "",
		sp_error_describe(err, text, sizeof(text)));
	return -1;
}

static int load_language(struct run_plan *p, const char *name, struct sp_error *err)
{
	char dir[PATH_MAX];

	if (sp_languages_dir(dir, sizeof(dir), err) < 0 ||
	    sp_language_set_load(&p->languages, dir, err) < 0)
		return -1;
	p->language = sp_language_find(&p->languages, name);
	if (p->language == NULL)
		return sp_error_set(err, ENOENT, "unknown language '%s'", name);
	return 0;
}

static int resolve_image(struct run_plan *p, const struct sp_run_options *o, const char *name,
			 struct sp_error *err)
{
	char state[PATH_MAX];

	if (sp_state_dir(o->state_dir, state, sizeof(state), err) < 0 ||
	    sp_store_image_rootfs(state, name, p->rootfs, sizeof(p->rootfs), err) < 0)
		return -1;
	p->image = sp_store_image_config(state, name, err);
	if (p->image == NULL)
		return -1;
	p->image_env = sp_store_image_env(p->image);
	return p->image_env ? 0 : sp_error_set(err, ENOMEM, "image environment");
}

/* Entrypoint then Cmd of the image, as docker runs them without a command. */
static int image_command(struct run_plan *p, struct sp_error *err)
{
	json_t *config = json_object_get(p->image, "config");
	json_t *parts[] = {json_object_get(config, "Entrypoint"), json_object_get(config, "Cmd")};
	size_t n = 0;

	p->argv =
	    calloc(json_array_size(parts[0]) + json_array_size(parts[1]) + 1, sizeof(*p->argv));
	if (p->argv == NULL)
		return sp_error_set(err, ENOMEM, "image command");
	for (size_t k = 0; k < SP_ARRAY_SIZE(parts); k++) {
		size_t i;
		json_t *item;

		json_array_foreach(parts[k], i, item)
		{
			if (json_is_string(item))
				p->argv[n++] = (char *)json_string_value(item);
		}
	}
	if (n == 0)
		return sp_error_set(err, EINVAL, "no command given, and the image has no Cmd");
	return 0;
}

static int resolve_policy(struct run_plan *p, const struct sp_run_options *o, struct sp_error *err)
{
	if (o->policy_path != NULL) {
		snprintf(p->policy, sizeof(p->policy), "%s", o->policy_path);
		return 0;
	}
	return sp_policy_path(p->language ? p->language->policy : "default", p->policy,
			      sizeof(p->policy), err);
}

/* Image environment, then the language's, then --env: later wins. */
static int merge_env(struct run_plan *p, const struct sp_run_options *o, struct sp_error *err)
{
	const char *const *lists[] = {
	    p->image_env ? p->image_env : default_env,
	    p->language ? p->language->env : NULL,
	    (const char *const *)o->env,
	};

	p->env = sp_env_merge(lists, SP_ARRAY_SIZE(lists));
	return p->env ? 0 : sp_error_set(err, ENOMEM, "environment");
}

/* The largest source file whose entry is looked for. */
#define SOURCE_MAX (64u << 20)

/* The language's commands for the entry of --source (--source is required
 * with --language), with CMD as the program's arguments. */
static int language_commands(struct run_plan *p, const struct sp_run_options *o,
			     struct sp_error *err)
{
	const struct sp_language *lang = p->language;
	cleanup_close int fd = open(o->source, O_RDONLY | O_CLOEXEC);
	cleanup_free char *text = NULL;
	size_t len = 0, n = 0;

	if (fd < 0 || sp_read_all(fd, SOURCE_MAX, &text, &len, err) < 0)
		return sp_error_set(err, fd < 0 ? errno : err->errnum, "read %s", o->source);
	sp_entry_of(lang, text, len, &p->entry);
	while (o->argv != NULL && o->argv[n] != NULL)
		n++;
	p->run_argv = sp_entry_command(lang->run, &p->entry, (const char *const *)o->argv, n);
	if (lang->compile != NULL)
		p->compile_argv = sp_entry_command(lang->compile, &p->entry, NULL, 0);
	if (p->run_argv == NULL || (lang->compile != NULL && p->compile_argv == NULL))
		return sp_error_set(err, ENOMEM, "commands");
	return 0;
}

static int resolve(struct run_plan *p, const struct sp_run_options *o, struct sp_error *err)
{
	const char *image = o->image;

	if (o->language != NULL) {
		if (load_language(p, o->language, err) < 0 || language_commands(p, o, err) < 0)
			return -1;
		image = image ? image : p->language->image;
	}
	if (image != NULL && resolve_image(p, o, image, err) < 0)
		return -1;
	if (o->argv == NULL && o->language == NULL && image_command(p, err) < 0)
		return -1;
	/* the path the user gave, resolved once here: the cell opens what it
	 * names without following a symlink */
	if (o->rootfs != NULL && realpath(o->rootfs, p->rootfs) == NULL)
		return sp_error_set(err, errno, "rootfs %s", o->rootfs);
	p->limits = p->language ? p->language->limits : sp_default_run_limits;
	p->compile_limits = p->language ? p->language->compile_limits : sp_default_compile_limits;
	sp_limits_overlay(&p->limits, &o->limits);
	if (resolve_policy(p, o, err) < 0 || merge_env(p, o, err) < 0)
		return -1;
	return sp_mount_check_rootfs(p->rootfs, err);
}

static void plan_free(struct run_plan *p)
{
	free(p->env);
	free(p->argv);
	sp_argv_free(p->compile_argv);
	sp_argv_free(p->run_argv);
	free(p->image_env);
	json_decref(p->image);
	sp_language_set_free(&p->languages);
}

static int check_file(const char *option, const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0) {
		fprintf(stderr, "sandpool run: %s %s: %s\n", option, path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		fprintf(stderr, "sandpool run: %s %s: not a regular file\n", option, path);
		return -1;
	}
	return 0;
}

/* Checks that need the file system, before any sandbox is built. */
static int check_inputs(const struct sp_run_options *o)
{
	struct stat st;

	for (size_t i = 0; i < o->file_count; i++) {
		if (check_file("--file", o->files[i]) < 0)
			return -1;
	}
	if (o->source != NULL && check_file("--source", o->source) < 0)
		return -1;
	if (o->stdin_path == NULL)
		return 0;
	if (stat(o->stdin_path, &st) < 0 || access(o->stdin_path, R_OK) < 0) {
		fprintf(stderr, "sandpool run: --stdin %s: %s\n", o->stdin_path, strerror(errno));
		return -1;
	}
	if (S_ISDIR(st.st_mode)) {
		fprintf(stderr, "sandpool run: --stdin %s: a directory is no input\n",
			o->stdin_path);
		return -1;
	}
	return 0;
}

static uint64_t max_u64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

static int open_session(struct run_session *s, const struct run_plan *p,
			const struct sp_run_options *o, struct sp_error *err)
{
	struct sp_cell_config config = {
	    .rootfs = p->rootfs,
	    .hostname = o->hostname,
	    .seccomp = &s->seccomp,
	    .tmpfs_kb = max_u64(p->limits.tmpfs_kb, p->language ? p->compile_limits.tmpfs_kb : 0),
	};
	char cache[PATH_MAX];
	char name[64];

	if (sp_seccomp_load(p->policy,
			    sp_cache_dir("seccomp", cache, sizeof(cache)) == 0 ? cache : NULL,
			    &s->seccomp, err) < 0)
		return -1;
	sp_cgroup_owner_name(name, sizeof(name), "run");
	if (sp_cgroup_root_init(&s->cgroups, name, o->cgroup, err) < 0)
		return -1;
	s->cgroups_made = true;
	config.cgroup_memory = s->cgroups.limits_memory;
	config.cgroup_pids = s->cgroups.limits_pids;
	if (sp_idmap_plan(&config.idmap, o->idmap, (unsigned)getpid(), err) < 0)
		return -1;
	if (sp_cell_create(&s->cell, &config, err) < 0)
		return -1;
	s->cell_made = true;
	return 0;
}

static void close_session(struct run_session *s)
{
	if (s->cell_made)
		sp_cell_destroy(&s->cell);
	if (s->cgroups_made)
		sp_cgroup_root_destroy(&s->cgroups, NULL);
	sp_seccomp_program_free(&s->seccomp);
}

/* The descriptors of --source and every --file, named as they go in /box. */
struct job_inputs {
	struct sp_job_file files[SP_RUN_MAX_FILES + 1];
	char names[SP_RUN_MAX_FILES + 1][NAME_MAX + 1];
	size_t count;
	int stdin_fd;
};

static int add_input(struct job_inputs *in, const char *path, const char *name,
		     struct sp_error *err)
{
	struct sp_job_file *f = &in->files[in->count];
	struct stat st;
	char copy[PATH_MAX];
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st) < 0) {
		if (fd >= 0)
			close(fd);
		return sp_error_set(err, errno, "open %s", path);
	}
	snprintf(copy, sizeof(copy), "%s", path);
	snprintf(in->names[in->count], sizeof(in->names[0]), "%s", name ? name : basename(copy));
	f->name = in->names[in->count];
	f->fd = fd;
	f->mode = st.st_mode & 0755;
	in->count++;
	return 0;
}

static void close_inputs(struct job_inputs *in)
{
	for (size_t i = 0; i < in->count; i++)
		close(in->files[i].fd);
	if (in->stdin_fd >= 0)
		close(in->stdin_fd);
}

static int open_inputs(struct job_inputs *in, const struct sp_run_options *o,
		       const struct run_plan *p, struct sp_error *err)
{
	in->count = 0;
	in->stdin_fd = -1;
	if (o->source != NULL && add_input(in, o->source, p->entry.source, err) < 0)
		return -1;
	for (size_t i = 0; i < o->file_count; i++) {
		if (add_input(in, o->files[i], NULL, err) < 0)
			return -1;
	}
	if (o->stdin_path != NULL) {
		in->stdin_fd = open(o->stdin_path, O_RDONLY | O_CLOEXEC);
		if (in->stdin_fd < 0)
			return sp_error_set(err, errno, "open %s", o->stdin_path);
	}
	return 0;
}

static void print_json(json_t *obj, const struct sp_cgroup_root *cgroups)
{
	if (obj == NULL) {
		printf("{\"status\": \"internal_error\", \"error\": \"out of memory\"}\n");
		return;
	}
	json_object_set_new(obj, "cgroup", json_string(sp_cgroup_mode_to_string(cgroups->mode)));
	json_dumpf(obj, stdout, JSON_COMPACT);
	putchar('\n');
	fflush(stdout);
	json_decref(obj);
}

/* Without a language the result is the run step's own; with one, the job's
 * (compile and run). */
static void print_result(const struct sp_job_result *res, const struct run_plan *p,
			 const struct sp_cgroup_root *cgroups)
{
	struct sp_step_result failed = {.status = SP_STATUS_INTERNAL_ERROR, .exit_code = -1};

	if (p->language != NULL) {
		print_json(sp_job_result_to_json(res, p->language), cgroups);
		return;
	}
	if (res->ran) {
		print_json(sp_result_to_json(&res->run), cgroups);
		return;
	}
	failed.error = res->error;
	print_json(sp_result_to_json(&failed), cgroups);
}

static int run_job(struct run_session *s, const struct run_plan *p, const struct sp_run_options *o,
		   struct sp_job_result *res, struct sp_error *err)
{
	struct job_inputs *in = calloc(1, sizeof(*in));
	struct sp_job_spec spec = {
	    .compile_argv = p->compile_argv,
	    .argv = p->run_argv ? p->run_argv
		    : o->argv	? o->argv
				: p->argv,
	    .envp = p->env,
	    .limits = p->limits,
	    .compile_limits = p->compile_limits,
	    .cancel_fd = -1,
	};
	int rc;

	if (in == NULL)
		return sp_error_set(err, ENOMEM, "inputs");
	rc = open_inputs(in, o, p, err);
	if (rc == 0) {
		spec.files = in->files;
		spec.file_count = in->count;
		spec.stdin_fd = in->stdin_fd;
		sp_job_run(&s->cell, &s->cgroups, &spec, res);
	}
	close_inputs(in);
	free(in);
	return rc;
}

int sp_cmd_run(int argc, char **argv)
{
	struct sp_run_options options;
	struct run_plan plan = {0};
	struct run_session session = {0};
	struct sp_job_result res = {0};
	struct sp_error err = {0};
	int rc;

	/* The job's stdin is a pipe the supervisor writes: a job that closes it
	 * must not kill sandpool. */
	signal(SIGPIPE, SIG_IGN);
	if (sp_run_options_parse(&options, argc, argv) < 0 || check_inputs(&options) < 0)
		return EXIT_USAGE;
	if (resolve(&plan, &options, &err) < 0) {
		usage_error(NULL, &err);
		plan_free(&plan);
		return EXIT_USAGE;
	}
	rc = open_session(&session, &plan, &options, &err);
	if (rc == 0)
		rc = run_job(&session, &plan, &options, &res, &err);
	if (rc < 0) {
		res.status = SP_STATUS_INTERNAL_ERROR;
		res.error = err;
	}
	print_result(&res, &plan, &session.cgroups);
	sp_job_result_free(&res);
	close_session(&session);
	plan_free(&plan);
	return res.status == SP_STATUS_INTERNAL_ERROR ? 1 : 0;
}
