#include "checker.h"

#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "message.h"
#include "utf8.h"

/* Bytes of one side shown in a message, escapes included. */
#define QUOTE_MAX 40
/* A longer token is never read as a number: it is compared as a string. */
#define NUMBER_MAX 64

static const char *const kind_names[] = {
    [SP_CHECKER_EXACT] = "exact",
    [SP_CHECKER_LINES] = "lines",
    [SP_CHECKER_TOKENS] = "tokens",
    [SP_CHECKER_FLOAT] = "float",
};

int sp_checker_kind_from_string(const char *name, enum sp_checker_kind *kind)
{
	if (name == NULL)
		return -1;
	for (size_t i = 0; i < sizeof(kind_names) / sizeof(kind_names[0]); i++) {
		if (strcmp(name, kind_names[i]) == 0) {
			*kind = (enum sp_checker_kind)i;
			return 0;
		}
	}
	return -1;
}

const char *sp_checker_kind_to_string(enum sp_checker_kind kind)
{
	switch (kind) {
	case SP_CHECKER_EXACT:
	case SP_CHECKER_LINES:
	case SP_CHECKER_TOKENS:
	case SP_CHECKER_FLOAT:
		return kind_names[kind];
	}
	return "?";
}

/* ---- bytes ---- */

struct span {
	const char *p;
	size_t len;
};

/* A cursor over one side: tokens or lines are taken from POS up to LEN. */
struct walk {
	const char *p;
	size_t len;
	size_t pos;
};

/* What isspace() is in the "C" locale: space, \t, \n, \v, \f, \r. */
static bool is_space(char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r');
}

static bool span_equal(struct span a, struct span b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

static bool next_token(struct walk *w, struct span *tok)
{
	size_t start;

	while (w->pos < w->len && is_space(w->p[w->pos]))
		w->pos++;
	if (w->pos == w->len)
		return false;
	start = w->pos;
	while (w->pos < w->len && !is_space(w->p[w->pos]))
		w->pos++;
	tok->p = w->p + start;
	tok->len = w->pos - start;
	return true;
}

/* The next line without its '\n' and its trailing whitespace (which takes a
 * '\r' of a CRLF with it). */
static bool next_line(struct walk *w, struct span *line)
{
	const char *start = w->p + w->pos;
	const char *nl;
	size_t n;

	if (w->pos >= w->len)
		return false;
	nl = memchr(start, '\n', w->len - w->pos);
	n = nl != NULL ? (size_t)(nl - start) : w->len - w->pos;
	w->pos += n + 1;
	while (n > 0 && is_space(start[n - 1]))
		n--;
	line->p = start;
	line->len = n;
	return true;
}

/* LEN without the whitespace at the end, newlines included: the empty (or
 * blank) lines at the end and the spaces ending the last line go. */
static size_t content_end(const char *s, size_t len)
{
	while (len > 0 && is_space(s[len - 1]))
		len--;
	return len;
}

/* ---- messages ---- */

/* A quoted line or token, or "end of output" for a side that has none. */
static void msg_side(struct sp_message *m, const char *label, bool present, struct span s)
{
	sp_message_printf(m, "%s ", label);
	if (present)
		sp_message_quote(m, s.p, s.len, '\'', QUOTE_MAX);
	else
		sp_message_printf(m, "end of output");
}

/* ---- tokens ---- */

/* The token as a number, when strtod reads all of it: decimal or hex
 * floats, "inf", "infinity", "nan" and "nan(...)" in any case. strtod
 * depends on the locale's decimal point; the server never calls setlocale(),
 * so it is the "C" locale's '.' here. A value too large for a double comes
 * back as HUGE_VAL with ERANGE: it is kept as that infinity, so that "1e400"
 * matches "inf"; one too small comes back as 0 or a subnormal, kept too. */
static bool parse_number(struct span tok, double *value)
{
	char text[NUMBER_MAX + 1];
	char *end;

	if (tok.len == 0 || tok.len > NUMBER_MAX)
		return false;
	memcpy(text, tok.p, tok.len);
	text[tok.len] = '\0';
	*value = strtod(text, &end);
	return end == text + tok.len;
}

static bool numbers_match(double expected, double found, double epsilon)
{
	double diff;

	if (isnan(expected) || isnan(found))
		return isnan(expected) && isnan(found);
	if (isinf(expected) || isinf(found))
		return expected == found;
	diff = fabs(found - expected);
	return diff <= epsilon || diff <= epsilon * fabs(expected);
}

static bool tokens_match(struct span expected, struct span found, bool numeric, double epsilon)
{
	double e, f;

	if (span_equal(expected, found))
		return true;
	if (!numeric || !parse_number(expected, &e) || !parse_number(found, &f))
		return false;
	return numbers_match(e, f, epsilon);
}

enum token_diff_kind {
	TOKENS_EQUAL,
	TOKENS_DIFFER,	/* token INDEX differs */
	TOKENS_MISSING, /* the output has fewer */
	TOKENS_EXTRA,	/* the output has more, the first extra is FOUND */
};

struct token_diff {
	enum token_diff_kind kind;
	size_t index;			    /* 1-based; the count of matching tokens for EXTRA */
	size_t expected_count, found_count; /* for MISSING */
	struct span expected, found;
};

static void compare_tokens(const char *out, size_t out_len, const char *ans, size_t ans_len,
			   bool numeric, double epsilon, struct token_diff *d)
{
	struct walk o = {out, out_len, 0}, a = {ans, ans_len, 0};
	struct span rest;
	size_t n = 0;

	memset(d, 0, sizeof(*d));
	for (;;) {
		bool has_expected = next_token(&a, &d->expected);
		bool has_found = next_token(&o, &d->found);

		if (!has_expected && !has_found) {
			d->kind = TOKENS_EQUAL;
			return;
		}
		if (!has_found) {
			d->kind = TOKENS_MISSING;
			d->found_count = n;
			d->expected_count = n + 1;
			while (next_token(&a, &rest))
				d->expected_count++;
			return;
		}
		if (!has_expected) {
			d->kind = TOKENS_EXTRA;
			d->index = n;
			return;
		}
		n++;
		if (!tokens_match(d->expected, d->found, numeric, epsilon)) {
			d->kind = TOKENS_DIFFER;
			d->index = n;
			return;
		}
	}
}

static bool same_tokens(const char *out, size_t out_len, const char *ans, size_t ans_len)
{
	struct token_diff d;

	compare_tokens(out, out_len, ans, ans_len, false, 0, &d);
	return d.kind == TOKENS_EQUAL;
}

static const char *plural(size_t n)
{
	return n == 1 ? "" : "s";
}

static void check_tokens(bool numeric, double epsilon, const char *out, size_t out_len,
			 const char *ans, size_t ans_len, struct sp_check_result *res)
{
	struct sp_message m = sp_message_in(res->message, SP_CHECK_MESSAGE_MAX);
	struct token_diff d;

	compare_tokens(out, out_len, ans, ans_len, numeric, epsilon, &d);
	switch (d.kind) {
	case TOKENS_EQUAL:
		res->outcome = SP_CHECK_ACCEPTED;
		return;
	case TOKENS_DIFFER:
		sp_message_printf(&m, "token %zu differs: ", d.index);
		msg_side(&m, "expected", true, d.expected);
		msg_side(&m, ", found", true, d.found);
		break;
	case TOKENS_MISSING:
		sp_message_printf(&m, "expected %zu token%s, found %zu", d.expected_count,
				  plural(d.expected_count), d.found_count);
		break;
	case TOKENS_EXTRA:
		sp_message_printf(&m, "extra output after %zu token%s: ", d.index, plural(d.index));
		sp_message_quote(&m, d.found.p, d.found.len, '\'', QUOTE_MAX);
		break;
	}
	res->outcome = SP_CHECK_WRONG_ANSWER;
}

/* ---- exact and lines ---- */

/* An output that is not the answer: a presentation error when only the
 * whitespace differs (said first in the message M), else a wrong answer. */
static void not_accepted(const char *out, size_t out_len, const char *ans, size_t ans_len,
			 struct sp_check_result *res, struct sp_message *m)
{
	if (same_tokens(out, out_len, ans, ans_len)) {
		res->outcome = SP_CHECK_PRESENTATION_ERROR;
		sp_message_printf(m, "differs only in whitespace: ");
	} else {
		res->outcome = SP_CHECK_WRONG_ANSWER;
	}
}

static bool is_continuation(const char *s, size_t len, size_t i)
{
	return i < len && ((unsigned char)s[i] & 0xc0) == 0x80;
}

static size_t count_newlines(const char *s, size_t len)
{
	const char *end = s + len, *nl;
	size_t n = 0;

	while (s < end && (nl = memchr(s, '\n', (size_t)(end - s))) != NULL) {
		n++;
		s = nl + 1;
	}
	return n;
}

static void check_exact(const char *out, size_t out_len, const char *ans, size_t ans_len,
			struct sp_check_result *res)
{
	enum { BLOCK = 4096 };
	struct sp_message m = sp_message_in(res->message, SP_CHECK_MESSAGE_MAX);
	size_t common = out_len < ans_len ? out_len : ans_len;
	size_t off = 0, start;

	while (common - off >= BLOCK && memcmp(out + off, ans + off, BLOCK) == 0)
		off += BLOCK;
	while (off < common && out[off] == ans[off])
		off++;
	if (off == common && out_len == ans_len) {
		res->outcome = SP_CHECK_ACCEPTED;
		return;
	}
	not_accepted(out, out_len, ans, ans_len, res, &m);
	/* Both sides are shown from the start of the character the first
	 * difference is in (the bytes before it are the same on both). */
	start = off;
	while (start > 0 && off - start < 3 &&
	       (is_continuation(ans, ans_len, start) || is_continuation(out, out_len, start)))
		start--;
	sp_message_printf(&m, "byte %zu (line %zu) differs: ", off + 1,
			  count_newlines(ans, start) + 1);
	msg_side(&m, "expected", start < ans_len, (struct span){ans + start, ans_len - start});
	msg_side(&m, ", found", start < out_len, (struct span){out + start, out_len - start});
}

static void check_lines(const char *out, size_t out_len, const char *ans, size_t ans_len,
			struct sp_check_result *res)
{
	struct walk o = {out, content_end(out, out_len), 0};
	struct walk a = {ans, content_end(ans, ans_len), 0};
	struct sp_message m = sp_message_in(res->message, SP_CHECK_MESSAGE_MAX);
	struct span expected = {0}, found = {0};
	bool has_expected, has_found;
	size_t line = 0;

	for (;;) {
		has_expected = next_line(&a, &expected);
		has_found = next_line(&o, &found);
		if (!has_expected && !has_found) {
			res->outcome = SP_CHECK_ACCEPTED;
			return;
		}
		line++;
		if (!has_expected || !has_found || !span_equal(expected, found))
			break;
	}
	not_accepted(out, out_len, ans, ans_len, res, &m);
	sp_message_printf(&m, "line %zu differs: ", line);
	msg_side(&m, "expected", has_expected, expected);
	msg_side(&m, ", found", has_found, found);
}

void sp_check(enum sp_checker_kind kind, double epsilon, const char *output, size_t out_len,
	      const char *answer, size_t ans_len, struct sp_check_result *res)
{
	/* No pointer arithmetic or memcmp on a NULL that comes with 0 bytes. */
	if (out_len == 0)
		output = "";
	if (ans_len == 0)
		answer = "";
	if (!(epsilon >= 0))
		epsilon = 0;
	res->message[0] = '\0';
	switch (kind) {
	case SP_CHECKER_EXACT:
		check_exact(output, out_len, answer, ans_len, res);
		return;
	case SP_CHECKER_LINES:
		check_lines(output, out_len, answer, ans_len, res);
		return;
	case SP_CHECKER_TOKENS:
		check_tokens(false, 0, output, out_len, answer, ans_len, res);
		return;
	case SP_CHECKER_FLOAT:
		check_tokens(true, epsilon, output, out_len, answer, ans_len, res);
		return;
	}
	/* Never accept on a kind that is not one. */
	res->outcome = SP_CHECK_WRONG_ANSWER;
	snprintf(res->message, sizeof(res->message), "unknown checker %d", (int)kind);
}
