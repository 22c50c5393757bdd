/* RFC 6455 framing, without I/O: a reader that turns a client's bytes into
 * messages, control frames and protocol errors, and the headers and close
 * payloads of the server's own frames.
 *
 * The reader holds a control frame's payload (125 bytes at most) inline and
 * a data message in one heap buffer up to its max_message bytes; a message
 * beyond that is read past without being kept, and reported as too large
 * once its last fragment is in. */
#ifndef SANDPOOL_HTTP_WS_FRAME_H
#define SANDPOOL_HTTP_WS_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum sp_ws_opcode {
	SP_WS_CONTINUATION = 0x0,
	SP_WS_TEXT = 0x1,
	SP_WS_BINARY = 0x2,
	SP_WS_CLOSE = 0x8,
	SP_WS_PING = 0x9,
	SP_WS_PONG = 0xa,
};

/* Close status codes (RFC 6455 §7.4.1). */
enum sp_ws_status {
	SP_WS_NORMAL = 1000,
	SP_WS_GOING_AWAY = 1001,
	SP_WS_PROTOCOL_ERROR = 1002,
	SP_WS_NO_STATUS = 1005, /* a close without a code: never sent */
	SP_WS_INVALID_DATA = 1007,
	SP_WS_POLICY = 1008,
	SP_WS_TOO_BIG = 1009,
	SP_WS_INTERNAL_ERROR = 1011,
};

#define SP_WS_HEADER_MAX  14  /* 2 + 8 (length) + 4 (mask) */
#define SP_WS_CONTROL_MAX 125 /* a control frame's payload */

/* What the reader found. */
enum sp_ws_in_kind {
	SP_WS_IN_NONE,	    /* nothing whole yet: every byte was taken */
	SP_WS_IN_MESSAGE,   /* a whole text or binary message */
	SP_WS_IN_TOO_LARGE, /* a message over max_message ended; nothing of it kept */
	SP_WS_IN_PING,
	SP_WS_IN_PONG,
	SP_WS_IN_CLOSE,
	SP_WS_IN_ERROR, /* a protocol error: close with .code; the reader is done */
};

struct sp_ws_in {
	enum sp_ws_in_kind kind;
	enum sp_ws_opcode opcode; /* a message's: text or binary */
	/* A message (NUL after it) or a control payload; valid until the next
	 * call of sp_ws_read. */
	const char *data;
	size_t length;
	unsigned code;	 /* CLOSE: the peer's status (1005: none); ERROR: ours */
	const char *why; /* ERROR: what was wrong (static text) */
};

struct sp_ws_reader {
	size_t max_message;
	/* the frame being read */
	uint8_t head[SP_WS_HEADER_MAX];
	size_t head_len;
	bool in_payload;
	bool fin;
	enum sp_ws_opcode opcode;
	uint8_t mask[4];
	uint64_t length, done;
	uint8_t control[SP_WS_CONTROL_MAX + 1];
	/* the data message, over one or more frames */
	bool in_message;
	bool too_large;
	enum sp_ws_opcode message_opcode;
	char *message;
	size_t message_len;
	bool handed_out; /* MESSAGE was returned: free it on the next call */
	bool failed;
	const char *why;
};

void sp_ws_reader_init(struct sp_ws_reader *r, size_t max_message);
void sp_ws_reader_free(struct sp_ws_reader *r);

/* Take up to LEN bytes of IN. Returns how many were taken and fills OUT:
 * an item as soon as one is whole (the rest of IN is for the next call), or
 * SP_WS_IN_NONE when all of IN went into an unfinished frame. After an
 * SP_WS_IN_ERROR every call returns the same error and takes nothing. */
size_t sp_ws_read(struct sp_ws_reader *r, const uint8_t *in, size_t len, struct sp_ws_in *out);

/* The header of a server frame (FIN set, not masked) of OPCODE with LENGTH
 * bytes of payload, into OUT. Returns its size (2, 4 or 10). */
size_t sp_ws_header(uint8_t out[SP_WS_HEADER_MAX], enum sp_ws_opcode opcode, uint64_t length);

/* A close payload: CODE then REASON (cut to fit 125 bytes on a character
 * boundary), into OUT. SP_WS_NO_STATUS gives an empty payload. Returns its
 * size. */
size_t sp_ws_close_payload(uint8_t out[SP_WS_CONTROL_MAX], unsigned code, const char *reason);

/* May a peer send CODE in a close frame? */
bool sp_ws_close_code_valid(unsigned code);

#endif
