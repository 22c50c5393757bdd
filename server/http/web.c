#include "web.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server/job/paths.h"

#define MAX_FILE (1024 * 1024)

static const struct sp_web_file layout[SP_WEB_FILES] = {
    {"/", "index.html", "text/html; charset=utf-8", NULL, 0},
    {"/app.js", "app.js", "text/javascript; charset=utf-8", NULL, 0},
    {"/style.css", "style.css", "text/css; charset=utf-8", NULL, 0},
};

static int read_file(const char *dir, struct sp_web_file *f, struct sp_error *err)
{
	char path[4200];
	struct stat st;
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%s", dir, f->name);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return sp_error_set(err, errno, "open %s", path);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > MAX_FILE) {
		close(fd);
		return sp_error_set(err, EINVAL, "%s is not a file of at most 1 MiB", path);
	}
	f->data = malloc((size_t)st.st_size + 1);
	n = f->data ? read(fd, f->data, (size_t)st.st_size) : -1;
	close(fd);
	if (n != (ssize_t)st.st_size)
		return sp_error_set(err, EIO, "read %s", path);
	f->length = (size_t)n;
	return 0;
}

struct sp_web *sp_web_load(struct sp_error *err)
{
	struct sp_web *web = calloc(1, sizeof(*web));

	if (web == NULL) {
		sp_error_set(err, ENOMEM, "playground");
		return NULL;
	}
	memcpy(web->files, layout, sizeof(layout));
	if (sp_web_dir(web->dir, sizeof(web->dir), err) < 0) {
		free(web);
		return NULL;
	}
	for (size_t i = 0; i < SP_WEB_FILES; i++) {
		if (read_file(web->dir, &web->files[i], err) < 0) {
			sp_web_free(web);
			return NULL;
		}
	}
	return web;
}

const struct sp_web_file *sp_web_find(const struct sp_web *web, const char *path)
{
	for (size_t i = 0; web != NULL && i < SP_WEB_FILES; i++)
		if (web->files[i].data != NULL && strcmp(web->files[i].path, path) == 0)
			return &web->files[i];
	return NULL;
}

void sp_web_free(struct sp_web *web)
{
	if (web == NULL)
		return;
	for (size_t i = 0; i < SP_WEB_FILES; i++)
		free(web->files[i].data);
	free(web);
}
