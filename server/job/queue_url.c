#include "queue_url.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hex.h"

#define SCHEME "redis://"

/* TEXT[0..LEN) percent-decoded into OUT. Returns 0, -1 when it does not fit
 * or holds a bad escape. */
static int decode(const char *text, size_t len, char *out, size_t size)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		char c = text[i];

		if (c == '%') {
			int hi = i + 2 < len ? sp_hex_digit(text[i + 1]) : -1;
			int lo = i + 2 < len ? sp_hex_digit(text[i + 2]) : -1;

			if (hi < 0 || lo < 0)
				return -1;
			c = (char)(hi * 16 + lo);
			i += 2;
		}
		if (c == '\0' || n + 1 >= size)
			return -1;
		out[n++] = c;
	}
	out[n] = '\0';
	return 0;
}

/* The USER:PASSWORD part (LEN bytes at TEXT). */
static int parse_credentials(const char *text, size_t len, struct sp_queue_url *url,
			     struct sp_error *err)
{
	const char *colon = memchr(text, ':', len);

	if (colon == NULL)
		return sp_error_set(err, EINVAL,
				    "queue URL: write the password as ':PASSWORD@' or "
				    "'USER:PASSWORD@'");
	if (decode(text, (size_t)(colon - text), url->user, sizeof(url->user)) < 0 ||
	    decode(colon + 1, len - (size_t)(colon - text) - 1, url->password,
		   sizeof(url->password)) < 0)
		return sp_error_set(err, EINVAL,
				    "queue URL: the user or password is too long or has a bad "
				    "%%-escape");
	return 0;
}

static int parse_number(const char *text, unsigned long max, unsigned long *value)
{
	char *end;

	if (*text < '0' || *text > '9')
		return -1;
	errno = 0;
	*value = strtoul(text, &end, 10);
	return *end != '\0' || errno != 0 || *value > max ? -1 : 0;
}

/* HOST[:PORT] (LEN bytes at TEXT). */
static int parse_host(const char *text, size_t len, struct sp_queue_url *url, struct sp_error *err)
{
	char buf[300];
	const char *host = buf, *port = NULL;
	unsigned long n;
	char *close;

	if (len == 0 || len >= sizeof(buf))
		return sp_error_set(err, EINVAL, "queue URL: a host is needed");
	memcpy(buf, text, len);
	buf[len] = '\0';
	if (buf[0] == '[') {
		close = strchr(buf, ']');
		if (close == NULL || (close[1] != '\0' && close[1] != ':'))
			return sp_error_set(err, EINVAL, "queue URL: an IPv6 host is '[ADDR]'");
		*close = '\0';
		host = buf + 1;
		port = close[1] == ':' ? close + 2 : NULL;
	} else if ((close = strchr(buf, ':')) != NULL) {
		*close = '\0';
		port = close + 1;
	}
	if (*host == '\0' || strlen(host) >= sizeof(url->host))
		return sp_error_set(err, EINVAL, "queue URL: a host is needed");
	snprintf(url->host, sizeof(url->host), "%s", host);
	url->port = 6379;
	if (port != NULL) {
		if (parse_number(port, 65535, &n) < 0 || n == 0)
			return sp_error_set(err, EINVAL, "queue URL: the port is 1 to 65535");
		url->port = (uint16_t)n;
	}
	return 0;
}

int sp_queue_url_parse(const char *text, struct sp_queue_url *url, struct sp_error *err)
{
	const char *rest, *at, *slash, *end;
	unsigned long db = 0;

	memset(url, 0, sizeof(*url));
	if (strncmp(text, SCHEME, strlen(SCHEME)) != 0)
		return sp_error_set(err, EINVAL,
				    "queue URL: want redis://[USER:PASSWORD@]HOST:PORT[/DB]");
	rest = text + strlen(SCHEME);
	slash = strchr(rest, '/');
	end = slash ? slash : rest + strlen(rest);
	at = memrchr(rest, '@', (size_t)(end - rest));
	if (at != NULL && parse_credentials(rest, (size_t)(at - rest), url, err) < 0)
		return -1;
	if (parse_host(at ? at + 1 : rest, (size_t)(end - (at ? at + 1 : rest)), url, err) < 0)
		return -1;
	if (slash != NULL && slash[1] != '\0' && parse_number(slash + 1, 1000000, &db) < 0)
		return sp_error_set(err, EINVAL, "queue URL: the database is a number");
	url->db = (unsigned)db;
	return 0;
}

void sp_queue_url_redacted(const char *text, char *out, size_t size)
{
	const char *rest =
	    strncmp(text, SCHEME, strlen(SCHEME)) == 0 ? text + strlen(SCHEME) : text;
	const char *slash = strchr(rest, '/');
	const char *at = memrchr(rest, '@', slash ? (size_t)(slash - rest) : strlen(rest));
	const char *colon = at ? memchr(rest, ':', (size_t)(at - rest)) : NULL;

	if (colon == NULL)
		snprintf(out, size, "%s", text);
	else
		snprintf(out, size, "%.*s:***%s", (int)(colon - text), text, at);
}
