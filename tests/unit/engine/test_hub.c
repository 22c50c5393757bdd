/* Who watches which jobs: an event reaches the watchers of its job and of its
 * user once each, of the same owner only; a job's watches end with its
 * result; a watcher that goes takes its watches along; thousands of topics
 * and watchers. */
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "server/engine/hub.h"

struct probe {
	struct sp_watcher w; /* first */
	unsigned heard;
};

static void count_it(struct sp_watcher *w, struct sp_hub_text *text)
{
	(void)text;
	((struct probe *)w)->heard++;
}

static void probe_init(struct probe *p)
{
	memset(p, 0, sizeof(*p));
	p->w.deliver = count_it;
}

static void publish(struct sp_hub *hub, const char *id, const char *user, int owner,
		    const char *type)
{
	json_t *ev = json_pack("{s:s, s:s}", "type", type, "id", id);

	sp_hub_publish(hub, id, user, owner, ev);
	json_decref(ev);
}

static void test_job_and_user_once_each(void **state)
{
	struct sp_hub *hub = sp_hub_new();
	struct probe both, job, user, other_owner, other_user;

	(void)state;
	probe_init(&both);
	probe_init(&job);
	probe_init(&user);
	probe_init(&other_owner);
	probe_init(&other_user);
	assert_int_equal(sp_hub_watch_job(hub, &both.w, "j1", 0), 0);
	assert_int_equal(sp_hub_watch_user(hub, &both.w, "u1", 0), 0);
	assert_int_equal(sp_hub_watch_user(hub, &both.w, "u1", 0), 0);
	assert_int_equal(sp_hub_watch_job(hub, &job.w, "j1", 0), 0);
	assert_int_equal(sp_hub_watch_user(hub, &user.w, "u1", 0), 0);
	assert_int_equal(sp_hub_watch_user(hub, &other_owner.w, "u1", 1), 0);
	assert_int_equal(sp_hub_watch_user(hub, &other_user.w, "u2", 0), 0);
	assert_int_equal(sp_hub_watches(&both.w), 3);
	assert_true(sp_hub_watched(hub, "j1", NULL, 0));
	assert_true(sp_hub_watched(hub, "j9", "u1", 0));
	assert_false(sp_hub_watched(hub, "j9", "u3", 0));
	assert_false(sp_hub_watched(hub, "j1", NULL, 2));

	publish(hub, "j1", "u1", 0, "stdout");
	assert_int_equal(both.heard, 1);
	assert_int_equal(job.heard, 1);
	assert_int_equal(user.heard, 1);
	assert_int_equal(other_owner.heard, 0);
	assert_int_equal(other_user.heard, 0);

	/* the result ends the watches of the job, not of the user */
	publish(hub, "j1", "u1", 0, "result");
	assert_int_equal(sp_hub_watches(&job.w), 0);
	assert_int_equal(sp_hub_watches(&both.w), 2);
	assert_false(sp_hub_watched(hub, "j1", NULL, 0));
	publish(hub, "j1", "u1", 0, "stdout");
	assert_int_equal(job.heard, 2);
	assert_int_equal(both.heard, 3);
	assert_int_equal(user.heard, 3);

	sp_hub_forget(hub, &both.w);
	assert_int_equal(sp_hub_watches(&both.w), 0);
	publish(hub, "j2", "u1", 0, "stdout");
	assert_int_equal(both.heard, 3);
	assert_int_equal(user.heard, 4);
	sp_hub_forget(hub, &user.w);
	sp_hub_forget(hub, &other_owner.w);
	sp_hub_forget(hub, &other_user.w);
	assert_false(sp_hub_watched(hub, "j2", "u1", 0));
	sp_hub_free(hub);
}

static void test_unwatch_one_job(void **state)
{
	struct sp_hub *hub = sp_hub_new();
	struct probe p;

	(void)state;
	probe_init(&p);
	sp_hub_watch_job(hub, &p.w, "a", -1);
	sp_hub_watch_job(hub, &p.w, "b", -1);
	sp_hub_watch_user(hub, &p.w, "a", -1);
	sp_hub_unwatch_job(hub, &p.w, "a");
	assert_int_equal(sp_hub_watches(&p.w), 2);
	publish(hub, "a", NULL, -1, "stdout");
	assert_int_equal(p.heard, 0);
	publish(hub, "b", "a", -1, "stdout");
	assert_int_equal(p.heard, 1);
	/* a watcher still in the hub when it is freed */
	sp_hub_free(hub);
}

/* 5 000 watchers of one user and a job each: every event reaches each once,
 * and the table grows past its first buckets. */
static void test_many(void **state)
{
	enum { N = 5000 };
	struct sp_hub *hub = sp_hub_new();
	struct probe *p = calloc(N, sizeof(*p));
	char id[32];

	(void)state;
	for (int i = 0; i < N; i++) {
		probe_init(&p[i]);
		snprintf(id, sizeof(id), "job-%d", i);
		assert_int_equal(sp_hub_watch_job(hub, &p[i].w, id, 0), 0);
		assert_int_equal(sp_hub_watch_user(hub, &p[i].w, "everyone", 0), 0);
	}
	publish(hub, "job-7", "everyone", 0, "stdout");
	publish(hub, "job-7", "everyone", 0, "result");
	for (int i = 0; i < N; i++) {
		snprintf(id, sizeof(id), "job-%d", i);
		assert_int_equal(p[i].heard, 2);
		assert_true(sp_hub_watched(hub, id, NULL, 0) == (i != 7));
	}
	for (int i = 0; i < N; i++)
		sp_hub_forget(hub, &p[i].w);
	assert_false(sp_hub_watched(hub, "job-1", "everyone", 0));
	sp_hub_free(hub);
	free(p);
}

/* What the hub told of its topics, as "+KEY" or "-KEY" (u: for a user),
 * each with its owner. */
struct told {
	char log[512];
};

static void tell(void *ctx, const char *key, bool user, int owner, bool watched)
{
	struct told *t = ctx;
	size_t n = strlen(t->log);

	snprintf(t->log + n, sizeof(t->log) - n, "%c%s%s/%d ", watched ? '+' : '-',
		 user ? "u:" : "", key, owner);
}

/* The queue hears of a topic's first watch and its last, once each and in
 * order: by unwatching, by a job's result, by a watcher that goes. */
static void test_topics_told_first_and_last(void **state)
{
	struct sp_hub *hub = sp_hub_new();
	struct told told = {0};
	struct probe a, b;

	(void)state;
	probe_init(&a);
	probe_init(&b);
	sp_hub_observe(hub, &(struct sp_hub_topics){.changed = tell, .ctx = &told});
	sp_hub_watch_job(hub, &a.w, "j1", 0);
	sp_hub_watch_job(hub, &b.w, "j1", 0);
	sp_hub_watch_user(hub, &a.w, "ada", 3);
	sp_hub_watch_job(hub, &b.w, "j2", 0);
	assert_string_equal(told.log, "+j1/0 +u:ada/3 +j2/0 ");
	told.log[0] = '\0';
	assert_true(sp_hub_unwatch_job(hub, &a.w, "j1"));
	assert_string_equal(told.log, "");
	publish(hub, "j1", NULL, 0, "result");
	assert_string_equal(told.log, "-j1/0 ");
	told.log[0] = '\0';
	sp_hub_forget(hub, &a.w);
	sp_hub_forget(hub, &b.w);
	assert_string_equal(told.log, "-u:ada/3 -j2/0 ");
	sp_hub_free(hub);
}

/* A watcher that says events in words of its own gets the event itself,
 * and no text is made for it; the others still get the shared text. */
struct translator {
	struct sp_watcher w; /* first */
	char types[64];
	unsigned texts;
};

static void translated(struct sp_watcher *w, const json_t *event)
{
	struct translator *t = (struct translator *)w;
	size_t n = strlen(t->types);

	snprintf(t->types + n, sizeof(t->types) - n, "%s ",
		 json_string_value(json_object_get(event, "type")));
}

static void no_text(struct sp_watcher *w, struct sp_hub_text *text)
{
	(void)text;
	((struct translator *)w)->texts++;
}

static void test_event_to_a_translator(void **state)
{
	struct sp_hub *hub = sp_hub_new();
	struct translator t = {.w = {.deliver = no_text, .deliver_event = translated}};
	struct probe p;

	(void)state;
	probe_init(&p);
	sp_hub_watch_job(hub, &t.w, "j1", 0);
	sp_hub_watch_job(hub, &p.w, "j1", 0);
	publish(hub, "j1", NULL, 0, "started");
	publish(hub, "j1", NULL, 0, "stdout");
	publish(hub, "j1", NULL, 0, "result");
	publish(hub, "j1", NULL, 0, "stdout"); /* the watch ended with the result */
	assert_string_equal(t.types, "started stdout result ");
	assert_int_equal(t.texts, 0);
	assert_int_equal(p.heard, 3);
	sp_hub_forget(hub, &t.w);
	sp_hub_forget(hub, &p.w);
	sp_hub_free(hub);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_job_and_user_once_each),
	    cmocka_unit_test(test_unwatch_one_job),
	    cmocka_unit_test(test_many),
	    cmocka_unit_test(test_topics_told_first_and_last),
	    cmocka_unit_test(test_event_to_a_translator),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
