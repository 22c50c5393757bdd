#include "java_source.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* ---- tokens ------------------------------------------------------------------ */

enum token_kind { TOKEN_END, TOKEN_WORD, TOKEN_PUNCT, TOKEN_LITERAL };

struct token {
	enum token_kind kind;
	const char *start;
	size_t len;
};

struct lexer {
	const char *s;
	size_t len, pos;
};

/* Bytes of a name: ASCII letters, digits, _ and $, and every non-ASCII byte
 * (Java letters beyond ASCII arrive as UTF-8). */
static bool word_byte(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '$' || c >= 0x80;
}

static bool at(const struct lexer *lx, size_t offset, const char *text)
{
	size_t n = strlen(text);

	return lx->pos + offset + n <= lx->len && memcmp(lx->s + lx->pos + offset, text, n) == 0;
}

/* Past whitespace and comments; an unterminated comment ends the text. */
static void skip_blank(struct lexer *lx)
{
	while (lx->pos < lx->len) {
		unsigned char c = (unsigned char)lx->s[lx->pos];

		if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f') {
			lx->pos++;
		} else if (at(lx, 0, "//")) {
			while (lx->pos < lx->len && lx->s[lx->pos] != '\n')
				lx->pos++;
		} else if (at(lx, 0, "/*")) {
			const char *end =
			    memmem(lx->s + lx->pos + 2, lx->len - lx->pos - 2, "*/", 2);

			lx->pos = end ? (size_t)(end - lx->s) + 2 : lx->len;
		} else {
			return;
		}
	}
}

/* Past a literal that QUOTE (one byte, or """) closes, escapes included; a
 * one-line literal also ends at the end of its line. */
static void skip_literal(struct lexer *lx, const char *quote)
{
	size_t n = strlen(quote);
	bool one_line = n == 1;

	lx->pos += n;
	while (lx->pos < lx->len) {
		if (lx->s[lx->pos] == '\\') {
			lx->pos += 2;
		} else if (at(lx, 0, quote)) {
			lx->pos += n;
			return;
		} else if (one_line && lx->s[lx->pos] == '\n') {
			return;
		} else {
			lx->pos++;
		}
	}
	lx->pos = lx->len;
}

static struct token next_token(struct lexer *lx)
{
	struct token t = {.kind = TOKEN_END};
	unsigned char c;

	skip_blank(lx);
	if (lx->pos >= lx->len)
		return t;
	t.start = lx->s + lx->pos;
	c = (unsigned char)lx->s[lx->pos];
	if (c == '"' || c == '\'') {
		skip_literal(lx, at(lx, 0, "\"\"\"") ? "\"\"\"" : c == '"' ? "\"" : "'");
		t.kind = TOKEN_LITERAL;
	} else if (word_byte(c)) {
		/* a name, a keyword or a number: numbers take their '.' too */
		bool number = c >= '0' && c <= '9';

		while (lx->pos < lx->len && (word_byte((unsigned char)lx->s[lx->pos]) ||
					     (number && lx->s[lx->pos] == '.')))
			lx->pos++;
		t.kind = number ? TOKEN_LITERAL : TOKEN_WORD;
	} else {
		lx->pos++;
		t.kind = TOKEN_PUNCT;
	}
	t.len = (size_t)(lx->s + lx->pos - t.start);
	return t;
}

static bool is_word(const struct token *t, const char *word)
{
	return t->kind == TOKEN_WORD && t->len == strlen(word) &&
	       memcmp(t->start, word, t->len) == 0;
}

static bool is_punct(const struct token *t, char c)
{
	return t->kind == TOKEN_PUNCT && t->start[0] == c;
}

/* ---- the top level ------------------------------------------------------------ */

struct scan {
	struct lexer lx;
	struct sp_java_source *out;
	struct token prev;
	unsigned braces, parens;
	/* a top-level declaration under way (braces 0) */
	bool public_seen, name_next;
	char declared[SP_JAVA_NAME_MAX]; /* its type's name, until its body opens */
	/* in the body of a top-level type (braces 1) */
	char body_of[SP_JAVA_NAME_MAX];
	bool static_seen, main_seen; /* "static", then "void main" in this member */
};

/* NAME (LEN bytes) into DST, unless it is too long. */
static void keep_name(char dst[SP_JAVA_NAME_MAX], const char *name, size_t len)
{
	if (len < SP_JAVA_NAME_MAX)
		snprintf(dst, SP_JAVA_NAME_MAX, "%.*s", (int)len, name);
}

/* "package a.b.c;": the dotted name up to the ';'. */
static void read_package(struct scan *sc)
{
	char name[SP_JAVA_NAME_MAX] = "";
	size_t len = 0;
	struct token t;

	while ((t = next_token(&sc->lx)).kind != TOKEN_END && !is_punct(&t, ';')) {
		if (len + t.len >= sizeof(name))
			return;
		memcpy(name + len, t.start, t.len);
		len += t.len;
		name[len] = '\0';
	}
	snprintf(sc->out->package, sizeof(sc->out->package), "%s", name);
}

static void skip_statement(struct scan *sc)
{
	struct token t;

	while ((t = next_token(&sc->lx)).kind != TOKEN_END && !is_punct(&t, ';'))
		;
}

static bool type_keyword(const struct token *t)
{
	return is_word(t, "class") || is_word(t, "interface") || is_word(t, "enum") ||
	       is_word(t, "record");
}

static void end_declaration(struct scan *sc)
{
	sc->public_seen = sc->name_next = false;
	sc->declared[0] = '\0';
}

static void name_declared(struct scan *sc, const struct token *t)
{
	sc->name_next = false;
	keep_name(sc->declared, t->start, t->len);
	if (sc->public_seen && sc->out->public_type[0] == '\0')
		keep_name(sc->out->public_type, t->start, t->len);
	if (sc->out->first_type[0] == '\0')
		keep_name(sc->out->first_type, t->start, t->len);
}

/* A word or ';' at the top level, outside parentheses. */
static void top_level(struct scan *sc, const struct token *t)
{
	if (sc->name_next && t->kind == TOKEN_WORD)
		name_declared(sc, t);
	else if (is_word(t, "package") && sc->out->first_type[0] == '\0')
		read_package(sc);
	else if (is_word(t, "import"))
		skip_statement(sc);
	else if (is_word(t, "public"))
		sc->public_seen = true;
	else if (type_keyword(t) && !is_punct(&sc->prev, '.'))
		sc->name_next = true; /* not Foo.class in an annotation */
	else if (is_punct(t, ';'))
		end_declaration(sc);
}

/* A token in the body of a top-level type, outside parentheses and nested
 * braces: "static ... void main (" makes it the class to run. */
static void member(struct scan *sc, const struct token *t)
{
	if (is_word(t, "static"))
		sc->static_seen = true;
	else if (is_word(t, "main") && is_word(&sc->prev, "void"))
		sc->main_seen = sc->static_seen;
	else if (is_punct(t, '(') && sc->main_seen && sc->out->main_type[0] == '\0')
		snprintf(sc->out->main_type, sizeof(sc->out->main_type), "%s", sc->body_of);
	if (is_punct(t, ';') || is_punct(t, '{') || is_punct(t, '}') || is_punct(t, '='))
		sc->static_seen = false;
	if (!is_word(t, "main"))
		sc->main_seen = false;
}

static void open_brace(struct scan *sc)
{
	if (sc->braces == 0) {
		snprintf(sc->body_of, sizeof(sc->body_of), "%s", sc->declared);
		end_declaration(sc);
	}
	sc->braces++;
	sc->static_seen = sc->main_seen = false;
}

static void close_brace(struct scan *sc)
{
	if (sc->braces > 0)
		sc->braces--;
	if (sc->braces == 0) {
		sc->body_of[0] = '\0';
		end_declaration(sc);
	}
	sc->static_seen = sc->main_seen = false;
}

static void step(struct scan *sc, const struct token *t)
{
	if (sc->braces == 1 && sc->parens == 0)
		member(sc, t); /* sees the '(' of "main(" before it counts */
	if (is_punct(t, '('))
		sc->parens++;
	else if (is_punct(t, ')') && sc->parens > 0)
		sc->parens--;
	else if (sc->parens > 0)
		return; /* braces of annotations and lambdas balance inside */
	else if (is_punct(t, '{'))
		open_brace(sc);
	else if (is_punct(t, '}'))
		close_brace(sc);
	else if (sc->braces == 0)
		top_level(sc, t);
}

void sp_java_source_scan(const char *text, size_t len, struct sp_java_source *source)
{
	struct scan sc = {.lx = {.s = text, .len = len}, .out = source};
	struct token t;

	memset(source, 0, sizeof(*source));
	/* annotations go by as words and parentheses; "@interface" declares a
	 * type like "interface" */
	while ((t = next_token(&sc.lx)).kind != TOKEN_END) {
		step(&sc, &t);
		sc.prev = t;
	}
}
