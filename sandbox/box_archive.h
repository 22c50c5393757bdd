/* An archive of the regular files a step left in /box, so that what one cell
 * compiled can be written into other cells. The writer runs in the cell, the
 * reader in the supervisor.
 *
 * Format, every integer little-endian:
 *
 *   "SPBOX1\0\0"                                   8 bytes of magic
 *   per file:   u32 name length, u32 mode, u64 size,  a 16-byte header
 *               name (no NUL), then size bytes of content
 *   end:        u32 0, u32 0, u64 number of files     nothing may follow
 *
 * Names are relative paths valid for sp_box_path_valid(); modes hold only
 * bits of 0755. Directories have no entries of their own: writing a file
 * back makes its parent directories, and an empty directory is lost. */
#ifndef SANDPOOL_BOX_ARCHIVE_H
#define SANDPOOL_BOX_ARCHIVE_H

#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "sandbox/base/error.h"

#define SP_BOX_ARCHIVE_MAGIC	 "SPBOX1\0\0"
#define SP_BOX_ARCHIVE_MAGIC_LEN 8
#define SP_BOX_ARCHIVE_HEADER	 16
#define SP_BOX_FILES_MAX	 4096

/* F_ADD_SEALS for a finished memfd: nothing can change it any more. */
#define SP_BOX_SEALS (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL)

/* A new memfd (close-on-exec, sealable) called NAME. */
int sp_box_memfd_new(const char *name, struct sp_error *err);

/* Seal FD with SP_BOX_SEALS and rewind it to offset 0. */
int sp_box_memfd_seal(int fd, struct sp_error *err);

/* ---- writer ------------------------------------------------------------- */

struct sp_box_writer {
	int fd;		     /* the archive, written at its file offset */
	size_t files;	     /* entries written so far */
	uint64_t data_bytes; /* content written so far */
	uint64_t data_max;   /* bound on data_bytes */
};

/* Start an archive on FD (empty, at offset 0): write the magic. Content is
 * bounded by DATA_MAX bytes in all (EFBIG beyond). */
int sp_box_archive_begin(struct sp_box_writer *w, int fd, uint64_t data_max, struct sp_error *err);

/* Add NAME with MODE (& 0755) and the first SIZE bytes of SRC, read from
 * offset 0 whatever SRC's own offset. More than SP_BOX_FILES_MAX files is
 * EMFILE; a file shorter than SIZE is EIO. */
int sp_box_archive_add(struct sp_box_writer *w, const char *name, mode_t mode, int src,
		       uint64_t size, struct sp_error *err);

/* Write the end record. */
int sp_box_archive_end(struct sp_box_writer *w, struct sp_error *err);

/* ---- reader ------------------------------------------------------------- */

/* FD is a sealed memfd with the content. sp_cell_write_file() copies a file
 * from its start whatever its offset, so one FD may go into many cells. */
struct sp_box_file {
	char *name;
	int fd;
	mode_t mode;
};

/* Split ARCHIVE_FD (read from offset 0, its own offset untouched) into
 * files, one memfd each: as many descriptors as files. Every name is checked
 * with sp_box_path_valid(); any malformed archive (bad magic, truncated, a
 * length past the end, a bad name or mode, a duplicate name, a name that is
 * also another's directory, more than SP_BOX_FILES_MAX entries, anything
 * after the end record) is an error EBADMSG with a message. On error
 * *FILES is NULL and *COUNT 0. */
int sp_box_archive_read(int archive_fd, struct sp_box_file **files, size_t *count,
			struct sp_error *err);

void sp_box_files_free(struct sp_box_file *files, size_t count);

#endif
