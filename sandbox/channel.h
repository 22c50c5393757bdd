/* The control socket between the supervisor and a cell: fixed messages,
 * file descriptors by SCM_RIGHTS, process ids by SCM_CREDENTIALS. */
#ifndef SANDPOOL_CHANNEL_H
#define SANDPOOL_CHANNEL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "sandbox/base/error.h"

#define SP_CHANNEL_PAYLOAD_MAX (60 * 1024)
#define SP_CHANNEL_FDS_MAX     4

enum sp_msg_type {
	SP_MSG_MAPS_DONE = 1, /* supervisor → cell: id maps are written */
	SP_MSG_READY,	      /* cell → supervisor: the sandbox is built */
	SP_MSG_ERROR,	      /* either way: payload is a struct sp_error */
	SP_MSG_WRITE_FILE,    /* supervisor → cell: copy fd into /box */
	SP_MSG_OK,	      /* cell → supervisor: the last command worked */
	SP_MSG_RUN,	      /* supervisor → cell: start a step; EXITED or ERROR answers */
	SP_MSG_KILL,	      /* supervisor → cell: kill the step's processes */
	SP_MSG_EXITED,	      /* cell → supervisor: all the step's processes are dead */
	SP_MSG_RESET,	      /* supervisor → cell: fresh /box, /tmp, /dev/shm */
	SP_MSG_PACK_BOX,      /* supervisor → cell: archive /box (payload: u64 bytes at
			       * most, 0 for the size of /box); OK with a memfd */
	SP_MSG_READ_FILE,     /* supervisor → cell: one file of /box (payload: its path
			       * and u64 bytes at most); OK with a memfd */
	SP_MSG_PREPARE,	      /* supervisor → cell: prepare the next step; no answer */
};

struct sp_msg {
	uint32_t type;
	uint32_t length;
	union {
		uint8_t bytes[SP_CHANNEL_PAYLOAD_MAX];
		uint64_t align_;
	} payload;
};

/* A message buffer on the heap: 60 KiB is too much for the stack of an
 * HTTP thread. free() it. */
struct sp_msg *sp_msg_new(void);

/* Make the socket pair (SOCK_SEQPACKET, close-on-exec). */
int sp_channel_pair(int fds[2], struct sp_error *err);

/* Send one message. FDS (may be NULL) travel by SCM_RIGHTS. */
int sp_channel_send(int sock, uint32_t type, const void *payload, size_t length, const int *fds,
		    size_t nfds, struct sp_error *err);

/* Receive one message. On input *nfds is the room in FDS, on output how many
 * arrived (close-on-exec). Returns 0, or -1 with err set; end of file is
 * errnum EPIPE. */
int sp_channel_recv(int sock, struct sp_msg *msg, int *fds, size_t *nfds, struct sp_error *err);

/* Send an error message carrying ERR. */
int sp_channel_send_error(int sock, const struct sp_error *error);

#endif
