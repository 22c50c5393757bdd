/* The cache of checkers and interactors: by key, within a count and a number
 * of bytes, the least recently used going first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "server/engine/program_cache.h"

/* A program of BYTES with no files: enough for the cache. */
static struct sp_program *program_of(uint64_t bytes)
{
	struct sp_program *p = calloc(1, sizeof(*p));

	assert_non_null(p);
	p->bytes = bytes;
	atomic_init(&p->refs, 1);
	return p;
}

/* KEY is kept, as PROGRAM. */
static void assert_kept(struct sp_program_cache *c, const char *key, struct sp_program *program)
{
	struct sp_program *found = sp_program_cache_find(c, key);

	assert_ptr_equal(found, program);
	sp_program_put(found);
}

static void test_count_and_recent_use(void **state)
{
	struct sp_program_cache *c = sp_program_cache_new(2, 1000);
	struct sp_program *a = program_of(1), *b = program_of(1), *d = program_of(1);

	(void)state;
	assert_null(sp_program_cache_find(c, "a"));
	sp_program_cache_keep(c, "a", a);
	sp_program_cache_keep(c, "b", b);
	assert_kept(c, "a", a); /* a is now the more recent */
	sp_program_cache_keep(c, "d", d);
	assert_null(sp_program_cache_find(c, "b"));
	assert_kept(c, "a", a);
	assert_kept(c, "d", d);
	/* the cache held references of its own: ours are still good */
	assert_int_equal(atomic_load(&b->refs), 1);
	assert_int_equal(atomic_load(&a->refs), 2);
	sp_program_put(a);
	sp_program_put(b);
	sp_program_put(d);
	sp_program_cache_free(c);
}

static void test_bytes(void **state)
{
	struct sp_program_cache *c = sp_program_cache_new(8, 100);
	struct sp_program *a = program_of(40), *b = program_of(40), *d = program_of(40);
	struct sp_program *huge = program_of(101), *a2 = program_of(60);

	(void)state;
	sp_program_cache_keep(c, "a", a);
	sp_program_cache_keep(c, "b", b);
	sp_program_cache_keep(c, "d", d); /* 120 > 100: a, the oldest, goes */
	assert_null(sp_program_cache_find(c, "a"));
	assert_kept(c, "b", b);
	assert_kept(c, "d", d);
	sp_program_cache_keep(c, "huge", huge); /* larger than the whole cache */
	assert_null(sp_program_cache_find(c, "huge"));
	assert_kept(c, "b", b);
	/* a key kept again replaces its program and its bytes: b 40 + a2 60 */
	sp_program_cache_keep(c, "d", a2);
	assert_kept(c, "d", a2);
	assert_kept(c, "b", b);
	assert_int_equal(atomic_load(&d->refs), 1);
	sp_program_put(a);
	sp_program_put(b);
	sp_program_put(d);
	sp_program_put(huge);
	sp_program_put(a2);
	sp_program_cache_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_count_and_recent_use),
	    cmocka_unit_test(test_bytes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
