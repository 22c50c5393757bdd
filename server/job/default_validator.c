#include "default_validator.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "message.h"
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

/* S between the quotes Q in M, at most QUOTE_MAX bytes of it as shown. */
static void quote(struct sp_message *m, struct span s, char q)
{
	sp_message_quote(m, s.p, s.len, q, QUOTE_MAX);
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
	struct sp_message m;
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
	sp_message_printf(&r->m, "output line %zu, answer line %zu: ", r->out.line, r->ans.line);
}

/* What S has at its cursor: a whitespace byte, a token or the end. */
static void msg_next(struct sp_message *m, const struct side *s)
{
	if (s->pos == s->len)
		sp_message_printf(m, "end of output");
	else if (at_space(s))
		quote(m, (struct span){s->p + s->pos, 1}, '\'');
	else
		quote(m, token_at(s), '\'');
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
	sp_message_printf(&r->m, "whitespace differs: expected ");
	msg_next(&r->m, ans);
	sp_message_printf(&r->m, ", found ");
	msg_next(&r->m, out);
	return false;
}

static void msg_tokens(struct run *r, struct span expected, struct span found)
{
	msg_where(r);
	sp_message_printf(&r->m, "expected ");
	quote(&r->m, expected, '\'');
	sp_message_printf(&r->m, ", found ");
	quote(&r->m, found, '\'');
}

/* Answer token EXPECTED, the number A, against output token FOUND; false with
 * the message when FOUND is not a finite number or too far from A. */
static bool numbers_match(struct run *r, double a, struct span expected, struct span found)
{
	const struct sp_default_validator_flags *f = r->flags;
	double t, diff;

	if (!parse_number(found, &t)) {
		msg_tokens(r, expected, found);
		sp_message_printf(&r->m, ", which is not a finite number");
		return false;
	}
	diff = fabs(a - t);
	if ((f->has_float_abs && diff <= f->float_abs) ||
	    (f->has_float_rel && diff <= f->float_rel * fabs(a)))
		return true;
	msg_tokens(r, expected, found);
	sp_message_printf(&r->m, ": off by %g", diff);
	if (a != 0)
		sp_message_printf(&r->m, " (relative %g)", diff / fabs(a));
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
		sp_message_printf(&r->m, " (they differ from byte %zu)", same + 1);
	return false;
}

/* The output has no token left for EXPECTED, the answer's token COUNT + 1. */
static void output_ended(struct run *r, struct span expected, size_t count)
{
	msg_where(r);
	sp_message_printf(&r->m, "expected ");
	quote(&r->m, expected, '\'');
	sp_message_printf(&r->m, ", found end of output");
	if (count == 0)
		sp_message_printf(&r->m, r->out.len > 0 ? " (the output is only whitespace)"
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
		sp_message_printf(&r->m, "expected end of output, found ");
		quote(&r->m, found, '\'');
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
	    .m = {.buf = res->message, .size = sizeof(res->message)},
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
			   size_t *i, struct sp_default_validator_flags *flags,
			   struct sp_message *why)
{
	const char *word;
	double value;

	if (*i + 1 == count || args[*i + 1] == NULL) {
		sp_message_printf(why, "%s needs a number", t->name);
		return -1;
	}
	word = args[++*i];
	if (!parse_number((struct span){word, strlen(word)}, &value) || value < 0) {
		sp_message_printf(why, "%s needs a finite number >= 0, not ", t->name);
		quote(why, (struct span){word, strlen(word)}, '"');
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
		      struct sp_default_validator_flags *flags, struct sp_message *why)
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
	sp_message_printf(why, "unknown flag ");
	quote(why, (struct span){word, strlen(word)}, '"');
	return -1;
}

int sp_default_validator_flags_parse(const char *const *args, size_t count,
				     struct sp_default_validator_flags *flags, char *why,
				     size_t why_size)
{
	char scratch[1];
	struct sp_message m =
	    sp_message_in(why_size > 0 ? why : scratch, why_size > 0 ? why_size : sizeof(scratch));

	memset(flags, 0, sizeof(*flags));
	for (size_t i = 0; i < count; i++) {
		if (parse_flag(args, count, &i, flags, &m) < 0) {
			memset(flags, 0, sizeof(*flags));
			return -1;
		}
	}
	return 0;
}
