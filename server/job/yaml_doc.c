/* One YAML document into a jansson value: yaml_doc.h. */
#include "yaml_doc.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "sandbox/base/cleanup.h"
#include "message.h"
#include "utf8.h"

_Static_assert(sizeof(json_int_t) == sizeof(int64_t), "json_int_t is 64 bits");

/* What libyaml writes "!!" as. */
#define TAG_PREFIX "tag:yaml.org,2002:"
/* Bytes of a key, an anchor or a tag shown in a message, escapes included. */
#define SHOWN_MAX 60
/* A shown text: the quotes, SHOWN_MAX bytes, "..." and the NUL. */
#define SHOWN_SIZE (SHOWN_MAX + 8)

struct reader {
	yaml_parser_t parser;
	const char *text; /* the whole text, for the lines of byte offsets */
	size_t length;
	const char *what; /* the text's name in messages */
	struct sp_error *err;
	unsigned depth; /* mappings and sequences open now */
	size_t nodes;	/* nodes read so far */
};

static void event_deletep(yaml_event_t *ev)
{
	yaml_event_delete(ev);
}

/* An event that is deleted when it goes out of scope (a zeroed one, or one
 * libyaml failed to fill, holds nothing). */
#define cleanup_event __attribute__((cleanup(event_deletep)))
#define NO_EVENT                                                                                   \
	{                                                                                          \
		.type = YAML_NO_EVENT                                                              \
	}

/* ---- messages ------------------------------------------------------------ */

/* The line (from 1) of byte OFFSET of TEXT (LENGTH bytes): one more for every
 * line break before it, counted as libyaml counts them. */
static size_t line_at(const char *text, size_t length, size_t offset)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t line = 1;

	if (offset > length)
		offset = length;
	for (size_t i = 0; i < offset; i++) {
		if (s[i] == '\n')
			line++;
		else if (s[i] == '\r' && (i + 1 == length || s[i + 1] != '\n'))
			line++;
		else if (s[i] == 0xc2 && i + 1 < length && s[i + 1] == 0x85)
			line++; /* NEL */
		else if (s[i] == 0xe2 && i + 2 < length && s[i + 1] == 0x80 &&
			 (s[i + 2] == 0xa8 || s[i + 2] == 0xa9))
			line++; /* LS, PS */
	}
	return line;
}

static size_t mark_line(yaml_mark_t mark)
{
	return mark.line + 1;
}

/* TEXT (LEN bytes, any bytes) into BUF, between quotes when QUOTED, as
 * message.h quotes it: at most SHOWN_MAX bytes of it as shown, then "..."
 * when it was cut, one line of valid UTF-8. Returns BUF. */
static const char *show(char buf[SHOWN_SIZE], const char *text, size_t len, bool quoted)
{
	struct sp_message m = sp_message_in(buf, SHOWN_SIZE);

	sp_message_quote(&m, text, len, quoted ? '\'' : 0, SHOWN_MAX);
	return buf;
}

static const char *show_tag(char buf[SHOWN_SIZE], const yaml_char_t *tag)
{
	const char *t = (const char *)tag;
	size_t prefix = strlen(TAG_PREFIX);
	char shortened[SHOWN_SIZE];

	if (strncmp(t, TAG_PREFIX, prefix) == 0) {
		snprintf(shortened, sizeof(shortened), "!!%.*s", SHOWN_MAX, t + prefix);
		t = shortened;
	}
	return show(buf, t, strlen(t), true);
}

/* ERR: "WHAT: line LINE: message", errno EINVAL. Returns -1. */
__attribute__((format(printf, 3, 4))) static int fail(struct reader *r, size_t line,
						      const char *format, ...)
{
	char message[SP_ERROR_MESSAGE_MAX];
	va_list ap;

	va_start(ap, format);
	vsnprintf(message, sizeof(message), format, ap);
	va_end(ap);
	return sp_error_set(r->err, EINVAL, "%s: line %zu: %s", r->what, line, message);
}

static int out_of_memory(struct reader *r)
{
	return sp_error_set(r->err, ENOMEM, "%s: out of memory", r->what);
}

/* libyaml's reader refused a character: a control character, or (which
 * check_bytes has ruled out already) bad UTF-8. */
static int reader_failed(struct reader *r)
{
	const yaml_parser_t *p = &r->parser;
	size_t line = line_at(r->text, r->length, p->problem_offset);
	const char *problem = p->problem != NULL ? p->problem : "unreadable text";

	if (strstr(problem, "UTF-8") != NULL)
		return fail(r, line, "invalid UTF-8 (%s)", problem);
	if (p->problem_value >= 0)
		return fail(r, line, "%s (U+%04X)", problem, (unsigned)p->problem_value);
	return fail(r, line, "%s", problem);
}

/* The parser's error as ERR. libyaml's problems and contexts are short ASCII
 * sentences ("could not find expected ':'", "while scanning a simple
 * key"). */
static int parser_failed(struct reader *r)
{
	const yaml_parser_t *p = &r->parser;
	const char *problem = p->problem != NULL ? p->problem : "not valid YAML";

	switch (p->error) {
	case YAML_MEMORY_ERROR:
		return out_of_memory(r);
	case YAML_READER_ERROR:
		return reader_failed(r);
	default:
		break;
	}
	if (p->context != NULL)
		return fail(r, mark_line(p->problem_mark), "%s (%s at line %zu)", problem,
			    p->context, mark_line(p->context_mark));
	return fail(r, mark_line(p->problem_mark), "%s", problem);
}

/* ---- bytes --------------------------------------------------------------- */

/* The text holds UTF-8 and no NUL byte. libyaml would refuse both too, but
 * as "control characters are not allowed" and "invalid leading UTF-8
 * octet". */
static int check_bytes(struct reader *r)
{
	const unsigned char *s = (const unsigned char *)r->text;
	size_t i = 0;

	while (i < r->length) {
		size_t n = sp_utf8_char_len(s + i, r->length - i);

		if (s[i] == '\0')
			return fail(r, line_at(r->text, r->length, i),
				    "a NUL byte (YAML text holds none)");
		if (n == 0)
			return fail(r, line_at(r->text, r->length, i),
				    "invalid UTF-8 (byte 0x%02x): the text must be UTF-8", s[i]);
		i += n;
	}
	return 0;
}

/* ---- scalars ------------------------------------------------------------- */

/* How a text matches one of the number forms. */
enum number {
	NUMBER_NO,    /* not this form */
	NUMBER_OK,    /* this form, and its value */
	NUMBER_RANGE, /* an integer outside json_int_t */
	NUMBER_EMPTY, /* an integer form without digits: "0x_" */
	NUMBER_NOMEM, /* memory ran out */
};

static bool text_is(const char *s, size_t n, const char *word)
{
	return strlen(word) == n && memcmp(s, word, n) == 0;
}

/* Whether S is one of the words in WORDS (NULL-terminated). */
static bool text_in(const char *s, size_t n, const char *const *words)
{
	for (size_t i = 0; words[i] != NULL; i++) {
		if (text_is(s, n, words[i]))
			return true;
	}
	return false;
}

static bool is_null_text(const char *s, size_t n)
{
	static const char *const words[] = {"", "~", "null", "Null", "NULL", NULL};

	return text_in(s, n, words);
}

/* 1 for a true word, 0 for a false one, -1 for any other text. */
static int bool_text(const char *s, size_t n)
{
	static const char *const yes[] = {"yes",  "Yes", "YES", "true", "True",
					  "TRUE", "on",	 "On",	"ON",	NULL};
	static const char *const no[] = {"no",	  "No",	 "NO",	"false", "False",
					 "FALSE", "off", "Off", "OFF",	 NULL};

	if (text_in(s, n, yes))
		return 1;
	if (text_in(s, n, no))
		return 0;
	return -1;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* The value of C as a digit in BASE (2, 8, 10, 16), or -1. */
static int digit_value(char c, unsigned base)
{
	int v = -1;

	if (c >= '0' && c <= '9')
		v = c - '0';
	else if (c >= 'a' && c <= 'f')
		v = c - 'a' + 10;
	else if (c >= 'A' && c <= 'F')
		v = c - 'A' + 10;
	return v >= 0 && (unsigned)v < base ? v : -1;
}

/* *MAG * BASE + DIGIT into *MAG, false when it would pass LIMIT. */
static bool accumulate(uint64_t *mag, unsigned base, unsigned digit, uint64_t limit)
{
	if (*mag > (limit - digit) / base)
		return false;
	*mag = *mag * base + digit;
	return true;
}

/* S (N bytes) as digits of BASE and '_' (at least one byte, nothing else)
 * into *MAG: NUMBER_NO when another byte is there, NUMBER_EMPTY when there
 * is no digit, NUMBER_RANGE past LIMIT. */
static enum number digits_value(const char *s, size_t n, unsigned base, uint64_t limit,
				uint64_t *mag)
{
	bool any = false;

	if (n == 0)
		return NUMBER_NO;
	for (size_t i = 0; i < n; i++) {
		int d = s[i] == '_' ? 0 : digit_value(s[i], base);

		if (d < 0)
			return NUMBER_NO;
		if (s[i] != '_') {
			any = true;
			if (!accumulate(mag, base, (unsigned)d, limit))
				return NUMBER_RANGE;
		}
	}
	return any ? NUMBER_OK : NUMBER_EMPTY;
}

/* The base 60 parts after the first, (:[0-5]?[0-9])+, at S (N bytes), on
 * into *MAG. */
static enum number sexagesimal_value(const char *s, size_t n, uint64_t limit, uint64_t *mag)
{
	size_t i = 0;

	if (n == 0)
		return NUMBER_NO;
	while (i < n) {
		unsigned part;

		if (s[i] != ':' || i + 1 == n || !is_digit(s[i + 1]))
			return NUMBER_NO;
		part = (unsigned)(s[i + 1] - '0');
		i += 2;
		if (i < n && is_digit(s[i]) && part <= 5)
			part = part * 10 + (unsigned)(s[i++] - '0');
		if (!accumulate(mag, 60, part, limit))
			return NUMBER_RANGE;
	}
	return NUMBER_OK;
}

/* A decimal, [1-9][0-9_]*, or a base 60 one, [1-9][0-9_]*(:[0-5]?[0-9])+. */
static enum number decimal_value(const char *s, size_t n, uint64_t limit, uint64_t *mag)
{
	size_t first = 0;
	enum number got;

	while (first < n && (is_digit(s[first]) || s[first] == '_'))
		first++;
	got = digits_value(s, first, 10, limit, mag);
	if (got != NUMBER_OK || first == n)
		return got;
	return sexagesimal_value(s + first, n - first, limit, mag);
}

/* S (N bytes) as PyYAML's int resolver has it (yaml_doc.h) into *VALUE. */
static enum number int_text(const char *s, size_t n, json_int_t *value)
{
	bool negative = n > 0 && s[0] == '-';
	uint64_t limit = negative ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	uint64_t mag = 0;
	enum number got;

	if (n > 0 && (s[0] == '-' || s[0] == '+'))
		s++, n--;
	if (n == 0)
		return NUMBER_NO;
	if (n >= 2 && s[0] == '0' && s[1] == 'b')
		got = digits_value(s + 2, n - 2, 2, limit, &mag);
	else if (n >= 2 && s[0] == '0' && s[1] == 'x')
		got = digits_value(s + 2, n - 2, 16, limit, &mag);
	else if (s[0] == '0')
		got = digits_value(s, n, 8, limit, &mag); /* "0" included */
	else if (is_digit(s[0]))
		got = decimal_value(s, n, limit, &mag);
	else
		return NUMBER_NO;
	if (got != NUMBER_OK)
		return got;
	if (negative)
		*value = mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(json_int_t)mag;
	else
		*value = (json_int_t)mag;
	return NUMBER_OK;
}

/* [0-9_]* from I on; the index past it. */
static size_t skip_digits(const char *s, size_t n, size_t i)
{
	while (i < n && (is_digit(s[i]) || s[i] == '_'))
		i++;
	return i;
}

/* S (N bytes) without its '_' as a C string (N + 1 bytes at least in OUT). */
static char *strip_underscores(const char *s, size_t n, char *out)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] != '_')
			out[k++] = s[i];
	}
	out[k] = '\0';
	return out;
}

/* The decimal form of a float. STRICT, as PyYAML's resolver:
 * [-+]?[0-9][0-9_]*\.[0-9_]*([eE][-+][0-9]+)? or \.[0-9][0-9_]*(the same
 * exponent). Else, as Python's float() (for !!float): the '.' may be left
 * out, the exponent's sign too, and ".5" may have a sign. */
static bool decimal_float_form(const char *s, size_t n, bool strict)
{
	size_t i = 0, mantissa;
	bool sign = n > 0 && (s[0] == '-' || s[0] == '+');

	if (sign)
		i++;
	mantissa = i;
	i = skip_digits(s, n, i);
	if (i > mantissa && s[mantissa] == '_')
		return false; /* the first is a digit */
	if (i < n && s[i] == '.') {
		if (i == mantissa && ((sign && strict) || i + 1 == n || !is_digit(s[i + 1])))
			return false; /* .[0-9]: a digit after the '.' */
		i = skip_digits(s, n, i + 1);
	} else if (strict || i == mantissa) {
		return false;
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		size_t digits;

		i++;
		if (i < n && (s[i] == '-' || s[i] == '+'))
			i++;
		else if (strict)
			return false;
		digits = i;
		while (i < n && is_digit(s[i]))
			i++;
		if (i == digits)
			return false;
	}
	return i == n;
}

/* The base 60 form of a float: [-+]?[0-9][0-9_]*(:[0-5]?[0-9])+\.[0-9_]*;
 * unless STRICT, the '.' and what follows it may be left out. */
static bool sexagesimal_float_form(const char *s, size_t n, bool strict)
{
	size_t i = n > 0 && (s[0] == '-' || s[0] == '+') ? 1 : 0;
	size_t parts = 0;

	if (i == n || !is_digit(s[i]))
		return false;
	i = skip_digits(s, n, i);
	while (i < n && s[i] == ':') {
		size_t d = i + 1;

		if (d == n || !is_digit(s[d]))
			return false;
		i = d + 1;
		if (i < n && is_digit(s[i]) && s[d] <= '5')
			i++;
		parts++;
	}
	if (parts > 0 && i == n && !strict)
		return true;
	if (parts == 0 || i == n || s[i] != '.')
		return false;
	return skip_digits(s, n, i + 1) == n;
}

/* A base 60 float's value, as PyYAML computes it: every part read as a
 * float, then the sum of part * 60^k from the last part on. TEXT has no '_'
 * and no sign. */
static double sexagesimal_float(char *text)
{
	double value = 0, base = 1;
	char *colon;

	while ((colon = strrchr(text, ':')) != NULL) {
		value += strtod(colon + 1, NULL) * base;
		base *= 60;
		*colon = '\0';
	}
	return value + strtod(text, NULL) * base;
}

/* S (N bytes) as a float (STRICT: PyYAML's resolver; else what !!float
 * takes too) into *VALUE, which may be an infinity or NaN. */
static enum number float_text(const char *s, size_t n, bool strict, double *value)
{
	static const char *const infinities[] = {".inf", ".Inf", ".INF", NULL};
	static const char *const nans[] = {".nan", ".NaN", ".NAN", NULL};
	bool negative = n > 0 && s[0] == '-';
	size_t sign = n > 0 && (s[0] == '-' || s[0] == '+') ? 1 : 0;
	cleanup_free char *text = NULL;

	if (text_in(s + sign, n - sign, infinities)) {
		*value = negative ? -INFINITY : INFINITY;
		return NUMBER_OK;
	}
	if (text_in(s, n, nans)) {
		*value = NAN;
		return NUMBER_OK;
	}
	if (!decimal_float_form(s, n, strict) && !sexagesimal_float_form(s, n, strict))
		return NUMBER_NO;
	text = malloc(n + 1);
	if (text == NULL)
		return NUMBER_NOMEM;
	strip_underscores(s + sign, n - sign, text);
	*value = strchr(text, ':') != NULL ? sexagesimal_float(text) : strtod(text, NULL);
	if (negative)
		*value = -*value;
	return NUMBER_OK;
}

/* A double as a value: jansson holds no infinity or NaN, so those are the
 * strings "inf", "-inf" and "nan". */
static json_t *real_value(double value)
{
	if (isnan(value))
		return json_string("nan");
	if (isinf(value))
		return json_string(value > 0 ? "inf" : "-inf");
	return json_real(value);
}

/* How a scalar is to be read. */
enum scalar_type {
	TYPE_RESOLVE, /* plain and untagged: by the implicit resolvers */
	TYPE_STR,
	TYPE_NULL,
	TYPE_BOOL,
	TYPE_INT,
	TYPE_FLOAT,
	TYPE_MAP,
	TYPE_SEQ,
	TYPE_UNSUPPORTED,
};

/* The type a tag (NULL: none) asks for. */
static enum scalar_type tag_type(const yaml_char_t *tag)
{
	static const char *const names[] = {
	    [TYPE_STR] = "str",	    [TYPE_NULL] = "null", [TYPE_BOOL] = "bool", [TYPE_INT] = "int",
	    [TYPE_FLOAT] = "float", [TYPE_MAP] = "map",	  [TYPE_SEQ] = "seq",
	};
	size_t prefix = strlen(TAG_PREFIX);

	if (tag == NULL)
		return TYPE_RESOLVE;
	if (strncmp((const char *)tag, TAG_PREFIX, prefix) != 0)
		return TYPE_UNSUPPORTED;
	for (size_t i = TYPE_STR; i <= TYPE_SEQ; i++) {
		if (strcmp((const char *)tag + prefix, names[i]) == 0)
			return (enum scalar_type)i;
	}
	return TYPE_UNSUPPORTED;
}

/* What int_text made of S (N bytes): GOT and VALUE, into *OUT, or the error
 * for it at LINE. */
static int int_result(struct reader *r, enum number got, json_int_t value, const char *s, size_t n,
		      size_t line, json_t **out)
{
	char shown[SHOWN_SIZE];

	switch (got) {
	case NUMBER_OK:
		*out = json_integer(value);
		return *out != NULL ? 0 : out_of_memory(r);
	case NUMBER_RANGE:
		return fail(r, line, "the integer %s is out of range (a 64-bit integer)",
			    show(shown, s, n, false));
	case NUMBER_EMPTY:
		return fail(r, line, "the integer %s has no digits", show(shown, s, n, true));
	case NUMBER_NOMEM:
		return out_of_memory(r);
	case NUMBER_NO:
		break;
	}
	return fail(r, line, "%s is not an integer (!!int)", show(shown, s, n, true));
}

/* What float_text made of S (N bytes): GOT and VALUE, into *OUT, or the
 * error for it at LINE. */
static int float_result(struct reader *r, enum number got, double value, const char *s, size_t n,
			size_t line, json_t **out)
{
	char shown[SHOWN_SIZE];

	if (got == NUMBER_OK) {
		*out = real_value(value);
		return *out != NULL ? 0 : out_of_memory(r);
	}
	if (got == NUMBER_NOMEM)
		return out_of_memory(r);
	return fail(r, line, "%s is not a float (!!float)", show(shown, s, n, true));
}

/* A plain, untagged scalar, resolved as PyYAML does (yaml_doc.h). */
static int resolve_plain(struct reader *r, const char *s, size_t n, size_t line, json_t **out)
{
	enum number got;
	json_int_t i = 0;
	double d = 0;
	int b;

	if (is_null_text(s, n)) {
		*out = json_null();
		return 0;
	}
	b = bool_text(s, n);
	if (b >= 0) {
		*out = json_boolean(b);
		return 0;
	}
	got = int_text(s, n, &i);
	if (got != NUMBER_NO)
		return int_result(r, got, i, s, n, line, out);
	got = float_text(s, n, true, &d);
	if (got != NUMBER_NO)
		return float_result(r, got, d, s, n, line, out);
	*out = json_stringn(s, n);
	return *out != NULL ? 0 : out_of_memory(r);
}

/* A scalar tagged !!null or !!bool (TYPE): its text must be one of the
 * type's words. */
static int word_value(struct reader *r, enum scalar_type type, const char *s, size_t n, size_t line,
		      json_t **out)
{
	char shown[SHOWN_SIZE];
	int b;

	if (type == TYPE_NULL) {
		if (!is_null_text(s, n))
			return fail(r, line, "%s is not a null (!!null)", show(shown, s, n, true));
		*out = json_null();
		return 0;
	}
	b = bool_text(s, n);
	if (b < 0)
		return fail(r, line, "%s is not a boolean (!!bool)", show(shown, s, n, true));
	*out = json_boolean(b);
	return 0;
}

/* The scalar of EV as a value, by its tag and its style. */
static int scalar_value(struct reader *r, const yaml_event_t *ev, json_t **out)
{
	const char *s = (const char *)ev->data.scalar.value;
	size_t n = ev->data.scalar.length, line = mark_line(ev->start_mark);
	enum scalar_type type = tag_type(ev->data.scalar.tag);
	char shown[SHOWN_SIZE];
	enum number got;
	json_int_t i = 0;
	double d = 0;

	if (type == TYPE_RESOLVE && ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		type = TYPE_STR;
	switch (type) {
	case TYPE_RESOLVE:
		return resolve_plain(r, s, n, line, out);
	case TYPE_STR:
		*out = json_stringn(s, n);
		return *out != NULL ? 0 : out_of_memory(r);
	case TYPE_NULL:
	case TYPE_BOOL:
		return word_value(r, type, s, n, line, out);
	case TYPE_INT:
		got = int_text(s, n, &i);
		return int_result(r, got, i, s, n, line, out);
	case TYPE_FLOAT:
		got = float_text(s, n, false, &d);
		return float_result(r, got, d, s, n, line, out);
	default:
		break;
	}
	if (type == TYPE_UNSUPPORTED)
		return fail(r, line, "unsupported tag %s", show_tag(shown, ev->data.scalar.tag));
	return fail(r, line, "the tag %s cannot be on a scalar",
		    show_tag(shown, ev->data.scalar.tag));
}

/* ---- nodes --------------------------------------------------------------- */

static int read_node(struct reader *r, const yaml_event_t *ev, json_t **out);

/* One more node, the one EV starts. */
static int count_node(struct reader *r, const yaml_event_t *ev)
{
	if (++r->nodes > SP_YAML_MAX_NODES)
		return fail(r, mark_line(ev->start_mark), "more than %d nodes", SP_YAML_MAX_NODES);
	return 0;
}

/* The next event into EV, or the parser's error. */
static int next_event(struct reader *r, yaml_event_t *ev)
{
	if (!yaml_parser_parse(&r->parser, ev))
		return parser_failed(r);
	return 0;
}

/* The error for an alias, EV. */
static int alias_found(struct reader *r, const yaml_event_t *ev)
{
	const char *name = (const char *)ev->data.alias.anchor;
	char shown[SHOWN_SIZE];

	return fail(r, mark_line(ev->start_mark), "aliases are not supported (*%s)",
		    show(shown, name, strlen(name), false));
}

/* The items of a sequence, up to its end, into *OUT. */
static int read_sequence(struct reader *r, json_t **out)
{
	json_auto_t *array = json_array();

	if (array == NULL)
		return out_of_memory(r);
	for (;;) {
		cleanup_event yaml_event_t ev = NO_EVENT;
		json_t *item;

		if (next_event(r, &ev) < 0)
			return -1;
		if (ev.type == YAML_SEQUENCE_END_EVENT)
			break;
		if (read_node(r, &ev, &item) < 0)
			return -1;
		if (json_array_append_new(array, item) < 0)
			return out_of_memory(r);
	}
	*out = steal_pointer(&array);
	return 0;
}

/* KEY, the first event of a mapping's key, is one sandpool keeps: a scalar
 * (its tag, when it has one, fits it), neither a merge nor one with a NUL. */
static int check_key(struct reader *r, const yaml_event_t *key)
{
	static const char *const kinds[] = {
	    [YAML_SEQUENCE_START_EVENT] = "a sequence", [YAML_MAPPING_START_EVENT] = "a mapping"};
	size_t line = mark_line(key->start_mark);
	json_auto_t *value = NULL;

	if (key->type == YAML_ALIAS_EVENT)
		return alias_found(r, key);
	if (key->type == YAML_SEQUENCE_START_EVENT || key->type == YAML_MAPPING_START_EVENT)
		return fail(r, line, "a key must be a scalar, not %s", kinds[key->type]);
	if (count_node(r, key) < 0)
		return -1;
	if (key->data.scalar.tag == NULL && key->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	    text_is((const char *)key->data.scalar.value, key->data.scalar.length, "<<"))
		return fail(r, line, "merge keys (<<) are not supported");
	if (memchr(key->data.scalar.value, '\0', key->data.scalar.length) != NULL)
		return fail(r, line, "a key holds a NUL character");
	if (key->data.scalar.tag != NULL)
		return scalar_value(r, key, &value);
	return 0;
}

/* One entry of a mapping, its key's event KEY then its value, into OBJECT. */
static int read_entry(struct reader *r, json_t *object, const yaml_event_t *key)
{
	cleanup_event yaml_event_t ev = NO_EVENT;
	const char *text = (const char *)key->data.scalar.value;
	size_t length = key->data.scalar.length;
	char shown[SHOWN_SIZE];
	json_t *value;

	if (check_key(r, key) < 0)
		return -1;
	if (json_object_getn(object, text, length) != NULL)
		return fail(r, mark_line(key->start_mark), "duplicate key %s",
			    show(shown, text, length, true));
	if (next_event(r, &ev) < 0 || read_node(r, &ev, &value) < 0)
		return -1;
	if (json_object_setn_new(object, text, length, value) < 0)
		return out_of_memory(r);
	return 0;
}

/* The entries of a mapping, up to its end, into *OUT. */
static int read_mapping(struct reader *r, json_t **out)
{
	json_auto_t *object = json_object();

	if (object == NULL)
		return out_of_memory(r);
	for (;;) {
		cleanup_event yaml_event_t key = NO_EVENT;

		if (next_event(r, &key) < 0)
			return -1;
		if (key.type == YAML_MAPPING_END_EVENT)
			break;
		if (read_entry(r, object, &key) < 0)
			return -1;
	}
	*out = steal_pointer(&object);
	return 0;
}

/* A mapping or a sequence, EV its start: its tag and its depth checked. */
static int read_collection(struct reader *r, const yaml_event_t *ev, json_t **out)
{
	bool mapping = ev->type == YAML_MAPPING_START_EVENT;
	const yaml_char_t *tag = mapping ? ev->data.mapping_start.tag : ev->data.sequence_start.tag;
	enum scalar_type type = tag_type(tag);
	size_t line = mark_line(ev->start_mark);
	char shown[SHOWN_SIZE];
	int rc;

	if (type == TYPE_UNSUPPORTED)
		return fail(r, line, "unsupported tag %s", show_tag(shown, tag));
	if (type != TYPE_RESOLVE && type != (mapping ? TYPE_MAP : TYPE_SEQ))
		return fail(r, line, "the tag %s cannot be on a %s", show_tag(shown, tag),
			    mapping ? "mapping" : "sequence");
	if (r->depth == SP_YAML_MAX_DEPTH)
		return fail(r, line, "nested more than %d levels deep", SP_YAML_MAX_DEPTH);
	r->depth++;
	rc = mapping ? read_mapping(r, out) : read_sequence(r, out);
	r->depth--;
	return rc;
}

/* The node EV starts (its other events come from the parser) into *OUT. */
static int read_node(struct reader *r, const yaml_event_t *ev, json_t **out)
{
	*out = NULL;
	switch (ev->type) {
	case YAML_ALIAS_EVENT:
		return alias_found(r, ev);
	case YAML_SCALAR_EVENT:
		if (count_node(r, ev) < 0)
			return -1;
		return scalar_value(r, ev, out);
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		if (count_node(r, ev) < 0)
			return -1;
		return read_collection(r, ev, out);
	default:
		break;
	}
	return fail(r, mark_line(ev->start_mark), "a node was expected");
}

/* ---- the stream ---------------------------------------------------------- */

/* A document, after its start: its node and its end, into *OUT. */
static int read_document(struct reader *r, json_t **out)
{
	cleanup_event yaml_event_t ev = NO_EVENT;
	json_auto_t *value = NULL;

	if (next_event(r, &ev) < 0 || read_node(r, &ev, &value) < 0)
		return -1;
	yaml_event_delete(&ev);
	if (next_event(r, &ev) < 0)
		return -1;
	if (ev.type != YAML_DOCUMENT_END_EVENT)
		return fail(r, mark_line(ev.start_mark), "the end of the document was expected");
	*out = steal_pointer(&value);
	return 0;
}

/* The stream: its start, no document (json null) or one, its end. */
static int read_stream(struct reader *r, json_t **out)
{
	cleanup_event yaml_event_t ev = NO_EVENT;
	json_auto_t *doc = NULL;

	if (next_event(r, &ev) < 0)
		return -1; /* the stream's start */
	yaml_event_delete(&ev);
	if (next_event(r, &ev) < 0)
		return -1;
	if (ev.type == YAML_STREAM_END_EVENT) {
		*out = json_null();
		return 0;
	}
	if (read_document(r, &doc) < 0)
		return -1;
	yaml_event_delete(&ev);
	if (next_event(r, &ev) < 0)
		return -1;
	if (ev.type != YAML_STREAM_END_EVENT)
		return fail(r, mark_line(ev.start_mark), "a second document (only one is allowed)");
	*out = steal_pointer(&doc);
	return 0;
}

int sp_yaml_parse(const char *text, size_t length, const char *what, json_t **out,
		  struct sp_error *err)
{
	struct reader r = {
	    .text = text != NULL ? text : "",
	    .length = text != NULL ? length : 0,
	    .what = what != NULL ? what : "YAML",
	    .err = err,
	};
	int rc;

	*out = NULL;
	if (check_bytes(&r) < 0)
		return -1;
	if (!yaml_parser_initialize(&r.parser))
		return out_of_memory(&r);
	yaml_parser_set_input_string(&r.parser, (const unsigned char *)r.text, r.length);
	yaml_parser_set_encoding(&r.parser, YAML_UTF8_ENCODING);
	rc = read_stream(&r, out);
	yaml_parser_delete(&r.parser);
	return rc;
}
