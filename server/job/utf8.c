#include "utf8.h"

#include <stdint.h>
#include <string.h>

size_t sp_utf8_char_len(const unsigned char *p, size_t n)
{
	uint32_t cp, min;
	size_t len;

	if (n == 0)
		return 0;
	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		len = 2, cp = p[0] & 0x1f, min = 0x80;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		len = 3, cp = p[0] & 0x0f, min = 0x800;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		len = 4, cp = p[0] & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

bool sp_utf8_valid(const void *p, size_t n)
{
	const unsigned char *s = p;

	while (n > 0) {
		size_t k = sp_utf8_char_len(s, n);

		if (k == 0)
			return false;
		s += k;
		n -= k;
	}
	return true;
}

void sp_utf8_message(char *dst, size_t size, const char *text, size_t len)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t out = 0;

	for (size_t i = 0; i < len;) {
		size_t n = sp_utf8_char_len(s + i, len - i);

		if (n == 0 || s[i] == 0)
			n = 1;
		if (out + n >= size)
			break;
		if (n == 1 && (s[i] >= 0x80 || s[i] == 0))
			dst[out] = '?';
		else
			memcpy(dst + out, s + i, n);
		out += n;
		i += n;
	}
	dst[out] = '\0';
}

size_t sp_utf8_prefix(const char *s, size_t len, size_t max)
{
	if (len <= max)
		return len;
	while (max > 0 && ((unsigned char)s[max] & 0xc0) == 0x80)
		max--;
	return max;
}
