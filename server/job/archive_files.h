/* An archive a client sent (Judge0's additional_files, a problem package),
 * held in memory, read into a list of files for /box: each a relative name,
 * its bytes and whether it is executable. Nothing is written anywhere; the
 * caller makes request files of the list (request.h).
 *
 * Formats, told by their first bytes and each taken only when the caller
 * allows it: zip ("PK\3\4", or "PK\5\6" for an empty one; read by its central
 * directory, entries stored or compressed by any method libarchive reads),
 * tar.gz (gzip's 1f 8b, with a tar inside) and plain tar (any other bytes a
 * tar reader takes: ustar, pax, GNU).
 *
 * Every entry's name, with any leading "./" dropped (and a directory's
 * trailing '/'), must follow the rules of a request's file names
 * (sp_request_name_problem(): relative, no empty, . or .. component, at most
 * SP_REQUEST_MAX_COMPONENTS components and SP_REQUEST_MAX_NAME bytes, each
 * valid for sp_box_name_valid()) and be valid UTF-8. Directories are checked
 * and dropped: a file brings its directories. Refused, naming the entry:
 * symbolic and hard links, devices, fifos and sockets; encrypted entries; a
 * name twice (directories aside) and a file where another entry needs a
 * directory ("a" and "a/b"); more files than the bound, or more directory
 * entries than that bound again; a file over its byte bound and files over
 * the total bound. Bytes are counted as they come out of the decompressor and
 * reading stops at the bound: a size an entry's header declares is only
 * checked against the bounds, never trusted. A tar.gz is first inflated
 * without being kept, to check its CRC and its length and that it inflates to
 * at most the total bound plus SP_ARCHIVE_ENTRY_OVERHEAD per entry allowed
 * (headers and padding): no gzip bomb reaches the tar reader. Any corruption
 * libarchive sees (a bad CRC, truncated data, a bad header) is refused too.
 * An archive with no file is an empty list. */
#ifndef SANDPOOL_ARCHIVE_FILES_H
#define SANDPOOL_ARCHIVE_FILES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sandbox/base/error.h"

/* Formats, or-ed together: which the caller takes. */
#define SP_ARCHIVE_ZIP	  0x1u
#define SP_ARCHIVE_TAR	  0x2u
#define SP_ARCHIVE_TAR_GZ 0x4u
#define SP_ARCHIVE_ANY	  (SP_ARCHIVE_ZIP | SP_ARCHIVE_TAR | SP_ARCHIVE_TAR_GZ)

/* What a tar's headers and padding may add to its files' bytes, per entry
 * allowed (files and directories), when a tar.gz is inflated. */
#define SP_ARCHIVE_ENTRY_OVERHEAD (8 * 1024)

struct sp_archive_limits {
	size_t max_files;	  /* files in the list; as many directory entries */
	uint64_t max_file_bytes;  /* bytes of one file */
	uint64_t max_total_bytes; /* bytes of all the files */
};

struct sp_archive_file {
	char *name;	 /* normalized relative path, NUL-terminated */
	uint8_t *data;	 /* LENGTH bytes, never NULL (an empty file has a byte) */
	size_t length;	 /* at most max_file_bytes */
	bool executable; /* an x bit of its mode was set */
};

struct sp_archive_files {
	struct sp_archive_file *files; /* in the archive's order */
	size_t count;
};

/* Read the archive DATA (SIZE bytes) in one of FORMATS into *OUT, every file
 * whole. Returns 0, or -1 with ERR filled and *OUT empty (no file of it kept).
 * ERR's message is UTF-8, at most about 240 bytes, and names the entry at
 * fault, fit for the client; its errnum tells the kind:
 *   EFBIG    over a bound (entries, a file's bytes, all bytes): 413;
 *   EPERM    an entry refused (its name, its kind, encrypted, twice): 400;
 *   EBADMSG  not an archive of FORMATS, or corrupt, or truncated: 400;
 *   ENOMEM   the server's own failure (out of memory): 500. */
int sp_archive_files_read(const void *data, size_t size, unsigned formats,
			  const struct sp_archive_limits *limits, struct sp_archive_files *out,
			  struct sp_error *err);

/* Free every file of LIST and empty it; safe on an empty list, and twice. */
void sp_archive_files_free(struct sp_archive_files *list);

#endif
