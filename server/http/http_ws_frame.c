#include "http_ws_frame.h"

#include <stdlib.h>
#include <string.h>

#include "server/job/utf8.h"

void sp_ws_reader_init(struct sp_ws_reader *r, size_t max_message)
{
	memset(r, 0, sizeof(*r));
	r->max_message = max_message;
}

static void drop_message(struct sp_ws_reader *r)
{
	free(r->message);
	r->message = NULL;
	r->message_len = 0;
}

void sp_ws_reader_free(struct sp_ws_reader *r)
{
	drop_message(r);
}

static bool is_control(unsigned opcode)
{
	return (opcode & 0x8) != 0;
}

static bool known_opcode(unsigned opcode)
{
	switch (opcode) {
	case SP_WS_CONTINUATION:
	case SP_WS_TEXT:
	case SP_WS_BINARY:
	case SP_WS_CLOSE:
	case SP_WS_PING:
	case SP_WS_PONG:
		return true;
	default:
		return false;
	}
}

static size_t fail(struct sp_ws_reader *r, const char *why, size_t taken, struct sp_ws_in *out)
{
	r->failed = true;
	r->why = why;
	*out = (struct sp_ws_in){.kind = SP_WS_IN_ERROR, .code = SP_WS_PROTOCOL_ERROR, .why = why};
	return taken;
}

/* What is wrong with the first two bytes of a frame, or NULL. */
static const char *check_start(const struct sp_ws_reader *r, uint8_t b0, uint8_t b1)
{
	unsigned opcode = b0 & 0x0f;

	if ((b0 & 0x70) != 0)
		return "reserved bits set";
	if (!known_opcode(opcode))
		return "unknown opcode";
	if ((b1 & 0x80) == 0)
		return "a client's frame must be masked";
	if (is_control(opcode) && (b0 & 0x80) == 0)
		return "a fragmented control frame";
	if (is_control(opcode) && (b1 & 0x7f) > SP_WS_CONTROL_MAX)
		return "a control frame over 125 bytes";
	if (opcode == SP_WS_CONTINUATION && !r->in_message)
		return "a continuation frame without a message";
	if ((opcode == SP_WS_TEXT || opcode == SP_WS_BINARY) && r->in_message)
		return "a new message inside a fragmented one";
	return NULL;
}

/* The header's size, known from its first two bytes. */
static size_t header_size(uint8_t b1)
{
	unsigned len7 = b1 & 0x7f;

	return 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0) + 4;
}

static uint64_t header_length(const uint8_t *h)
{
	unsigned len7 = h[1] & 0x7f;
	uint64_t n = 0;

	if (len7 < 126)
		return len7;
	for (size_t i = 0; i < (len7 == 126 ? 2u : 8u); i++)
		n = (n << 8) | h[2 + i];
	return n;
}

/* A data frame starts: make room for its payload, or read past the
 * message when it is too large. */
static void start_data(struct sp_ws_reader *r)
{
	char *grown;

	if (r->opcode != SP_WS_CONTINUATION) {
		r->in_message = true;
		r->too_large = false;
		r->message_opcode = r->opcode;
	}
	if (r->too_large)
		return;
	if (r->length > r->max_message - r->message_len) {
		r->too_large = true;
		drop_message(r);
		return;
	}
	grown = realloc(r->message, r->message_len + (size_t)r->length + 1);
	if (grown == NULL) {
		r->too_large = true;
		drop_message(r);
		return;
	}
	r->message = grown;
}

/* The header in r->head is whole: check and enter the payload. */
static const char *start_payload(struct sp_ws_reader *r)
{
	size_t size = r->head_len;

	r->fin = (r->head[0] & 0x80) != 0;
	r->opcode = r->head[0] & 0x0f;
	r->length = header_length(r->head);
	if (r->length >> 63)
		return "a frame length with its top bit set";
	memcpy(r->mask, r->head + size - 4, 4);
	r->done = 0;
	r->in_payload = true;
	if (!is_control(r->opcode))
		start_data(r);
	return NULL;
}

/* Copy (unmasked) up to LEN payload bytes to where they go. */
static size_t take_payload(struct sp_ws_reader *r, const uint8_t *in, size_t len)
{
	uint64_t left = r->length - r->done;
	size_t n = left < len ? (size_t)left : len;
	uint8_t *to = NULL;

	if (is_control(r->opcode))
		to = r->control + r->done;
	else if (!r->too_large)
		to = (uint8_t *)r->message + r->message_len + r->done;
	if (to != NULL)
		for (size_t i = 0; i < n; i++)
			to[i] = in[i] ^ r->mask[(r->done + i) & 3];
	r->done += n;
	return n;
}

/* A whole close frame: its code and reason, or a protocol error. */
static void end_close(struct sp_ws_reader *r, struct sp_ws_in *out)
{
	size_t n = (size_t)r->length;

	out->kind = SP_WS_IN_CLOSE;
	out->data = (const char *)r->control;
	out->length = n;
	out->code = SP_WS_NO_STATUS;
	if (n == 0)
		return;
	out->code = ((unsigned)r->control[0] << 8) | r->control[1];
	if (n == 1 || !sp_ws_close_code_valid(out->code)) {
		r->failed = true;
		r->why = n == 1 ? "a close payload of one byte" : "an invalid close code";
		*out = (struct sp_ws_in){
		    .kind = SP_WS_IN_ERROR, .code = SP_WS_PROTOCOL_ERROR, .why = r->why};
		return;
	}
	if (!sp_utf8_valid(r->control + 2, n - 2)) {
		r->failed = true;
		r->why = "a close reason that is not UTF-8";
		*out = (struct sp_ws_in){
		    .kind = SP_WS_IN_ERROR, .code = SP_WS_INVALID_DATA, .why = r->why};
	}
}

/* The frame's payload is in: an item, or SP_WS_IN_NONE for a fragment. */
static void end_frame(struct sp_ws_reader *r, struct sp_ws_in *out)
{
	r->in_payload = false;
	r->head_len = 0;
	*out = (struct sp_ws_in){.kind = SP_WS_IN_NONE};
	if (is_control(r->opcode))
		r->control[r->length] = '\0';
	switch (r->opcode) {
	case SP_WS_PING:
	case SP_WS_PONG:
		out->kind = r->opcode == SP_WS_PING ? SP_WS_IN_PING : SP_WS_IN_PONG;
		out->data = (const char *)r->control;
		out->length = (size_t)r->length;
		return;
	case SP_WS_CLOSE:
		end_close(r, out);
		return;
	default:
		break;
	}
	if (!r->too_large)
		r->message_len += (size_t)r->length;
	if (!r->fin)
		return;
	r->in_message = false;
	if (r->too_large) {
		out->kind = SP_WS_IN_TOO_LARGE;
		return;
	}
	r->message[r->message_len] = '\0';
	out->kind = SP_WS_IN_MESSAGE;
	out->opcode = r->message_opcode;
	out->data = r->message;
	out->length = r->message_len;
	r->handed_out = true;
}

/* Gather header bytes; NULL and *TAKEN when fine, else what is wrong. */
static const char *take_header(struct sp_ws_reader *r, const uint8_t *in, size_t len, size_t *taken)
{
	size_t want = r->head_len < 2 ? 2 : header_size(r->head[1]);

	*taken = 0;
	while (*taken < len && r->head_len < want) {
		r->head[r->head_len++] = in[(*taken)++];
		if (r->head_len == 2) {
			const char *why = check_start(r, r->head[0], r->head[1]);

			if (why != NULL)
				return why;
			want = header_size(r->head[1]);
		}
	}
	if (r->head_len == want)
		return start_payload(r);
	return NULL;
}

size_t sp_ws_read(struct sp_ws_reader *r, const uint8_t *in, size_t len, struct sp_ws_in *out)
{
	size_t used = 0;

	if (r->handed_out) {
		r->handed_out = false;
		drop_message(r);
	}
	if (r->failed)
		return fail(r, r->why, 0, out);
	*out = (struct sp_ws_in){.kind = SP_WS_IN_NONE};
	while (used < len || (r->in_payload && r->done == r->length)) {
		if (!r->in_payload) {
			size_t n;
			const char *why = take_header(r, in + used, len - used, &n);

			used += n;
			if (why != NULL)
				return fail(r, why, used, out);
			if (!r->in_payload)
				break;
		}
		used += take_payload(r, in + used, len - used);
		if (r->done < r->length)
			break;
		end_frame(r, out);
		if (out->kind != SP_WS_IN_NONE)
			return used;
	}
	return used;
}

size_t sp_ws_header(uint8_t out[SP_WS_HEADER_MAX], enum sp_ws_opcode opcode, uint64_t length)
{
	size_t n = 2;

	out[0] = 0x80 | (uint8_t)opcode;
	if (length < 126) {
		out[1] = (uint8_t)length;
	} else if (length <= 0xffff) {
		out[1] = 126;
		out[2] = (uint8_t)(length >> 8);
		out[3] = (uint8_t)length;
		n = 4;
	} else {
		out[1] = 127;
		for (int i = 0; i < 8; i++)
			out[2 + i] = (uint8_t)(length >> (56 - 8 * i));
		n = 10;
	}
	return n;
}

size_t sp_ws_close_payload(uint8_t out[SP_WS_CONTROL_MAX], unsigned code, const char *reason)
{
	size_t n = 2, len = reason ? strlen(reason) : 0;

	if (code == SP_WS_NO_STATUS)
		return 0;
	out[0] = (uint8_t)(code >> 8);
	out[1] = (uint8_t)code;
	while (len > 0) {
		size_t k = sp_utf8_char_len((const unsigned char *)reason, len);

		if (k == 0 || n + k > SP_WS_CONTROL_MAX)
			break;
		memcpy(out + n, reason, k);
		n += k;
		reason += k;
		len -= k;
	}
	return n;
}

bool sp_ws_close_code_valid(unsigned code)
{
	if (code >= 3000 && code <= 4999)
		return true;
	return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1011);
}
