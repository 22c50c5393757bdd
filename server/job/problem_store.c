/* Problems in the state directory: problem_store.h. */
#include "problem_store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rootfs/layer.h"
#include "rootfs/store.h"
#include "sandbox/base/log.h"
#include "sandbox/base/read_all.h"

#define DRAFT_PREFIX "problem-"
/* A problem.json larger than this is not one this store wrote. */
#define RECORD_MAX (256u * 1024 * 1024)

static int make_dir(const char *path, mode_t mode, struct sp_error *err)
{
	if (mkdir(path, mode) < 0 && errno != EEXIST)
		return sp_error_set(err, errno, "mkdir %s", path);
	return 0;
}

/* Drafts in .tmp/ whose writer is gone. */
static void sweep_drafts(const char *tmp)
{
	int fd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0) {
		sp_store_sweep(fd, tmp);
		close(fd);
	}
}

int sp_problem_store_open(struct sp_problem_store *store, const char *dir, struct sp_error *err)
{
	if (snprintf(store->problems, sizeof(store->problems), "%s", dir) >=
		(int)sizeof(store->problems) ||
	    snprintf(store->tmp, sizeof(store->tmp), "%s/.tmp", dir) >= (int)sizeof(store->tmp))
		return sp_error_set(err, ENAMETOOLONG, "problems directory");
	if (make_dir(store->problems, 0755, err) < 0 || make_dir(store->tmp, 0755, err) < 0)
		return -1;
	sweep_drafts(store->tmp);
	return 0;
}

int sp_problem_draft_begin(const struct sp_problem_store *store, struct sp_problem_draft *draft,
			   struct sp_error *err)
{
	draft->dirfd = -1;
	if (snprintf(draft->path, sizeof(draft->path), "%s/" DRAFT_PREFIX "%d-XXXXXX", store->tmp,
		     (int)getpid()) >= (int)sizeof(draft->path))
		return sp_error_set(err, ENAMETOOLONG, "draft");
	if (mkdtemp(draft->path) == NULL) {
		sp_error_set(err, errno, "make a folder in %s", store->tmp);
		draft->path[0] = '\0';
		return -1;
	}
	draft->dirfd = open(draft->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (draft->dirfd < 0) {
		sp_error_set(err, errno, "open %s", draft->path);
		sp_problem_draft_drop(draft);
		return -1;
	}
	return 0;
}

int sp_problem_draft_file(struct sp_problem_draft *draft, const char *name, struct sp_error *err)
{
	int fd =
	    openat(draft->dirfd, name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);

	if (fd < 0)
		return sp_error_set(err, errno, "create %s", name);
	return fd;
}

void sp_problem_draft_drop(struct sp_problem_draft *draft)
{
	struct sp_error err = {0};

	if (draft->dirfd >= 0)
		close(draft->dirfd);
	draft->dirfd = -1;
	if (draft->path[0] != '\0' && sp_remove_tree_at(AT_FDCWD, draft->path, &err) < 0)
		log_warn("%s: %s", draft->path, err.message);
	draft->path[0] = '\0';
}

/* PROBLEM's problem.json written in DRAFT. */
static int write_record(struct sp_problem_draft *draft, const struct sp_problem *problem,
			struct sp_error *err)
{
	json_t *doc = sp_problem_to_json(problem);
	char *text = doc != NULL ? json_dumps(doc, JSON_COMPACT) : NULL;
	int fd = -1, rc = -1;

	json_decref(doc);
	if (text == NULL)
		sp_error_set(err, ENOMEM, "problem.json");
	else if ((fd = sp_problem_draft_file(draft, "problem.json", err)) >= 0 &&
		 sp_write_all(fd, text, strlen(text)) < 0)
		sp_error_set(err, errno, "write problem.json");
	else if (fd >= 0)
		rc = 0;
	if (fd >= 0)
		close(fd);
	free(text);
	return rc;
}

/* Every file of DRAFT and the folder itself on disk. */
static int sync_draft(struct sp_problem_draft *draft, struct sp_error *err)
{
	int fd = openat(draft->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *e;
	int rc = 0;

	if (d == NULL) {
		if (fd >= 0)
			close(fd);
		return sp_error_set(err, errno, "open %s", draft->path);
	}
	while (rc == 0 && (e = readdir(d)) != NULL) {
		int f;

		if (e->d_name[0] == '.')
			continue;
		f = openat(draft->dirfd, e->d_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (f < 0 || fsync(f) < 0)
			rc = sp_error_set(err, errno, "sync %s", e->d_name);
		if (f >= 0)
			close(f);
	}
	closedir(d);
	if (rc == 0 && fsync(draft->dirfd) < 0)
		rc = sp_error_set(err, errno, "sync %s", draft->path);
	return rc;
}

static void sync_dir(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

int sp_problem_draft_commit(const struct sp_problem_store *store, struct sp_problem_draft *draft,
			    const struct sp_problem *problem, struct sp_error *err)
{
	char path[PATH_MAX];
	int rc = 0;

	if (snprintf(path, sizeof(path), "%s/%s", store->problems, problem->id) >=
	    (int)sizeof(path))
		rc = sp_error_set(err, ENAMETOOLONG, "problem");
	if (rc == 0 && (write_record(draft, problem, err) < 0 || sync_draft(draft, err) < 0))
		rc = -1;
	if (rc == 0 && renameat2(AT_FDCWD, draft->path, AT_FDCWD, path, RENAME_NOREPLACE) < 0)
		rc = errno == EEXIST || errno == ENOTEMPTY
			 ? 1
			 : sp_error_set(err, errno, "rename %s to %s", draft->path, path);
	if (rc == 0) {
		draft->path[0] = '\0'; /* it is the problem's folder now */
		sync_dir(store->problems);
	}
	sp_problem_draft_drop(draft);
	return rc;
}

/* ---- reading -------------------------------------------------------------------- */

static int no_problem(const char *id, struct sp_error *err)
{
	return sp_error_set(err, ENOENT, "no problem %.64s", id);
}

bool sp_problem_store_has(const struct sp_problem_store *store, const char *id)
{
	char path[PATH_MAX];
	struct stat st;

	return sp_problem_id_valid(id) &&
	       snprintf(path, sizeof(path), "%s/%s/problem.json", store->problems, id) <
		   (int)sizeof(path) &&
	       stat(path, &st) == 0;
}

int sp_problem_store_open_file(const struct sp_problem_store *store, const char *id,
			       const char *name, struct sp_error *err)
{
	char path[PATH_MAX];
	int fd;

	if (!sp_problem_id_valid(id))
		return no_problem(id, err);
	if (snprintf(path, sizeof(path), "%s/%s/%s", store->problems, id, name) >=
	    (int)sizeof(path))
		return sp_error_set(err, ENAMETOOLONG, "problem %s", id);
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		return sp_error_set(err, ENOENT, "problem %s has no %s", id, name);
	if (fd < 0)
		return sp_error_set(err, errno, "open %s", path);
	return fd;
}

int sp_problem_store_load(const struct sp_problem_store *store, const char *id,
			  struct sp_problem *problem, struct sp_error *err)
{
	int fd = sp_problem_store_open_file(store, id, "problem.json", err);
	char *text = NULL;
	size_t length = 0;
	json_t *doc;
	json_error_t jerr;
	int rc;

	memset(problem, 0, sizeof(*problem));
	if (fd < 0)
		return err->errnum == ENOENT ? no_problem(id, err) : -1;
	rc = sp_read_all(fd, RECORD_MAX, &text, &length, err);
	close(fd);
	if (rc < 0)
		return sp_error_wrap(err, "read problem %s", id);
	doc = json_loadb(text, length, JSON_REJECT_DUPLICATES, &jerr);
	free(text);
	if (doc == NULL)
		return sp_error_set(err, EINVAL, "problem %s: problem.json: %s", id, jerr.text);
	rc = sp_problem_from_json(doc, problem, err);
	json_decref(doc);
	if (rc == 0 && strcmp(problem->id, id) != 0) {
		sp_problem_free(problem);
		return sp_error_set(err, EINVAL, "problem %s: its problem.json is another's", id);
	}
	return rc;
}

int sp_problem_store_ids(const struct sp_problem_store *store, json_t **ids, struct sp_error *err)
{
	DIR *d = opendir(store->problems);
	struct dirent *e;
	json_t *list = json_array();

	*ids = NULL;
	if (d == NULL || list == NULL) {
		if (d != NULL)
			closedir(d);
		json_decref(list);
		return sp_error_set(err, errno ? errno : ENOMEM, "open %s", store->problems);
	}
	while ((e = readdir(d)) != NULL)
		if (sp_problem_id_valid(e->d_name))
			json_array_append_new(list, json_string(e->d_name));
	closedir(d);
	*ids = list;
	return 0;
}

int sp_problem_store_remove(const struct sp_problem_store *store, const char *id,
			    struct sp_error *err)
{
	struct sp_problem_draft gone = {.dirfd = -1};
	char path[PATH_MAX];

	if (!sp_problem_id_valid(id))
		return no_problem(id, err);
	if (snprintf(path, sizeof(path), "%s/%s", store->problems, id) >= (int)sizeof(path))
		return sp_error_set(err, ENAMETOOLONG, "problem %s", id);
	if (snprintf(gone.path, sizeof(gone.path), "%s/" DRAFT_PREFIX "%d-XXXXXX", store->tmp,
		     (int)getpid()) >= (int)sizeof(gone.path) ||
	    mkdtemp(gone.path) == NULL)
		return sp_error_set(err, errno ? errno : ENAMETOOLONG, "make a folder in %s",
				    store->tmp);
	/* onto the empty folder, out of problems/ at once */
	if (rename(path, gone.path) < 0) {
		int e = errno;

		sp_problem_draft_drop(&gone);
		return e == ENOENT ? no_problem(id, err) : sp_error_set(err, e, "remove %s", path);
	}
	sp_problem_draft_drop(&gone);
	return 0;
}
