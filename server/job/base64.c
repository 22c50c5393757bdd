#include "base64.h"

#include <errno.h>
#include <stdbool.h>
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

int sp_base64_digit(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Decode one quad Q into OUT; LAST allows padding. Returns the bytes, or -1. */
static int b64_quad(const char *q, bool last, unsigned char *out)
{
	int v[4], n = 4;

	for (int i = 0; i < 4; i++) {
		v[i] = sp_base64_digit((unsigned char)q[i]);
		if (v[i] < 0 && !(last && i >= 2 && q[i] == '=' && (i == 3 || q[3] == '=')))
			return -1;
		if (v[i] < 0 && n == 4)
			n = i;
	}
	if ((n == 2 && (v[1] & 0x0f) != 0) || (n == 3 && (v[2] & 0x03) != 0))
		return -1;
	out[0] = (unsigned char)(v[0] << 2 | v[1] >> 4);
	if (n > 2)
		out[1] = (unsigned char)(v[1] << 4 | v[2] >> 2);
	if (n > 3)
		out[2] = (unsigned char)(v[2] << 6 | v[3]);
	return n - 1;
}

unsigned char *sp_base64_decode(const char *text, size_t length, size_t *out_length)
{
	unsigned char *out;
	size_t used = 0;

	errno = 0;
	if (length % 4 != 0)
		return NULL;
	out = malloc(length / 4 * 3 + 1);
	if (out == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	for (size_t i = 0; i < length; i += 4) {
		int n = b64_quad(text + i, i + 4 == length, out + used);

		if (n < 0) {
			free(out);
			return NULL;
		}
		used += (size_t)n;
	}
	*out_length = used;
	return out;
}
