#include "json_depth.h"

void sp_json_scan_init(struct sp_json_scan *scan)
{
	*scan = (struct sp_json_scan){.values = 1};
}

/* One byte outside a string. */
static void structure(struct sp_json_scan *scan, char c)
{
	switch (c) {
	case '"':
		scan->in_string = true;
		break;
	case '[':
	case '{':
		scan->values++;
		if (++scan->depth > scan->max_depth)
			scan->max_depth = scan->depth;
		break;
	case ']':
	case '}':
		if (scan->depth > 0)
			scan->depth--;
		break;
	case ',':
	case ':':
		scan->values++;
		break;
	default:
		break;
	}
}

void sp_json_scan_feed(struct sp_json_scan *scan, const char *text, size_t length)
{
	for (size_t i = 0; i < length; i++) {
		char c = text[i];

		if (!scan->in_string)
			structure(scan, c);
		else if (scan->escaped)
			scan->escaped = false; /* the escaped character, whatever it is */
		else if (c == '\\')
			scan->escaped = true;
		else if (c == '"')
			scan->in_string = false;
	}
}
