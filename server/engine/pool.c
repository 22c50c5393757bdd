#include "pool.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sandbox/base/clock.h"
#include "sandbox/base/dlist.h"
#include "sandbox/base/log.h"

#define RETRY_MIN_MS 100   /* first pause after a failed refill */
#define RETRY_MAX_MS 5000  /* longest pause between refill attempts */
#define KILL_WAIT_MS 10000 /* after the grace: wait for killed cells to come back */

/* A cell and where it is: on its language's idle list, on its leased list,
 * or on none while it is checked, reset or destroyed. */
struct sp_pool_slot {
	struct sp_cell cell;
	struct pool_lang *lang;
	pid_t pid;	    /* cell.pid, read by sp_pool_stop while the cell is leased */
	unsigned jobs;	    /* jobs served */
	bool reset_pending; /* asked to reset; its answer not read yet */
	bool spare;	    /* made for one lease beyond the warm ones: destroyed after */
	/* its last job compiled here (or it had none): its next compile step
	 * is prepared on the language's runtime, not as a plain step */
	bool compiles;
	unsigned steps_before; /* cell.jobs when it was leased */
	struct sp_dlink link;
};

struct pool_lang {
	char *name, *rootfs, *hostname;
	struct sp_cell_config config;
	unsigned size, max_jobs;
	bool prepare_steps;
	struct sp_limits prepare_limits;
	unsigned prepare_slots;
	const struct sp_cell_runtime *runtime[SP_CELL_SLOTS];
	pthread_cond_t cond; /* its waiters: a cell became idle, or it failed */
	bool cond_ready;
	struct sp_dlist idle, leased;
	unsigned busy;	   /* leased, or being checked, reset or destroyed */
	unsigned starting; /* being spawned */
	unsigned waiting;
	unsigned long jobs, replaced, spawn_failures;
	unsigned failures;	    /* consecutive failed refills */
	uint64_t retry_at_ms;	    /* no refill before */
	struct sp_error last_error; /* of the last failed refill */
};

struct sp_pool {
	pthread_mutex_t lock;	     /* everything below and in the languages */
	pthread_mutex_t spawn_lock;  /* one request at a time on the spawner */
	pthread_cond_t refill_cond;  /* a warm language lost a cell, or stop */
	pthread_cond_t drained_cond; /* while stopping: a lease ended or came back */
	pthread_t refill_thread;
	bool refill_running;
	bool stopping;
	unsigned inside; /* threads in sp_pool_lease */
	struct sp_spawner *spawner;
	const struct sp_cgroup_root *cgroups; /* each cell's cgroup goes below */
	size_t count;
	struct pool_lang *langs;
};

/* ---- lists, time ----------------------------------------------------------- */

static struct sp_pool_slot *slot_of(struct sp_dlink *link)
{
	return link ? sp_dlist_entry(link, struct sp_pool_slot, link) : NULL;
}

static void list_push(struct sp_dlist *list, struct sp_pool_slot *slot)
{
	sp_dlist_push(list, &slot->link);
}

static void list_remove(struct sp_dlist *list, struct sp_pool_slot *slot)
{
	sp_dlist_remove(list, &slot->link);
}

static struct sp_pool_slot *list_pop(struct sp_dlist *list)
{
	return slot_of(sp_dlist_pop(list));
}

uint64_t sp_pool_now_ms(void)
{
	return sp_clock_ms();
}

/* Wait on COND until DEADLINE_MS (CLOCK_MONOTONIC, 0 = none); ETIMEDOUT after it. */
static int cond_wait_until(pthread_cond_t *cond, pthread_mutex_t *lock, uint64_t deadline_ms)
{
	struct timespec ts = sp_clock_timespec(deadline_ms);

	if (deadline_ms == 0)
		return pthread_cond_wait(cond, lock);
	return pthread_cond_timedwait(cond, lock, &ts);
}

static int cond_init_monotonic(pthread_cond_t *cond)
{
	pthread_condattr_t attr;
	int rc;

	rc = pthread_condattr_init(&attr);
	if (rc != 0)
		return rc;
	rc = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	if (rc == 0)
		rc = pthread_cond_init(cond, &attr);
	pthread_condattr_destroy(&attr);
	return rc;
}

/* ---- cells ----------------------------------------------------------------- */

/* Ask the spawner for a cell of LANG. Called without the pool lock. */
static struct sp_pool_slot *slot_spawn(struct sp_pool *pool, struct pool_lang *lang,
				       struct sp_error *err)
{
	struct sp_pool_slot *slot = calloc(1, sizeof(*slot));
	int rc;

	if (slot == NULL) {
		sp_error_set(err, ENOMEM, "cell for %s", lang->name);
		return NULL;
	}
	slot->compiles = true;
	pthread_mutex_lock(&pool->spawn_lock);
	rc = sp_spawner_cell(pool->spawner, &lang->config, &slot->cell, err);
	pthread_mutex_unlock(&pool->spawn_lock);
	/* the cgroup now, so that no job pays for it */
	if (rc == 0 && sp_cell_use_cgroups(&slot->cell, pool->cgroups, err) < 0) {
		sp_cell_destroy(&slot->cell);
		rc = -1;
	}
	if (rc < 0) {
		free(slot);
		sp_error_wrap(err, "cell for %s", lang->name);
		return NULL;
	}
	slot->lang = lang;
	slot->pid = slot->cell.pid;
	return slot;
}

enum prepares { PREPARES_NOTHING, PREPARES_STEPS, PREPARES_RUNTIME };

static const char *prepares_to_string(enum prepares p)
{
	return p == PREPARES_RUNTIME ? "runtime" : p == PREPARES_STEPS ? "steps" : "nothing";
}

/* What LANG's warm cells prepare. */
static enum prepares lang_prepares(const struct pool_lang *lang)
{
	bool runtime = false;

	/* Without a pids cgroup, RLIMIT_NPROC bounds a job's processes: it
	 * counts every process of the job's user, a prepared step waiting in
	 * another cell too. */
	if (lang->size == 0 || !lang->config.cgroup_pids)
		return PREPARES_NOTHING;
	for (unsigned i = 0; i < lang->prepare_slots && i < SP_CELL_SLOTS; i++)
		runtime = runtime || lang->runtime[i] != NULL;
	return runtime ? PREPARES_RUNTIME : lang->prepare_steps ? PREPARES_STEPS : PREPARES_NOTHING;
}

/* A warm cell prepares the steps of its next job on their runtimes, when
 * the language has them (and the others, when prepare_steps asks), while
 * it waits for it, under the limits of those steps: the last job's may have
 * been too tight to prepare under. The answer is read with the reset's
 * (slot_reset_done); a cell that cannot take the request fails there and is
 * replaced. */
static void slot_prepare(struct sp_pool_slot *slot)
{
	struct pool_lang *lang = slot->lang;
	struct sp_error err = {0};

	if (lang_prepares(lang) == PREPARES_NOTHING || slot->spare)
		return;
	if (sp_cgroup_cell_set_limits(&slot->cell.cgroup, &lang->prepare_limits, &err) < 0)
		return;
	for (unsigned i = 0; i < lang->prepare_slots && i < SP_CELL_SLOTS; i++) {
		/* a compile's runtime costs much to start (javac warmed up): only
		 * for a cell whose jobs compile (a judge's tests run elsewhere
		 * compiled programs) */
		bool wanted = i > 0 || lang->prepare_slots == 1 || slot->compiles;
		const struct sp_cell_runtime *runtime = wanted ? lang->runtime[i] : NULL;

		/* a step without its runtime only when asked for: here it costs
		 * more (a fork, and an execve from it) than it saves */
		if (runtime == NULL && !lang->prepare_steps)
			continue;
		if (sp_cell_prepare_begin(&slot->cell, i, runtime, &err) < 0)
			return;
	}
}

static void slot_destroy(struct sp_pool_slot *slot)
{
	sp_cell_destroy(&slot->cell);
	free(slot);
}

/* The reset asked for when the cell was released has worked. */
static bool slot_reset_done(struct sp_pool_slot *slot)
{
	struct sp_error err = {0};
	char buf[SP_ERROR_MESSAGE_MAX + 64];

	if (!slot->reset_pending)
		return sp_cell_prepare_end(&slot->cell, &err) == 0;
	slot->reset_pending = false;
	if (sp_cell_reset_end(&slot->cell, &err) == 0 &&
	    sp_cell_prepare_end(&slot->cell, &err) == 0)
		return true;
	log_warn("%s: reset of cell %d failed, replacing it: %s", slot->lang->name, (int)slot->pid,
		 sp_error_describe(&err, buf, sizeof(buf)));
	return false;
}

/* An idle cell is reset and quiet: nothing to read, not hung up, its init
 * alive. */
static bool slot_idle_alive(struct sp_pool_slot *slot)
{
	struct pollfd pfd = {.fd = slot->cell.sock, .events = POLLIN};

	if (!slot_reset_done(slot) || poll(&pfd, 1, 0) != 0)
		return false;
	return kill(slot->cell.pid, 0) == 0 || errno == EPERM;
}

/* A released warm cell is kept when the job went well and it may serve
 * more jobs. Its reset is asked for here and its answer read when the cell
 * is next leased (slot_idle_alive): the cell resets while the job's answer
 * goes out, and no job gets a cell whose reset did not work. Called without
 * the pool lock. */
static bool slot_keep(struct sp_pool_slot *slot, bool good, bool stopping)
{
	struct pool_lang *lang = slot->lang;
	struct sp_error err = {0};
	char buf[SP_ERROR_MESSAGE_MAX + 64];

	if (lang->size == 0 || slot->spare || !good || stopping)
		return false;
	if (lang->max_jobs != 0 && slot->jobs >= lang->max_jobs)
		return false;
	/* the job took its first prepared step (a compile's), or ran more than
	 * one step: it compiled (a judge's test runs one step, on a program
	 * compiled elsewhere) */
	slot->compiles = !slot->cell.prepared[0].ready || slot->cell.jobs - slot->steps_before != 1;
	if (sp_cell_reset_begin(&slot->cell, &err) < 0) {
		log_warn("%s: reset of cell %d failed, replacing it: %s", lang->name,
			 (int)slot->pid, sp_error_describe(&err, buf, sizeof(buf)));
		return false;
	}
	slot->reset_pending = true;
	slot_prepare(slot);
	return true;
}

/* ---- languages -------------------------------------------------------------- */

static struct pool_lang *lang_find(struct sp_pool *pool, const char *name)
{
	for (size_t i = 0; name != NULL && i < pool->count; i++)
		if (strcmp(pool->langs[i].name, name) == 0)
			return &pool->langs[i];
	return NULL;
}

static unsigned lang_live(const struct pool_lang *lang)
{
	return lang->idle.count + lang->busy + lang->starting;
}

/* No cell is idle or will come back, and the last refill failed. */
static bool lang_broken(const struct pool_lang *lang)
{
	return lang->failures > 0 && lang->idle.count == 0 && lang->busy == 0;
}

static int lang_init(struct pool_lang *lang, const struct sp_pool_language *conf,
		     struct sp_error *err)
{
	const struct sp_cell_config *cc = &conf->cell_config;
	int rc;

	if (conf->name == NULL || cc->rootfs == NULL || cc->hostname == NULL)
		return sp_error_set(err, EINVAL, "language without name, rootfs or hostname");
	lang->name = strdup(conf->name);
	lang->rootfs = strdup(cc->rootfs);
	lang->hostname = strdup(cc->hostname);
	if (lang->name == NULL || lang->rootfs == NULL || lang->hostname == NULL)
		return sp_error_set(err, ENOMEM, "language %s", conf->name);
	lang->config = *cc;
	lang->config.rootfs = lang->rootfs;
	lang->config.hostname = lang->hostname;
	lang->size = conf->size;
	lang->max_jobs = conf->max_jobs_per_cell;
	lang->prepare_steps = conf->prepare_steps;
	lang->prepare_limits = conf->prepare_limits;
	lang->prepare_slots = conf->prepare_slots;
	memcpy(lang->runtime, conf->runtime, sizeof(lang->runtime));
	rc = cond_init_monotonic(&lang->cond);
	if (rc != 0)
		return sp_error_set(err, rc, "language %s: condition variable", conf->name);
	lang->cond_ready = true;
	return 0;
}

static void lang_free(struct pool_lang *lang)
{
	struct sp_pool_slot *slot;

	while ((slot = list_pop(&lang->idle)) != NULL)
		slot_destroy(slot);
	if (lang->cond_ready)
		pthread_cond_destroy(&lang->cond);
	free(lang->name);
	free(lang->rootfs);
	free(lang->hostname);
}

/* Make the warm cells of LANG, one after the other. */
static int lang_fill(struct sp_pool *pool, struct pool_lang *lang, struct sp_error *err)
{
	for (unsigned i = 0; i < lang->size; i++) {
		struct sp_pool_slot *slot = slot_spawn(pool, lang, err);

		if (slot == NULL)
			return -1;
		slot_prepare(slot);
		list_push(&lang->idle, slot);
	}
	return 0;
}

/* ---- refill thread ----------------------------------------------------------- */

/* The first warm language short of cells and not pausing after a failure;
 * WAKE_MS gets the end of the earliest pause (0 when none). */
static struct pool_lang *refill_next(struct sp_pool *pool, uint64_t *wake_ms)
{
	uint64_t now = sp_pool_now_ms();

	*wake_ms = 0;
	for (size_t i = 0; i < pool->count; i++) {
		struct pool_lang *lang = &pool->langs[i];

		if (lang->size == 0 || lang_live(lang) >= lang->size)
			continue;
		if (lang->retry_at_ms <= now)
			return lang;
		if (*wake_ms == 0 || lang->retry_at_ms < *wake_ms)
			*wake_ms = lang->retry_at_ms;
	}
	return NULL;
}

static void refill_failed(struct pool_lang *lang, const struct sp_error *err)
{
	unsigned shift = lang->failures < 6 ? lang->failures : 6;
	unsigned pause = RETRY_MIN_MS << shift;
	char buf[SP_ERROR_MESSAGE_MAX + 64];

	if (pause > RETRY_MAX_MS)
		pause = RETRY_MAX_MS;
	lang->failures++;
	lang->spawn_failures++;
	lang->retry_at_ms = sp_pool_now_ms() + pause;
	lang->last_error = *err;
	log_error("%s (retrying in %u ms)", sp_error_describe(err, buf, sizeof(buf)), pause);
	/* its waiters fail when no cell will come back */
	pthread_cond_broadcast(&lang->cond);
}

/* Called and returns with the pool lock held; spawns without it. */
static void refill_one(struct sp_pool *pool, struct pool_lang *lang)
{
	struct sp_error err = {0};
	struct sp_pool_slot *slot;

	lang->starting++;
	pthread_mutex_unlock(&pool->lock);
	slot = slot_spawn(pool, lang, &err);
	if (slot != NULL)
		slot_prepare(slot);
	pthread_mutex_lock(&pool->lock);
	lang->starting--;
	if (slot == NULL) {
		refill_failed(lang, &err);
		return;
	}
	lang->failures = 0;
	lang->retry_at_ms = 0;
	list_push(&lang->idle, slot);
	pthread_cond_signal(&lang->cond);
}

static void *refill_main(void *arg)
{
	struct sp_pool *pool = arg;

	pthread_mutex_lock(&pool->lock);
	while (!pool->stopping) {
		uint64_t wake_ms;
		struct pool_lang *lang = refill_next(pool, &wake_ms);

		if (lang != NULL)
			refill_one(pool, lang);
		else
			cond_wait_until(&pool->refill_cond, &pool->lock, wake_ms);
	}
	pthread_mutex_unlock(&pool->lock);
	return NULL;
}

/* The refill thread takes no signal: they are for the main thread. */
static int refill_start(struct sp_pool *pool, struct sp_error *err)
{
	sigset_t all, old;
	int rc;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&pool->refill_thread, NULL, refill_main, pool);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0)
		return sp_error_set(err, rc, "start the refill thread");
	pool->refill_running = true;
	return 0;
}

/* ---- start ------------------------------------------------------------------- */

static void pool_free(struct sp_pool *pool)
{
	for (size_t i = 0; i < pool->count; i++)
		lang_free(&pool->langs[i]);
	free(pool->langs);
	pthread_cond_destroy(&pool->drained_cond);
	pthread_cond_destroy(&pool->refill_cond);
	pthread_mutex_destroy(&pool->spawn_lock);
	pthread_mutex_destroy(&pool->lock);
	free(pool);
}

static struct sp_pool *pool_alloc(struct sp_spawner *spawner, const struct sp_cgroup_root *cgroups,
				  size_t count, struct sp_error *err)
{
	struct sp_pool *pool = calloc(1, sizeof(*pool));

	if (pool == NULL) {
		sp_error_set(err, ENOMEM, "pool");
		return NULL;
	}
	pool->langs = calloc(count ? count : 1, sizeof(*pool->langs));
	if (pool->langs == NULL || pthread_mutex_init(&pool->lock, NULL) != 0 ||
	    pthread_mutex_init(&pool->spawn_lock, NULL) != 0 ||
	    cond_init_monotonic(&pool->refill_cond) != 0 ||
	    cond_init_monotonic(&pool->drained_cond) != 0) {
		/* none of these fail on Linux but for lack of memory */
		sp_error_set(err, ENOMEM, "pool");
		free(pool->langs);
		free(pool);
		return NULL;
	}
	pool->spawner = spawner;
	pool->cgroups = cgroups;
	return pool;
}

int sp_pool_start(struct sp_pool **poolp, struct sp_spawner *spawner,
		  const struct sp_cgroup_root *cgroups, const struct sp_pool_language *languages,
		  size_t count, struct sp_error *err)
{
	struct sp_pool *pool = pool_alloc(spawner, cgroups, count, err);

	*poolp = NULL;
	if (pool == NULL)
		return -1;
	for (size_t i = 0; i < count; i++, pool->count++) {
		if (lang_init(&pool->langs[i], &languages[i], err) < 0)
			goto fail;
		if (lang_find(pool, languages[i].name) != NULL) {
			sp_error_set(err, EEXIST, "language %s given twice", languages[i].name);
			goto fail;
		}
	}
	for (size_t i = 0; i < count; i++)
		if (lang_fill(pool, &pool->langs[i], err) < 0)
			goto fail;
	if (refill_start(pool, err) < 0)
		goto fail;
	*poolp = pool;
	return 0;
fail:
	/* the language that failed to init is counted too: lang_free copes */
	if (pool->count < count)
		pool->count++;
	pool_free(pool);
	return sp_error_wrap(err, "pool");
}

/* ---- lease --------------------------------------------------------------------- */

static void hand_out(struct sp_pool_slot *slot, struct sp_lease *lease)
{
	slot->steps_before = slot->cell.jobs;
	list_push(&slot->lang->leased, slot);
	lease->cell = &slot->cell;
	lease->slot = slot;
}

/* SLOT was just taken off the idle list and counted busy: check it without
 * the lock, and destroy it (the refill thread replaces it) when it is dead. */
static bool take_if_alive(struct sp_pool *pool, struct sp_pool_slot *slot)
{
	struct pool_lang *lang = slot->lang;
	bool alive;

	pthread_mutex_unlock(&pool->lock);
	alive = slot_idle_alive(slot);
	if (!alive) {
		log_warn("%s: idle cell %d is dead, replacing it", lang->name, (int)slot->pid);
		slot_destroy(slot);
	}
	pthread_mutex_lock(&pool->lock);
	if (!alive) {
		lang->busy--;
		lang->replaced++;
		pthread_cond_signal(&pool->refill_cond);
	}
	return alive;
}

/* An idle warm cell if there is one now, without waiting. */
static bool lease_idle(struct sp_pool *pool, struct pool_lang *lang, struct sp_lease *lease)
{
	struct sp_pool_slot *slot;

	while ((slot = list_pop(&lang->idle)) != NULL) {
		lang->busy++;
		if (take_if_alive(pool, slot)) {
			hand_out(slot, lease);
			return true;
		}
	}
	return false;
}

static int lease_warm(struct sp_pool *pool, struct pool_lang *lang, uint64_t deadline_ms,
		      struct sp_lease *lease, struct sp_error *err)
{
	for (;;) {
		if (pool->stopping)
			return sp_error_set(err, ECANCELED, "%s: the pool is stopping", lang->name);
		if (lease_idle(pool, lang, lease))
			return 0;
		if (lang_broken(lang)) {
			*err = lang->last_error;
			return -1;
		}
		if (deadline_ms != 0 && sp_pool_now_ms() >= deadline_ms)
			return sp_error_set(err, ETIMEDOUT, "%s: no cell became free in time",
					    lang->name);
		lang->waiting++;
		cond_wait_until(&lang->cond, &pool->lock, deadline_ms);
		lang->waiting--;
	}
}

/* A fresh cell for this lease alone. SPARE: beyond a warm language's own. */
static int lease_cold(struct sp_pool *pool, struct pool_lang *lang, uint64_t deadline_ms,
		      bool spare, struct sp_lease *lease, struct sp_error *err)
{
	struct sp_pool_slot *slot;

	if (pool->stopping)
		return sp_error_set(err, ECANCELED, "%s: the pool is stopping", lang->name);
	if (deadline_ms != 0 && sp_pool_now_ms() >= deadline_ms)
		return sp_error_set(err, ETIMEDOUT, "%s: deadline passed", lang->name);
	lang->starting++;
	pthread_mutex_unlock(&pool->lock);
	slot = slot_spawn(pool, lang, err);
	pthread_mutex_lock(&pool->lock);
	lang->starting--;
	if (slot == NULL) {
		lang->spawn_failures++;
		return -1;
	}
	if (pool->stopping) {
		pthread_mutex_unlock(&pool->lock);
		slot_destroy(slot);
		pthread_mutex_lock(&pool->lock);
		return sp_error_set(err, ECANCELED, "%s: the pool is stopping", lang->name);
	}
	slot->spare = spare;
	lang->busy++;
	hand_out(slot, lease);
	return 0;
}

int sp_pool_lease(struct sp_pool *pool, const char *language, uint64_t deadline_ms,
		  struct sp_lease *lease, struct sp_error *err)
{
	struct pool_lang *lang = lang_find(pool, language);
	int rc;

	lease->cell = NULL;
	lease->slot = NULL;
	if (lang == NULL)
		return sp_error_set(err, ENOENT, "unknown language '%s'",
				    language ? language : "(null)");
	pthread_mutex_lock(&pool->lock);
	pool->inside++;
	if (lang->size > 0)
		rc = lease_warm(pool, lang, deadline_ms, lease, err);
	else
		rc = lease_cold(pool, lang, deadline_ms, false, lease, err);
	pool->inside--;
	if (pool->stopping)
		pthread_cond_broadcast(&pool->drained_cond);
	pthread_mutex_unlock(&pool->lock);
	return rc;
}

int sp_pool_lease_spare(struct sp_pool *pool, const char *language, struct sp_lease *lease,
			struct sp_error *err)
{
	struct pool_lang *lang = lang_find(pool, language);
	int rc = 0;

	lease->cell = NULL;
	lease->slot = NULL;
	if (lang == NULL)
		return sp_error_set(err, ENOENT, "unknown language '%s'",
				    language ? language : "(null)");
	pthread_mutex_lock(&pool->lock);
	pool->inside++;
	if (pool->stopping)
		rc = sp_error_set(err, ECANCELED, "%s: the pool is stopping", lang->name);
	else if (!lease_idle(pool, lang, lease))
		rc = lease_cold(pool, lang, 0, lang->size > 0, lease, err);
	pool->inside--;
	if (pool->stopping)
		pthread_cond_broadcast(&pool->drained_cond);
	pthread_mutex_unlock(&pool->lock);
	return rc;
}

/* ---- release ------------------------------------------------------------------- */

void sp_pool_release(struct sp_pool *pool, struct sp_lease *lease, bool good)
{
	struct sp_pool_slot *slot = lease->slot;
	struct pool_lang *lang;
	bool keep, stopping, spare;

	if (slot == NULL)
		return;
	lang = slot->lang;
	spare = slot->spare;
	lease->cell = NULL;
	lease->slot = NULL;
	pthread_mutex_lock(&pool->lock);
	list_remove(&lang->leased, slot); /* from now on sp_pool_stop leaves it alone */
	stopping = pool->stopping;
	pthread_mutex_unlock(&pool->lock);

	slot->jobs++;
	keep = slot_keep(slot, good, stopping);
	if (!keep)
		slot_destroy(slot);

	pthread_mutex_lock(&pool->lock);
	lang->busy--;
	lang->jobs++;
	if (keep) {
		list_push(&lang->idle, slot);
		pthread_cond_signal(&lang->cond);
	} else if (lang->size > 0 && !stopping && !spare) {
		lang->replaced++;
		pthread_cond_signal(&pool->refill_cond);
	}
	if (pool->stopping)
		pthread_cond_broadcast(&pool->drained_cond);
	pthread_mutex_unlock(&pool->lock);
}

/* ---- stats, stop ------------------------------------------------------------------ */

static void stats_add(struct sp_pool_stats *stats, const struct pool_lang *lang)
{
	stats->idle += lang->idle.count;
	stats->busy += lang->busy;
	stats->starting += lang->starting;
	stats->waiting += lang->waiting;
	stats->jobs += lang->jobs;
	stats->replaced += lang->replaced;
	stats->spawn_failures += lang->spawn_failures;
}

int sp_pool_stats(struct sp_pool *pool, const char *language, struct sp_pool_stats *stats)
{
	bool found = false;

	memset(stats, 0, sizeof(*stats));
	pthread_mutex_lock(&pool->lock);
	for (size_t i = 0; i < pool->count; i++) {
		if (language != NULL && strcmp(pool->langs[i].name, language) != 0)
			continue;
		stats_add(stats, &pool->langs[i]);
		stats->prepares = prepares_to_string(lang_prepares(&pool->langs[i]));
		found = true;
	}
	pthread_mutex_unlock(&pool->lock);
	return found ? 0 : -1;
}

/* Leases not yet released, and threads still inside sp_pool_lease. */
static unsigned outstanding(const struct sp_pool *pool)
{
	unsigned n = pool->inside;

	for (size_t i = 0; i < pool->count; i++)
		n += pool->langs[i].busy;
	return n;
}

static bool wait_drained(struct sp_pool *pool, uint64_t deadline_ms)
{
	while (outstanding(pool) > 0)
		if (cond_wait_until(&pool->drained_cond, &pool->lock, deadline_ms) == ETIMEDOUT)
			return outstanding(pool) == 0;
	return true;
}

/* The steps in cells still leased fail at once when their init dies. */
static void kill_leased(struct sp_pool *pool)
{
	for (size_t i = 0; i < pool->count; i++) {
		for (struct sp_dlink *l = pool->langs[i].leased.head; l != NULL; l = l->next) {
			struct sp_pool_slot *s = slot_of(l);

			log_warn("%s: cell %d still leased after the grace period, killing it",
				 pool->langs[i].name, (int)s->pid);
			kill(s->pid, SIGKILL);
		}
	}
}

/* Once stopping, with the refill thread gone, nothing adds idle cells. */
static void destroy_idle(struct sp_pool *pool)
{
	struct sp_dlist doomed = {0};
	struct sp_pool_slot *slot;

	pthread_mutex_lock(&pool->lock);
	log_error("%u leases never came back: the pool is left allocated", outstanding(pool));
	for (size_t i = 0; i < pool->count; i++)
		while ((slot = list_pop(&pool->langs[i].idle)) != NULL)
			list_push(&doomed, slot);
	pthread_mutex_unlock(&pool->lock);
	while ((slot = list_pop(&doomed)) != NULL)
		slot_destroy(slot);
}

void sp_pool_stop(struct sp_pool *pool, uint64_t grace_ms)
{
	bool drained;

	if (pool == NULL)
		return;
	pthread_mutex_lock(&pool->lock);
	pool->stopping = true;
	for (size_t i = 0; i < pool->count; i++)
		pthread_cond_broadcast(&pool->langs[i].cond);
	pthread_cond_signal(&pool->refill_cond);
	drained = wait_drained(pool, sp_pool_now_ms() + grace_ms);
	if (!drained) {
		kill_leased(pool);
		drained = wait_drained(pool, sp_pool_now_ms() + KILL_WAIT_MS);
	}
	pthread_mutex_unlock(&pool->lock);
	if (pool->refill_running)
		pthread_join(pool->refill_thread, NULL);
	if (drained) {
		pool_free(pool);
		return;
	}
	/* A lease holder that never comes back keeps the pool (its release still
	 * works and destroys the cell); only the idle cells go. */
	destroy_idle(pool);
}
