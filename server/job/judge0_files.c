#include "judge0_files.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "archive_files.h"
#include "base64.h"
#include "entry.h"
#include "request.h"

static int refuse(json_t *errors, const char *message)
{
	json_t *list = json_object_get(errors, "additional_files");

	if (list == NULL) {
		list = json_array();
		if (json_object_set_new(errors, "additional_files", list) < 0)
			return -1;
	}
	json_array_append_new(list, json_string(message));
	return -1;
}

/* The name the source gets in /box. */
static int entry_of(const struct sp_language *lang, const char *source, struct sp_entry *entry)
{
	size_t len = 0;
	unsigned char *text = sp_base64_decode(source, strlen(source), &len);

	if (text == NULL && len > 0)
		return -1;
	sp_entry_of(lang, text ? (const char *)text : "", text ? len : 0, entry);
	free(text);
	return 0;
}

static json_t *file_json(const struct sp_archive_file *f)
{
	char *content = sp_base64_encode(f->data, f->length);
	json_t *out;

	if (content == NULL)
		return NULL;
	out = json_pack("{s:s, s:s, s:s, s:b}", "name", f->name, "content", content, "encoding",
			"base64", "executable", f->executable);
	free(content);
	return out;
}

int sp_judge0_files_add(json_t *files, const struct sp_language *lang, const char *source,
			const char *zip, uint64_t max_bytes, json_t *errors)
{
	struct sp_archive_limits limits = {.max_files = SP_REQUEST_MAX_FILES - 1,
					   .max_file_bytes = max_bytes,
					   .max_total_bytes = max_bytes};
	struct sp_archive_files list = {0};
	struct sp_error err = {0};
	struct sp_entry entry;
	unsigned char *bytes;
	size_t len = 0;
	int rc = 0;

	bytes = sp_base64_decode(zip, strlen(zip), &len);
	if (bytes == NULL || entry_of(lang, source, &entry) < 0) {
		free(bytes);
		return -1;
	}
	if (sp_archive_files_read(bytes, len, SP_ARCHIVE_ZIP, &limits, &list, &err) < 0) {
		free(bytes);
		return err.errnum == ENOMEM ? -1 : refuse(errors, err.message);
	}
	free(bytes);
	for (size_t i = 0; i < list.count && rc == 0; i++) {
		if (strcmp(list.files[i].name, entry.source) == 0)
			continue;
		if (json_array_append_new(files, file_json(&list.files[i])) < 0)
			rc = -1;
	}
	sp_archive_files_free(&list);
	return rc;
}
