#include "semver.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define RANGE_MAX 256

/* A version as three numbers; PARTS of them given (a partial version or a
 * wildcard gives fewer: the rest are any). */
struct version {
	uint64_t n[3];
	int parts;
};

/* A stretch [LOW, HIGH) of versions; HIGH unbounded when OPEN. */
struct span {
	struct version low, high;
	bool low_inclusive, open, high_inclusive;
};

static bool is_wild(const char *p)
{
	return (*p == 'x' || *p == 'X' || *p == '*') && (p[1] == '.' || p[1] == '\0');
}

/* TEXT (a whole token) as a version, a leading "v" or "=" allowed. Stops at
 * a '-' or '+' (pre-release, build) or past three numbers. */
static int read_version(const char *text, struct version *v)
{
	const char *p = text;

	memset(v, 0, sizeof(*v));
	while (*p == 'v' || *p == '=' || *p == 'V')
		p++;
	while (v->parts < 3 && *p != '\0') {
		uint64_t n = 0;
		int digits = 0;

		if (is_wild(p))
			break;
		while (isdigit((unsigned char)*p) && digits < 18) {
			n = n * 10 + (uint64_t)(*p++ - '0');
			digits++;
		}
		if (digits == 0)
			return -1;
		v->n[v->parts++] = n;
		if (*p == '.')
			p++;
		else
			break;
	}
	/* what follows: more numbers, wildcards, a pre-release or build tag */
	while (*p != '\0' && (isalnum((unsigned char)*p) || strchr(".-+*", *p)))
		p++;
	return *p == '\0' ? 0 : -1;
}

static int compare(const struct version *a, const struct version *b)
{
	for (int i = 0; i < 3; i++)
		if (a->n[i] != b->n[i])
			return a->n[i] < b->n[i] ? -1 : 1;
	return 0;
}

/* V with its number AT one up and the ones after it zero. */
static struct version bumped(struct version v, int at)
{
	v.n[at]++;
	for (int i = at + 1; i < 3; i++)
		v.n[i] = 0;
	v.parts = 3;
	return v;
}

static struct span any(void)
{
	return (struct span){.low_inclusive = true, .open = true};
}

/* [LOW, HIGH) */
static struct span between(struct version low, struct version high)
{
	return (struct span){.low = low, .high = high, .low_inclusive = true};
}

/* The versions a partial version V stands for (an "X-range"). */
static struct span of_partial(const struct version *v)
{
	if (v->parts == 0)
		return any();
	if (v->parts == 3)
		return (struct span){
		    .low = *v, .high = *v, .low_inclusive = true, .high_inclusive = true};
	return between(*v, bumped(*v, v->parts - 1));
}

static struct span caret(const struct version *v)
{
	int at = 0;

	if (v->parts == 0)
		return any();
	/* the first number that is not zero stays; a partial one counts */
	while (at < v->parts - 1 && v->n[at] == 0)
		at++;
	if (v->n[at] == 0 && at == v->parts - 1 && v->parts < 3)
		return of_partial(v);
	return between(*v, bumped(*v, at));
}

static struct span tilde(const struct version *v)
{
	if (v->parts == 0)
		return any();
	return between(*v, bumped(*v, v->parts >= 2 ? 1 : 0));
}

/* One comparator: OP ("", "=", ">", ">=", "<", "<=", "^", "~") and V. */
static struct span comparator(const char *op, const struct version *v)
{
	struct span all = of_partial(v), s = any();

	if (op[0] == '^')
		return caret(v);
	if (op[0] == '~')
		return tilde(v);
	if (strcmp(op, ">=") == 0) {
		s.low = all.low;
	} else if (strcmp(op, ">") == 0) {
		if (v->parts == 0)
			return (struct span){.open = false}; /* nothing is above any */
		s.low = v->parts == 3 ? *v : all.high;
		s.low_inclusive = v->parts != 3;
	} else if (strcmp(op, "<") == 0) {
		s = (struct span){.low_inclusive = true, .high = all.low};
	} else if (strcmp(op, "<=") == 0) {
		if (v->parts == 0)
			return any();
		s = (struct span){.low_inclusive = true,
				  .high = v->parts == 3 ? *v : all.high,
				  .high_inclusive = v->parts == 3};
	} else {
		return all;
	}
	return s;
}

static bool within(const struct version *v, const struct span *s)
{
	int lo = compare(v, &s->low), hi;

	if (lo < 0 || (lo == 0 && !s->low_inclusive))
		return false;
	if (s->open)
		return true;
	hi = compare(v, &s->high);
	return hi < 0 || (hi == 0 && s->high_inclusive);
}

/* The operator at the start of *P, moved past (and the spaces after it). */
static void take_operator(const char **p, char op[3])
{
	size_t n = 0;

	while (n < 2 && strchr("<>=^~", (*p)[n]) != NULL && (*p)[n] != '\0')
		n++;
	memcpy(op, *p, n);
	op[n] = '\0';
	*p += n;
	while (**p == ' ')
		(*p)++;
}

/* The next word of *P (up to a space), into WORD. */
static int take_word(const char **p, char *word, size_t size)
{
	size_t n = strcspn(*p, " ");

	if (n == 0 || n >= size)
		return -1;
	memcpy(word, *p, n);
	word[n] = '\0';
	*p += n;
	while (**p == ' ')
		(*p)++;
	return 0;
}

/* Whether V satisfies every comparator of SET (no "||" in it). */
static int satisfies_set(const struct version *v, const char *set)
{
	const char *p = set;
	char word[RANGE_MAX], op[3];
	struct version w, upper;
	bool ok = true;

	while (*p == ' ')
		p++;
	if (*p == '\0')
		return 1;
	while (*p != '\0') {
		struct span s;

		take_operator(&p, op);
		if (take_word(&p, word, sizeof(word)) < 0 || read_version(word, &w) < 0)
			return -1;
		if (op[0] == '\0' && strncmp(p, "- ", 2) == 0) { /* a hyphen range */
			p += 2;
			if (take_word(&p, word, sizeof(word)) < 0 || read_version(word, &upper) < 0)
				return -1;
			s = between(w, upper);
			if (upper.parts == 3)
				s.high_inclusive = true;
			else if (upper.parts == 0)
				s.open = true;
			else
				s.high = bumped(upper, upper.parts - 1);
		} else {
			s = comparator(op, &w);
		}
		ok = ok && within(v, &s);
	}
	return ok ? 1 : 0;
}

int sp_semver_satisfies(const char *version, const char *range)
{
	char copy[RANGE_MAX], *alternative, *save = NULL;
	struct version v;
	int any_ok = 0;

	if (read_version(version, &v) < 0 || v.parts == 0 || strlen(range) >= sizeof(copy))
		return -1;
	snprintf(copy, sizeof(copy), "%s", range);
	if (strstr(copy, "||") == NULL)
		return satisfies_set(&v, copy);
	for (char *p = strstr(copy, "||"); p != NULL; p = strstr(p, "||"))
		*p = '|', p[1] = ' ';
	for (alternative = strtok_r(copy, "|", &save); alternative != NULL;
	     alternative = strtok_r(NULL, "|", &save)) {
		int rc = satisfies_set(&v, alternative);

		if (rc < 0)
			return -1;
		any_ok |= rc;
	}
	return any_ok;
}

int sp_semver_compare(const char *a, const char *b)
{
	struct version va, vb;
	int ra = read_version(a, &va), rb = read_version(b, &vb);

	if (ra < 0 || rb < 0)
		return ra < 0 ? (rb < 0 ? 0 : -1) : 1;
	return compare(&va, &vb);
}
