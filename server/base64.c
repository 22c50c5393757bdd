#include "base64.h"

#include <stdint.h>
#include <stdlib.h>

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *sp_base64_encode(const unsigned char *data, size_t length)
{
	size_t out_len = (length + 2) / 3 * 4;
	char *out = malloc(out_len + 1);
	size_t o = 0;

	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < length; i += 3) {
		uint32_t chunk = (uint32_t)data[i] << 16;
		size_t left = length - i;

		if (left > 1)
			chunk |= (uint32_t)data[i + 1] << 8;
		if (left > 2)
			chunk |= data[i + 2];
		out[o++] = alphabet[(chunk >> 18) & 63];
		out[o++] = alphabet[(chunk >> 12) & 63];
		out[o++] = left > 1 ? alphabet[(chunk >> 6) & 63] : '=';
		out[o++] = left > 2 ? alphabet[chunk & 63] : '=';
	}
	out[o] = '\0';
	return out;
}
