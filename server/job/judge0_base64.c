#include "judge0_base64.h"

#include <stdlib.h>
#include <string.h>

#include "base64.h"

#define LINE 60

char *sp_judge0_base64_encode(const unsigned char *data, size_t length)
{
	char *flat = sp_base64_encode(data, length), *out;
	size_t n, lines, o = 0;

	if (flat == NULL)
		return NULL;
	n = strlen(flat);
	lines = (n + LINE - 1) / LINE;
	out = malloc(n + lines + 1);
	if (out != NULL) {
		for (size_t i = 0; i < n; i += LINE) {
			size_t take = n - i < LINE ? n - i : LINE;

			memcpy(out + o, flat + i, take);
			o += take;
			out[o++] = '\n';
		}
		out[o] = '\0';
	}
	free(flat);
	return out;
}

unsigned char *sp_judge0_base64_decode(const char *text, size_t length, size_t *out_length)
{
	unsigned char *out = malloc(length / 4 * 3 + 4);
	unsigned long group = 0;
	size_t n = 0, have = 0;

	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < length; i++) {
		int v = sp_base64_digit((unsigned char)text[i]);

		if (v < 0 && text[i] == '=' && have >= 2)
			break;
		if (v < 0)
			continue;
		group = group << 6 | (unsigned long)v;
		if (++have == 4) {
			out[n++] = (unsigned char)(group >> 16);
			out[n++] = (unsigned char)(group >> 8);
			out[n++] = (unsigned char)group;
			group = 0;
			have = 0;
		}
	}
	if (have == 2) {
		out[n++] = (unsigned char)(group >> 4);
	} else if (have == 3) {
		out[n++] = (unsigned char)(group >> 10);
		out[n++] = (unsigned char)(group >> 2);
	}
	out[n] = '\0';
	*out_length = n;
	return out;
}
