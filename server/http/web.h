/* The playground page: a few static files read once at start-up and served
 * from memory at fixed paths, so that no request names a file. */
#ifndef SANDPOOL_WEB_H
#define SANDPOOL_WEB_H

#include <stddef.h>

#include "sandbox/base/error.h"

struct sp_web_file {
	const char *path;	  /* "/", "/app.js", "/style.css" */
	const char *name;	  /* in the web folder */
	const char *content_type; /* with its charset */
	char *data;		  /* NULL: not loaded */
	size_t length;
};

#define SP_WEB_FILES 3

struct sp_web {
	struct sp_web_file files[SP_WEB_FILES];
	char dir[4096]; /* where they came from */
};

/* Read the files. A missing folder leaves the playground off (NULL, ERR
 * says why): the API works without it. */
struct sp_web *sp_web_load(struct sp_error *err);

/* The file served at PATH, or NULL (WEB NULL: none). */
const struct sp_web_file *sp_web_find(const struct sp_web *web, const char *path);

void sp_web_free(struct sp_web *web);

#endif
