#include "json_fd.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "read_all.h"

/* jansson's error for a file that could not be read. */
static void read_failed(json_error_t *jerr, const struct sp_error *err)
{
	memset(jerr, 0, sizeof(*jerr));
	jerr->line = -1;
	snprintf(jerr->text, sizeof(jerr->text), "%s",
		 err->errnum == EFBIG	 ? "file too large"
		 : err->errnum == ENOMEM ? "out of memory"
					 : strerror(err->errnum));
}

json_t *sp_json_load_fd(int fd, size_t flags, json_error_t *jerr)
{
	struct sp_error err = {0};
	char *text = NULL;
	size_t length = 0;
	json_t *doc;

	if (sp_read_all(fd, SP_JSON_FD_MAX, &text, &length, &err) < 0) {
		read_failed(jerr, &err);
		return NULL;
	}
	doc = json_loadb(text, length, flags, jerr);
	free(text);
	return doc;
}
