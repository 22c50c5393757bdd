/* A message for a client: message.h. */
#include "message.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "utf8.h"

struct sp_message sp_message_in(char *buf, size_t size)
{
	buf[0] = '\0';
	return (struct sp_message){.buf = buf, .size = size, .len = 0};
}

void sp_message_add(struct sp_message *m, const char *s, size_t n)
{
	if (n >= m->size - m->len)
		return;
	memcpy(m->buf + m->len, s, n);
	m->len += n;
	m->buf[m->len] = '\0';
}

void sp_message_printf(struct sp_message *m, const char *format, ...)
{
	char text[512];
	va_list ap;
	int n;

	va_start(ap, format);
	n = vsnprintf(text, sizeof(text), format, ap);
	va_end(ap);
	if (n < 0)
		return;
	/* cut to what is left: an ASCII cut is still UTF-8 */
	if ((size_t)n >= sizeof(text))
		n = (int)sizeof(text) - 1;
	if ((size_t)n >= m->size - m->len)
		n = (int)(m->size - m->len - 1);
	sp_message_add(m, text, (size_t)n);
}

/* The escape for byte C, shown as \n, \r, \t, \\ or \xNN; its length. */
static size_t escape_byte(unsigned char c, char esc[5])
{
	switch (c) {
	case '\n':
		return (size_t)snprintf(esc, 5, "\\n");
	case '\r':
		return (size_t)snprintf(esc, 5, "\\r");
	case '\t':
		return (size_t)snprintf(esc, 5, "\\t");
	case '\\':
		return (size_t)snprintf(esc, 5, "\\\\");
	}
	return (size_t)snprintf(esc, 5, "\\x%02x", c);
}

/* The length of the character at P (N bytes left) when it is shown as it
 * is: valid UTF-8 and not a control character or '\\'; else 0. */
static size_t shown_len(const unsigned char *p, size_t n)
{
	size_t len = sp_utf8_char_len(p, n);

	if (len == 1)
		return p[0] >= 0x20 && p[0] != 0x7f && p[0] != '\\';
	if (len == 2 && p[0] == 0xc2 && p[1] < 0xa0)
		return 0;
	return len;
}

void sp_message_quote(struct sp_message *m, const char *text, size_t len, char q, size_t max)
{
	const unsigned char *p = (const unsigned char *)text;
	size_t shown = 0, i = 0;

	if (q != 0)
		sp_message_add(m, &q, 1);
	while (i < len) {
		char esc[5];
		const char *unit = text + i;
		size_t unit_len, n = shown_len(p + i, len - i);

		if (n > 0) {
			unit_len = n;
		} else {
			n = 1;
			unit_len = escape_byte(p[i], esc);
			unit = esc;
		}
		if (shown + unit_len > max)
			break;
		sp_message_add(m, unit, unit_len);
		shown += unit_len;
		i += n;
	}
	if (q != 0)
		sp_message_add(m, &q, 1);
	if (i < len)
		sp_message_add(m, "...", 3);
}
