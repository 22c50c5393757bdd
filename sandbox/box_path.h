/* The names a file may have in /box: what a request may write there, what
 * an archive of /box may hold, what may be read back out of it. The cell
 * and the box archive both follow these rules, and the server checks a
 * request's files against them before any cell sees them. */
#ifndef SANDPOOL_BOX_PATH_H
#define SANDPOOL_BOX_PATH_H

#include <stdbool.h>

/* The longest relative path sp_box_path_valid() takes, in bytes. */
#define SP_BOX_PATH_MAX 1024
/* The longest component, in bytes, and the most components of a path. */
#define SP_BOX_NAME_MAX	 255
#define SP_BOX_DEPTH_MAX 16

/* A file name for /box: one path component, printable, not . or .. */
bool sp_box_name_valid(const char *name);

/* A relative path under /box: 1 to SP_BOX_DEPTH_MAX valid components joined
 * by '/'. */
bool sp_box_path_valid(const char *path);

#endif
