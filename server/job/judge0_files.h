/* Judge0's additional_files: a zip whose files go into /box beside the
 * submission's source, as Judge0 unpacks it there (unzip -n: a file of the
 * source's name stays the source). */
#ifndef SANDPOOL_JUDGE0_FILES_H
#define SANDPOOL_JUDGE0_FILES_H

#include <jansson.h>
#include <stdint.h>

#include "language.h"

/* Append to FILES (a request's "files", the source first) the files of the
 * zip ZIP (strict base64), at most MAX_BYTES in all, but the one named as
 * the entry of the source SOURCE (strict base64) of LANG. Returns 0, or -1
 * with the reason added to ERRORS' "additional_files" (a bad or hostile
 * archive), or -1 alone when out of memory. */
int sp_judge0_files_add(json_t *files, const struct sp_language *lang, const char *source,
			const char *zip, uint64_t max_bytes, json_t *errors);

#endif
