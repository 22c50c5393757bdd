/* Problems kept in a folder (the state directory's problems/, or the
 * configuration's problems_dir):
 *
 *   DIR/ID/problem.json    the problem (problem.h)
 *   DIR/ID/data            its tests' inputs and answers
 *   DIR/ID/validator.box   its compiled programs (box archives),
 *   DIR/ID/interactor.box  where it has them
 *   DIR/.tmp/problem-PID-XXXXXX/  a problem being written, or going
 *
 * A problem appears in DIR by one rename of a folder whose files were
 * written and synced, whole, or not at all; it goes by one rename out of
 * DIR before its files are removed. A folder left in .tmp/ by a server that
 * stopped half-way is removed when the store opens. Thread-safe: the store
 * holds only its paths. */
#ifndef SANDPOOL_PROBLEM_STORE_H
#define SANDPOOL_PROBLEM_STORE_H

#include <jansson.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "problem.h"
#include "sandbox/base/error.h"

struct sp_problem_store {
	char problems[PATH_MAX]; /* DIR */
	char tmp[PATH_MAX];	 /* DIR/.tmp */
};

/* A problem being written: its folder in .tmp/, open. */
struct sp_problem_draft {
	char path[PATH_MAX];
	int dirfd;
};

/* The store in DIR (made where missing, its parent must be there);
 * leftovers of unfinished writes removed. Returns 0, or -1 with ERR. */
int sp_problem_store_open(struct sp_problem_store *store, const char *dir, struct sp_error *err);

/* A new, empty draft. Returns 0, or -1 with ERR. */
int sp_problem_draft_begin(const struct sp_problem_store *store, struct sp_problem_draft *draft,
			   struct sp_error *err);

/* A new file NAME of DRAFT, empty, open for writing (and reading). Returns
 * its descriptor, or -1 with ERR. */
int sp_problem_draft_file(struct sp_problem_draft *draft, const char *name, struct sp_error *err);

/* DRAFT made the problem PROBLEM (its problem.json written here): every
 * file synced, the folder renamed to problems/ID. Returns 0, 1 when a
 * problem of that id is there already (DRAFT is dropped: the same package
 * is stored once), or -1 with ERR (DRAFT dropped). DRAFT is done with
 * either way. */
int sp_problem_draft_commit(const struct sp_problem_store *store, struct sp_problem_draft *draft,
			    const struct sp_problem *problem, struct sp_error *err);

/* Drop DRAFT and its files. Safe on a draft never begun, and twice. */
void sp_problem_draft_drop(struct sp_problem_draft *draft);

/* The problem ID into *PROBLEM. Returns 0, or -1 with ERR: ENOENT when
 * there is none (or ID is not an id), EINVAL when its problem.json is not
 * right. */
int sp_problem_store_load(const struct sp_problem_store *store, const char *id,
			  struct sp_problem *problem, struct sp_error *err);

/* Whether problem ID is in the store (its problem.json is there). */
bool sp_problem_store_has(const struct sp_problem_store *store, const char *id);

/* The file NAME ("data", "validator.box") of problem ID, open to read.
 * Returns its descriptor, or -1 with ERR (ENOENT: no such problem or
 * file). */
int sp_problem_store_open_file(const struct sp_problem_store *store, const char *id,
			       const char *name, struct sp_error *err);

/* The ids of every stored problem, in no order, into *IDS (a JSON array
 * of strings). Returns 0, or -1 with ERR. */
int sp_problem_store_ids(const struct sp_problem_store *store, json_t **ids, struct sp_error *err);

/* Remove problem ID: gone from problems/ at once; a judge that opened its
 * files reads them still. Returns 0, or -1 with ERR (ENOENT: none). */
int sp_problem_store_remove(const struct sp_problem_store *store, const char *id,
			    struct sp_error *err);

#endif
