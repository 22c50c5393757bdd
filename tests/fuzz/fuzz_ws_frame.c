/* libFuzzer: arbitrary bytes as what a WebSocket client sends, through the
 * frame reader (server/http_ws_frame.h). The first byte picks the limit of a
 * message (1 to 256 bytes... or 64 KiB) and the size of the pieces the rest
 * is fed in.
 *
 * Checked for every input, besides what ASan and UBSan see: every call takes
 * at most what it is given and, when it finds nothing whole, all of it; a
 * message is at most the limit and ends with a NUL, a control payload at
 * most 125 bytes; an error closes with 1002 or 1007 and stays; the items
 * are the same whatever the pieces (here: all at once, and in the pieces
 * the first byte says). */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "server/http/http_ws_frame.h"
#include "tests/fuzz/fuzz_util.h"

#define ITEMS_MAX 4096

/* What the reader found, to compare two ways of feeding it. */
struct item {
	enum sp_ws_in_kind kind;
	unsigned code;
	size_t length;
	uint32_t hash;
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

static uint32_t hash(const char *data, size_t len)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (uint8_t)data[i]) * 16777619u;
	return h;
}

static void check_item(const struct sp_ws_in *in, size_t max)
{
	switch (in->kind) {
	case SP_WS_IN_MESSAGE:
		if (in->length > max || in->data[in->length] != '\0')
			fuzz_die("a message of %zu bytes (limit %zu)", in->length, max);
		if (in->opcode != SP_WS_TEXT && in->opcode != SP_WS_BINARY)
			fuzz_die("a message of opcode %d", in->opcode);
		break;
	case SP_WS_IN_PING:
	case SP_WS_IN_PONG:
	case SP_WS_IN_CLOSE:
		if (in->length > SP_WS_CONTROL_MAX)
			fuzz_die("a control payload of %zu bytes", in->length);
		break;
	case SP_WS_IN_ERROR:
		if ((in->code != 1002 && in->code != 1007) || in->why == NULL)
			fuzz_die("an error with code %u", in->code);
		break;
	default:
		break;
	}
}

/* Feed DATA in pieces of STEP bytes; the items, at most ITEMS_MAX. */
static size_t feed(const uint8_t *data, size_t size, size_t step, size_t max, struct item *items)
{
	struct sp_ws_reader r;
	size_t count = 0;
	bool failed = false;

	sp_ws_reader_init(&r, max);
	for (size_t pos = 0; pos < size && !failed;) {
		size_t piece = size - pos < step ? size - pos : step;
		struct sp_ws_in in;
		size_t taken = sp_ws_read(&r, data + pos, piece, &in);

		if (taken > piece || (in.kind == SP_WS_IN_NONE && taken != piece))
			fuzz_die("took %zu of %zu (item %d)", taken, piece, in.kind);
		pos += taken;
		if (in.kind == SP_WS_IN_NONE)
			continue;
		check_item(&in, max);
		if (count < ITEMS_MAX)
			items[count++] =
			    (struct item){in.kind, in.code, in.length,
					  hash(in.data ? in.data : "", in.data ? in.length : 0)};
		failed = in.kind == SP_WS_IN_ERROR;
	}
	if (failed) {
		struct sp_ws_in in;

		if (sp_ws_read(&r, data, size, &in) != 0 || in.kind != SP_WS_IN_ERROR)
			fuzz_die("a failed reader went on");
	}
	sp_ws_reader_free(&r);
	return count;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct item whole[ITEMS_MAX], pieces[ITEMS_MAX];
	size_t max, step, a, b;

	if (size < 1)
		return 0;
	max = data[0] < 255 ? (size_t)(data[0] % 128) * 2 + 1 : 65536;
	step = (size_t)(data[0] % 7) + 1;
	a = feed(data + 1, size - 1, size, max, whole);
	b = feed(data + 1, size - 1, step, max, pieces);
	if (a != b)
		fuzz_die("%zu items at once, %zu in pieces of %zu", a, b, step);
	for (size_t i = 0; i < a; i++)
		if (memcmp(&whole[i], &pieces[i], sizeof(whole[i])) != 0)
			fuzz_die("item %zu differs in pieces of %zu", i, step);
	return 0;
}
