#include "default_validator.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

/* Bytes of one side shown in a message, escapes included (as checker.c). */
#define QUOTE_MAX 40
/* Significant digits of a number kept: enough that the rest only matters by
 * being zero or not (a double's halfway points have at most 767 significant
 * decimal digits, or 14 hexadecimal ones). */
#define DEC_DIGITS_MAX 800
#define HEX_DIGITS_MAX 32
/* Far beyond where any such mantissa is 0 or infinity as a double. */
#define EXPONENT_CLAMP 100000
/* An exponent stops growing here (10^15: no overflow when the shift of the
 * point, at most the token's length, is added). */
#define EXPONENT_READ_MAX 1000000000000000LL

struct span {
	const char *p;
	size_t len;
};

/* ---- messages (as checker.c writes them) ---- */

/* A message being written into SIZE bytes: only whole characters or escapes
 * are added, so that it stays valid UTF-8 however it is cut short. */
struct msg {
	char *buf;
	size_t size;
	size_t len;
};

static void msg_add(struct msg *m, const char *s, size_t n)
{
	if (n >= m->size - m->len)
		return;
	memcpy(m->buf + m->len, s, n);
	m->len += n;
	m->buf[m->len] = '\0';
}

/* FORMAT and its arguments are ASCII. */
__attribute__((format(printf, 2, 3))) static void msg_printf(struct msg *m, const char *format, ...)
{
	char text[SP_CHECK_MESSAGE_MAX];
	va_list ap;
	int n;

	va_start(ap, format);
	n = vsnprintf(text, sizeof(text), format, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(text))
		n = (int)sizeof(text) - 1;
	if ((size_t)n >= m->size - m->len)
		n = (int)(m->size - m->len - 1);
	msg_add(m, text, (size_t)n);
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

/* The length of the character at P (N bytes left) when it is shown as it is:
 * valid UTF-8 and not a control character (C0, DEL, C1) or '\\'; else 0. */
static size_t shown_len(const unsigned char *p, size_t n)
{
	size_t len = sp_utf8_char_len(p, n);

	if (len == 1)
		return p[0] >= 0x20 && p[0] != 0x7f && p[0] != '\\';
	if (len == 2 && p[0] == 0xc2 && p[1] < 0xa0)
		return 0;
	return len;
}

/* S between quotes Q, at most QUOTE_MAX bytes of it as shown, then "..." when
 * it was cut; an escape or a character is never cut. */
static void msg_quote(struct msg *m, struct span s, char q)
{
	const unsigned char *p = (const unsigned char *)s.p;
	size_t shown = 0, i = 0;

	msg_add(m, &q, 1);
	while (i < s.len) {
		char esc[5];
		const char *unit = s.p + i;
		size_t unit_len, len = shown_len(p + i, s.len - i);

		if (len > 0) {
			unit_len = len;
		} else {
			len = 1;
			unit_len = escape_byte(p[i], esc);
			unit = esc;
		}
		if (shown + unit_len > QUOTE_MAX)
			break;
		msg_add(m, unit, unit_len);
		shown += unit_len;
		i += len;
	}
	msg_add(m, &q, 1);
	if (i < s.len)
		msg_add(m, "...", 3);
}

/* ---- numbers ---- */

static int digit_value(char c, bool hex)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (hex && (c | 0x20) >= 'a' && (c | 0x20) <= 'f')
		return (c | 0x20) - 'a' + 10;
	return -1;
}

/* A mantissa cut to its first significant digits: the number is DIGITS (as
 * an integer; then a 1 when STICKY, some later digit not being 0) times the
 * base to the power SHIFT (plus the exponent). */
struct mantissa {
	char digits[DEC_DIGITS_MAX + 1];
	size_t count;
	bool sticky;
	int64_t shift;
};

/* The mantissa of TOK from *I on: digits with at most one '.'. False when it
 * has no digit. */
static bool read_mantissa(struct span tok, size_t *i, bool hex, struct mantissa *m)
{
	size_t keep = hex ? HEX_DIGITS_MAX : DEC_DIGITS_MAX;
	bool point = false, any = false;

	m->count = 0;
	m->sticky = false;
	m->shift = 0;
	for (; *i < tok.len; (*i)++) {
		char c = tok.p[*i];

		if (c == '.' && !point) {
			point = true;
			continue;
		}
		if (digit_value(c, hex) < 0)
			break;
		any = true;
		if (m->count == 0 && c == '0') {
			m->shift -= point;
		} else if (m->count < keep) {
			m->digits[m->count++] = c;
			m->shift -= point;
		} else {
			m->sticky |= c != '0';
			m->shift += !point;
		}
	}
	return any;
}

/* The exponent of TOK from *I on, when there is one: its mark, a sign and
 * decimal digits, read up to EXPONENT_READ_MAX. False when it is not whole. */
static bool read_exponent(struct span tok, size_t *i, bool hex, int64_t *exponent)
{
	int64_t sign = 1;
	size_t start;

	*exponent = 0;
	if (*i == tok.len || (tok.p[*i] | 0x20) != (hex ? 'p' : 'e'))
		return true;
	(*i)++;
	if (*i < tok.len && (tok.p[*i] == '+' || tok.p[*i] == '-'))
		sign = tok.p[(*i)++] == '-' ? -1 : 1;
	start = *i;
	for (; *i < tok.len && digit_value(tok.p[*i], false) >= 0; (*i)++) {
		if (*exponent < EXPONENT_READ_MAX)
			*exponent = *exponent * 10 + (tok.p[*i] - '0');
	}
	*exponent *= sign;
	return *i > start;
}

/* TOK as a finite double, when all of it is one strtod() number (see the
 * header). The number is written again with its significant digits only
 * and a clamped exponent, so that strtod() reads a bounded text. */
static bool parse_number(struct span tok, double *value)
{
	char text[DEC_DIGITS_MAX + 64];
	struct mantissa m;
	const char *sign = "";
	int64_t exponent;
	size_t i = 0;
	bool hex;
	char *end;
	int n;

	if (tok.len > 0 && (tok.p[0] == '+' || tok.p[0] == '-'))
		sign = tok.p[i++] == '-' ? "-" : "";
	hex = tok.len - i >= 2 && tok.p[i] == '0' && (tok.p[i + 1] | 0x20) == 'x';
	i += hex ? 2 : 0;
	if (!read_mantissa(tok, &i, hex, &m) || !read_exponent(tok, &i, hex, &exponent) ||
	    i != tok.len)
		return false;
	if (m.count == 0)
		m.digits[m.count++] = '0';
	if (m.sticky) {
		m.digits[m.count++] = '1';
		m.shift--;
	}
	exponent += m.shift * (hex ? 4 : 1);
	if (exponent > EXPONENT_CLAMP)
		exponent = EXPONENT_CLAMP;
	if (exponent < -EXPONENT_CLAMP)
		exponent = -EXPONENT_CLAMP;
	n = snprintf(text, sizeof(text), "%s%s%.*s%c%lld", sign, hex ? "0x" : "", (int)m.count,
		     m.digits, hex ? 'p' : 'e', (long long)exponent);
	*value = strtod(text, &end);
	return n > 0 && end == text + n && isfinite(*value);
}

/* ---- the two sides ---- */

/* A cursor over one side, with the line (1-based) it is on. */
struct side {
	const char *p;
	size_t len;
	size_t pos;
	size_t line;
};

/* What isspace() is in the "C" locale: space, \t, \n, \v, \f, \r. */
static bool is_space(char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r');
}

static bool at_space(const struct side *s)
{
	return s->pos < s->len && is_space(s->p[s->pos]);
}

static void step(struct side *s)
{
	s->line += s->p[s->pos] == '\n';
	s->pos++;
}

static void skip_space(struct side *s)
{
	while (at_space(s))
		step(s);
}

/* The token at the cursor (none at the end or at whitespace). */
static struct span token_at(const struct side *s)
{
	size_t end = s->pos;

	while (end < s->len && !is_space(s->p[end]))
		end++;
	return (struct span){s->p + s->pos, end - s->pos};
}

static bool next_token(struct side *s, struct span *tok)
{
	*tok = token_at(s);
	s->pos += tok->len;
	return tok->len > 0;
}

/* ---- comparing ---- */

/* One comparison: the flags, both sides and the message. */
struct run {
	const struct sp_default_validator_flags *flags;
	struct side out, ans;
	struct msg m;
};

static unsigned char fold(char c, bool case_sensitive)
{
	unsigned char u = (unsigned char)c;

	return !case_sensitive && u >= 'A' && u <= 'Z' ? u - 'A' + 'a' : u;
}

/* The first byte where A and B differ (folded unless CASE_SENSITIVE), or the
 * length of the shorter one; they are equal when that is both lengths. */
static size_t common_prefix(struct span a, struct span b, bool case_sensitive)
{
	size_t n = a.len < b.len ? a.len : b.len, i = 0;

	while (i < n && fold(a.p[i], case_sensitive) == fold(b.p[i], case_sensitive))
		i++;
	return i;
}

/* Starts the message: where both sides are. */
static void msg_where(struct run *r)
{
	msg_printf(&r->m, "output line %zu, answer line %zu: ", r->out.line, r->ans.line);
}

/* What S has at its cursor: a whitespace byte, a token or the end. */
static void msg_next(struct msg *m, const struct side *s)
{
	if (s->pos == s->len)
		msg_printf(m, "end of output");
	else if (at_space(s))
		msg_quote(m, (struct span){s->p + s->pos, 1}, '\'');
	else
		msg_quote(m, token_at(s), '\'');
}

/* space_change_sensitive: the whitespace of both up to their next token,
 * byte for byte. */
static bool same_space(struct run *r)
{
	struct side *out = &r->out, *ans = &r->ans;

	while (at_space(ans) && out->pos < out->len && out->p[out->pos] == ans->p[ans->pos]) {
		step(out);
		step(ans);
	}
	if (!at_space(ans) && !at_space(out))
		return true;
	msg_where(r);
	msg_printf(&r->m, "whitespace differs: expected ");
	msg_next(&r->m, ans);
	msg_printf(&r->m, ", found ");
	msg_next(&r->m, out);
	return false;
}

static void msg_tokens(struct run *r, struct span expected, struct span found)
{
	msg_where(r);
	msg_printf(&r->m, "expected ");
	msg_quote(&r->m, expected, '\'');
	msg_printf(&r->m, ", found ");
	msg_quote(&r->m, found, '\'');
}

/* Answer token EXPECTED, the number A, against output token FOUND; false with
 * the message when FOUND is not a finite number or too far from A. */
static bool numbers_match(struct run *r, double a, struct span expected, struct span found)
{
	const struct sp_default_validator_flags *f = r->flags;
	double t, diff;

	if (!parse_number(found, &t)) {
		msg_tokens(r, expected, found);
		msg_printf(&r->m, ", which is not a finite number");
		return false;
	}
	diff = fabs(a - t);
	if ((f->has_float_abs && diff <= f->float_abs) ||
	    (f->has_float_rel && diff <= f->float_rel * fabs(a)))
		return true;
	msg_tokens(r, expected, found);
	msg_printf(&r->m, ": off by %g", diff);
	if (a != 0)
		msg_printf(&r->m, " (relative %g)", diff / fabs(a));
	return false;
}

static bool tokens_match(struct run *r, struct span expected, struct span found)
{
	const struct sp_default_validator_flags *f = r->flags;
	size_t same;
	double a;

	if ((f->has_float_abs || f->has_float_rel) && parse_number(expected, &a))
		return numbers_match(r, a, expected, found);
	same = common_prefix(expected, found, f->case_sensitive);
	if (same == expected.len && same == found.len)
		return true;
	msg_tokens(r, expected, found);
	/* Long tokens that start alike would look alike: say where they part. */
	if (same >= QUOTE_MAX / 2)
		msg_printf(&r->m, " (they differ from byte %zu)", same + 1);
	return false;
}

/* The output has no token left for EXPECTED, the answer's token COUNT + 1. */
static void output_ended(struct run *r, struct span expected, size_t count)
{
	msg_where(r);
	msg_printf(&r->m, "expected ");
	msg_quote(&r->m, expected, '\'');
	msg_printf(&r->m, ", found end of output");
	if (count == 0)
		msg_printf(&r->m, r->out.len > 0 ? " (the output is only whitespace)"
						 : " (the output is empty)");
}

/* Accepted or not, with the message. */
static bool validate(struct run *r)
{
	struct span expected, found;

	for (size_t count = 0;; count++) {
		if (r->flags->space_change_sensitive) {
			if (!same_space(r))
				return false;
		} else {
			skip_space(&r->out);
			skip_space(&r->ans);
		}
		if (!next_token(&r->ans, &expected))
			break;
		if (!next_token(&r->out, &found)) {
			output_ended(r, expected, count);
			return false;
		}
		if (!tokens_match(r, expected, found))
			return false;
	}
	/* The output's whitespace is behind its cursor now, in both modes. */
	if (next_token(&r->out, &found)) {
		msg_where(r);
		msg_printf(&r->m, "expected end of output, found ");
		msg_quote(&r->m, found, '\'');
		return false;
	}
	return true;
}

void sp_default_validate(const struct sp_default_validator_flags *flags, const char *output,
			 size_t out_len, const char *answer, size_t ans_len,
			 struct sp_check_result *res)
{
	static const struct sp_default_validator_flags none;
	/* No pointer arithmetic on a NULL that comes with 0 bytes. */
	struct run r = {
	    .flags = flags != NULL ? flags : &none,
	    .out = {out_len > 0 ? output : "", out_len, 0, 1},
	    .ans = {ans_len > 0 ? answer : "", ans_len, 0, 1},
	    .m = {res->message, sizeof(res->message), 0},
	};

	res->message[0] = '\0';
	res->outcome = validate(&r) ? SP_CHECK_ACCEPTED : SP_CHECK_WRONG_ANSWER;
}

/* ---- flags ---- */

static const struct tolerance_flag {
	const char *name;
	bool abs, rel;
} tolerance_flags[] = {
    {"float_absolute_tolerance", true, false},
    {"float_relative_tolerance", false, true},
    {"float_tolerance", true, true},
};

/* Parses the word after a tolerance flag, *I on the flag. */
static int parse_tolerance(const struct tolerance_flag *t, const char *const *args, size_t count,
			   size_t *i, struct sp_default_validator_flags *flags, struct msg *why)
{
	const char *word;
	double value;

	if (*i + 1 == count || args[*i + 1] == NULL) {
		msg_printf(why, "%s needs a number", t->name);
		return -1;
	}
	word = args[++*i];
	if (!parse_number((struct span){word, strlen(word)}, &value) || value < 0) {
		msg_printf(why, "%s needs a finite number >= 0, not ", t->name);
		msg_quote(why, (struct span){word, strlen(word)}, '"');
		return -1;
	}
	if (t->abs) {
		flags->has_float_abs = true;
		flags->float_abs = value;
	}
	if (t->rel) {
		flags->has_float_rel = true;
		flags->float_rel = value;
	}
	return 0;
}

static int parse_flag(const char *const *args, size_t count, size_t *i,
		      struct sp_default_validator_flags *flags, struct msg *why)
{
	const char *word = args[*i] != NULL ? args[*i] : "";

	if (strcmp(word, "case_sensitive") == 0) {
		flags->case_sensitive = true;
		return 0;
	}
	if (strcmp(word, "space_change_sensitive") == 0) {
		flags->space_change_sensitive = true;
		return 0;
	}
	for (size_t k = 0; k < sizeof(tolerance_flags) / sizeof(tolerance_flags[0]); k++) {
		if (strcmp(word, tolerance_flags[k].name) == 0)
			return parse_tolerance(&tolerance_flags[k], args, count, i, flags, why);
	}
	msg_printf(why, "unknown flag ");
	msg_quote(why, (struct span){word, strlen(word)}, '"');
	return -1;
}

int sp_default_validator_flags_parse(const char *const *args, size_t count,
				     struct sp_default_validator_flags *flags, char *why,
				     size_t why_size)
{
	char scratch[1];
	struct msg m = {why_size > 0 ? why : scratch, why_size > 0 ? why_size : sizeof(scratch), 0};

	memset(flags, 0, sizeof(*flags));
	m.buf[0] = '\0';
	for (size_t i = 0; i < count; i++) {
		if (parse_flag(args, count, &i, flags, &m) < 0) {
			memset(flags, 0, sizeof(*flags));
			return -1;
		}
	}
	return 0;
}
