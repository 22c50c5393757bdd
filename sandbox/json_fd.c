#include "json_fd.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static json_t *fail(json_error_t *jerr, const char *text)
{
	memset(jerr, 0, sizeof(*jerr));
	jerr->line = -1;
	snprintf(jerr->text, sizeof(jerr->text), "%s", text);
	return NULL;
}

json_t *sp_json_load_fd(int fd, size_t flags, json_error_t *jerr)
{
	size_t len = 0, cap = 0;
	char *buf = NULL;
	json_t *doc;

	for (;;) {
		ssize_t n;

		if (len == cap) {
			char *bigger;

			if (cap >= SP_JSON_FD_MAX) {
				free(buf);
				return fail(jerr, "file too large");
			}
			cap = cap ? cap * 2 : 16384;
			bigger = realloc(buf, cap);
			if (bigger == NULL) {
				free(buf);
				return fail(jerr, "out of memory");
			}
			buf = bigger;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			free(buf);
			return fail(jerr, strerror(errno));
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	doc = json_loadb(buf ? buf : "", len, flags, jerr);
	free(buf);
	return doc;
}
