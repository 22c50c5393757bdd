/* The Redis backend's scripts: each step that must see and change several
 * keys at once runs as one Lua script in Redis, in Redis' clock. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "queue_redis_parts.h"

#define NOW_MS "local t = redis.call('TIME') local now = t[1] * 1000 + math.floor(t[2] / 1000) "

/* Each language's queue is a stream per user ("u:" and the userId, or "-"
 * for jobs without one), read by the group "workers"; a list of the users
 * whose turn comes, each there while it has jobs not taken; a counter of the
 * jobs not taken; a list of tokens that wake the workers. */

/* KEYS: job, queued counter, users set, turns list, waiting set, ready
 * list, inflight, rate prefix. ARGV: id, ttl, queue size, user_in_flight,
 * user_jobs_per_minute, has user, stream prefix, user key, the "queued"
 * event's message up to its position, then the fields. */
static const char submit_lua[] =
    "if redis.call('EXISTS', KEYS[1]) == 1 then return -1 end "
    "local queued = tonumber(redis.call('GET', KEYS[2]) or '0') "
    "if queued < 0 then queued = 0 end "
    "if queued >= tonumber(ARGV[3]) then return -2 end " NOW_MS "if ARGV[6] == '1' then "
    "  local limit = tonumber(ARGV[4]) "
    "  if limit > 0 and tonumber(redis.call('GET', KEYS[7]) or '0') >= limit then return -3 end "
    "  local per_minute = tonumber(ARGV[5]) "
    "  if per_minute > 0 then "
    "    local rk = KEYS[8] .. ':' .. math.floor(t[1] / 60) "
    "    local n = redis.call('INCR', rk) "
    "    if n == 1 then redis.call('EXPIRE', rk, 120) end "
    "    if n > per_minute then return -4 end "
    "  end "
    "  redis.call('INCR', KEYS[7]) redis.call('EXPIRE', KEYS[7], 86400) "
    "end "
    "local stream = ARGV[7] .. ARGV[8] "
    "pcall(redis.call, 'XGROUP', 'CREATE', stream, '" RQ_GROUP "', '0', 'MKSTREAM') "
    "redis.call('HSET', KEYS[1], 'created', now, 'state', 'queued', unpack(ARGV, 10)) "
    "redis.call('EXPIRE', KEYS[1], ARGV[2]) "
    "redis.call('XADD', stream, '*', 'id', ARGV[1]) "
    "redis.call('SET', KEYS[2], queued + 1) "
    "redis.call('SADD', KEYS[3], ARGV[8]) "
    "if redis.call('SADD', KEYS[5], ARGV[8]) == 1 then redis.call('RPUSH', KEYS[4], ARGV[8]) end "
    "redis.call('RPUSH', KEYS[6], '1') "
    "redis.call('LTRIM', KEYS[6], 0, tonumber(ARGV[3])) "
    "redis.call('PUBLISH', '" RQ_EVENTS "', ARGV[9] .. queued .. '}}') "
    "return queued";

/* The next job of a language, the users taking turns. KEYS: turns list,
 * waiting set, queued counter. ARGV: stream prefix, consumer. Returns
 * {stream, entry, job id, part}, or nil: part is "1" for a helper's entry
 * (a share of a judge job's tests, queue_redis_share.c), else "". */
static const char take_lua[] =
    "for i = 1, redis.call('LLEN', KEYS[1]) do "
    "  local user = redis.call('LPOP', KEYS[1]) "
    "  if not user then return false end "
    "  local stream = ARGV[1] .. user "
    "  local ok, r = pcall(redis.call, 'XREADGROUP', 'GROUP', '" RQ_GROUP "', ARGV[2], "
    "    'COUNT', 1, 'STREAMS', stream, '>') "
    "  if ok and r then "
    "    local entry = r[1][2][1] "
    "    if redis.call('DECR', KEYS[3]) < 0 then redis.call('SET', KEYS[3], 0) end "
    "    local left = redis.call('XLEN', stream) - "
    "      redis.call('XPENDING', stream, '" RQ_GROUP "')[1] "
    "    if left > 0 then redis.call('RPUSH', KEYS[1], user) "
    "    else redis.call('SREM', KEYS[2], user) end "
    "    return {stream, entry[1], entry[2][2], entry[2][4] or ''} "
    "  end "
    "  redis.call('SREM', KEYS[2], user) "
    "end "
    "return false";

/* KEYS: stream. ARGV: entry. */
static const char ack_lua[] = "redis.call('XACK', KEYS[1], '" RQ_GROUP "', ARGV[1]) "
			      "return redis.call('XDEL', KEYS[1], ARGV[1])";

/* A job whose worker went silent past the lease. KEYS: users set, waiting
 * set. ARGV: stream prefix, consumer, lease ms. Streams left empty go.
 * Returns {stream, entry, job id, part} (as take_lua's), or nil. */
static const char reclaim_lua[] =
    "for _, user in ipairs(redis.call('SMEMBERS', KEYS[1])) do "
    "  local stream = ARGV[1] .. user "
    "  if redis.call('XLEN', stream) == 0 then "
    "    redis.call('DEL', stream) redis.call('SREM', KEYS[1], user) "
    "    redis.call('SREM', KEYS[2], user) "
    "  else "
    "    local ok, r = pcall(redis.call, 'XAUTOCLAIM', stream, '" RQ_GROUP "', ARGV[2], "
    "      ARGV[3], '0-0', 'COUNT', 1) "
    "    if ok and r[2][1] then "
    "      return {stream, r[2][1][1], r[2][1][2][2], r[2][1][2][4] or ''} "
    "    end "
    "  end "
    "end "
    "return false";

/* Jobs not taken and taken of a language. KEYS: users set. ARGV: stream
 * prefix. */
static const char stats_lua[] =
    "local queued, running = 0, 0 "
    "for _, user in ipairs(redis.call('SMEMBERS', KEYS[1])) do "
    "  local stream = ARGV[1] .. user "
    "  local ok, p = pcall(redis.call, 'XPENDING', stream, '" RQ_GROUP "') "
    "  local pending = (ok and p[1]) or 0 "
    "  running = running + pending "
    "  queued = queued + redis.call('XLEN', stream) - pending "
    "end "
    "return {queued, running}";

/* KEYS: job, result, inflight. ARGV: value, kept ttl, unkept ttl, has
 * user, event message. */
static const char finish_lua[] =
    "local ttl = ARGV[3] "
    "if redis.call('HGET', KEYS[1], 'keep') == '1' then ttl = ARGV[2] end "
    "if not redis.call('SET', KEYS[2], ARGV[1], 'NX', 'EX', ttl) then return 0 end " NOW_MS
    "if redis.call('EXISTS', KEYS[1]) == 1 then "
    "  if not redis.call('HGET', KEYS[1], 'started') then "
    "    redis.call('HSET', KEYS[1], 'started', now) end "
    "  redis.call('HSET', KEYS[1], 'state', 'done', 'finished', now) "
    "  redis.call('HDEL', KEYS[1], 'body') "
    "  redis.call('EXPIRE', KEYS[1], ttl) "
    "end "
    "if ARGV[4] == '1' and redis.call('DECR', KEYS[3]) <= 0 then redis.call('DEL', KEYS[3]) end "
    "redis.call('PUBLISH', '" RQ_EVENTS "', ARGV[5]) "
    "return 1";

/* Whether the job of hash KEY, id ID, is watched: by its submitter from
 * the start, or now by a node's watchers of its id or its user (a sorted
 * set of nodes, each until its score in ms). Needs "now". */
#define WATCHED_LUA                                                                                \
	"local function alive(k) return redis.call('ZCOUNT', k, now, '+inf') > 0 end "             \
	"local function watched(key, id) "                                                         \
	"  local w = redis.call('HMGET', key, 'watched', 'owner', 'user') "                        \
	"  if w[1] == '1' or alive('" RQ_PREFIX "watch:j:' .. id) then return '1' end "            \
	"  if w[3] and alive('" RQ_PREFIX "watch:u:' .. (w[2] or '-1') .. ':' .. w[3]) "           \
	"  then return '1' end "                                                                   \
	"  return '0' "                                                                            \
	"end "

/* KEYS: job, result. ARGV: node, queue timeout ms, id, part ("1": a
 * helper's entry, which reads the job and leaves its state as it is). */
static const char start_lua[] =
    "if redis.call('EXISTS', KEYS[2]) == 1 then return {'done'} end "
    "if redis.call('EXISTS', KEYS[1]) == 0 then return {'gone'} end "
    "if redis.call('HGET', KEYS[1], 'cancel') == '1' then return {'cancelled'} end " NOW_MS
	WATCHED_LUA "local created = tonumber(redis.call('HGET', KEYS[1], 'created')) "
    "local limit = tonumber(ARGV[2]) "
    "if ARGV[4] ~= '1' then "
    "  if redis.call('HGET', KEYS[1], 'state') == 'queued' and limit > 0 "
    "     and now - created > limit then return {'expired'} end "
    "  redis.call('HSET', KEYS[1], 'state', 'running', 'started', now, 'worker', ARGV[1]) "
    "end "
    "local f = redis.call('HMGET', KEYS[1], 'body', 'mode', 'user', 'ref', 'owner', "
    "  'interactive') "
    "return {'run', f[1], f[2], f[3], f[4], f[5], tostring(now - created), f[6], "
    "  watched(KEYS[1], ARGV[3])}";

/* A judge job's tests shared with other workers (queue_redis_share.c).
 * KEYS: share, stream, ready, turns, waiting, users, queued. ARGV: program
 * (a box archive), tests, ttl, helpers, user key, job id. Once per job: a
 * job taken again keeps its share (and the outcomes stored in it). */
static const char share_open_lua[] =
    "if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end "
    "redis.call('HSET', KEYS[1], 'program', ARGV[1], 'tests', ARGV[2], 'next', 0, "
    "  'failed', 0) "
    "redis.call('EXPIRE', KEYS[1], ARGV[3]) "
    "for i = 1, tonumber(ARGV[4]) do "
    "  redis.call('XADD', KEYS[2], '*', 'id', ARGV[6], 'part', '1') "
    "  redis.call('INCR', KEYS[7]) "
    "  redis.call('RPUSH', KEYS[3], '1') "
    "end "
    "redis.call('SADD', KEYS[6], ARGV[5]) "
    "if redis.call('SADD', KEYS[5], ARGV[5]) == 1 then redis.call('RPUSH', KEYS[4], ARGV[5]) end "
    "return 1";

/* The next test of a share to run. KEYS: share, outcomes, claims. ARGV:
 * claim ms, stop on a failure ("1"). Returns its index; -1 when none is
 * left (or the share is gone); -2 when the rest are claimed by others and
 * not done yet. A test claimed past its claim without an outcome is claimed
 * again; after a failure that stops the rest, none is. */
static const char share_next_lua[] =
    NOW_MS "if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end "
	   "local n = tonumber(redis.call('HGET', KEYS[1], 'tests')) "
	   "local claim = now + tonumber(ARGV[1]) "
	   "local function open_claims(lapsed) "
	   "  local c = redis.call('HGETALL', KEYS[3]) "
	   "  for j = 1, #c, 2 do "
	   "    if (tonumber(c[j + 1]) < now) == lapsed "
	   "       and redis.call('HEXISTS', KEYS[2], c[j]) == 0 then return c[j] end "
	   "  end "
	   "  return nil "
	   "end "
	   "if ARGV[2] == '1' and redis.call('HGET', KEYS[1], 'failed') == '1' then "
	   "  if open_claims(false) then return -2 end "
	   "  return -1 "
	   "end "
	   "local i = redis.call('HINCRBY', KEYS[1], 'next', 1) - 1 "
	   "if i < n then "
	   "  redis.call('HSET', KEYS[3], i, claim) "
	   "  redis.call('EXPIRE', KEYS[3], redis.call('TTL', KEYS[1])) "
	   "  return i "
	   "end "
	   "local lapsed = open_claims(true) "
	   "if lapsed then redis.call('HSET', KEYS[3], lapsed, claim) return tonumber(lapsed) end "
	   "if redis.call('HLEN', KEYS[2]) >= n then return -1 end "
	   "return -2";

/* A test's outcome, the first one written only. KEYS: share, outcomes.
 * ARGV: index, outcome (JSON), failed ("1"). Returns 1 when it was the
 * first. */
static const char share_put_lua[] =
    "if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end "
    "local first = redis.call('HSETNX', KEYS[2], ARGV[1], ARGV[2]) "
    "if ARGV[3] == '1' then redis.call('HSET', KEYS[1], 'failed', 1) end "
    "redis.call('EXPIRE', KEYS[2], redis.call('TTL', KEYS[1])) "
    "return first";

/* KEYS: job. ARGV: id. "1" when the job is watched (WATCHED_LUA). */
static const char watched_lua[] = NOW_MS WATCHED_LUA "return watched(KEYS[1], ARGV[1])";

/* A node's watchers of topics: KEYS the topics' sorted sets. ARGV: node,
 * lease (ms), key ttl (s), then "+" or "-" for each key: the node added
 * (until the lease ends, in Redis' clock) or taken out. */
static const char topics_lua[] =
    NOW_MS "for i, key in ipairs(KEYS) do "
	   "  if ARGV[3 + i] == '+' then "
	   "    redis.call('ZADD', key, now + tonumber(ARGV[2]), ARGV[1]) "
	   "    redis.call('EXPIRE', key, ARGV[3]) "
	   "  else redis.call('ZREM', key, ARGV[1]) end "
	   "end "
	   "return #KEYS";

/* KEYS: job, result. */
static const char view_lua[] =
    "if redis.call('EXISTS', KEYS[1]) == 0 then return false end "
    "local f = redis.call('HMGET', KEYS[1], 'state', 'lang', 'created', 'started', "
    "  'finished', 'owner', 'keep', 'user', 'ref', 'echo') " NOW_MS
    "return {f[1], f[2], f[3], f[4], f[5], f[6], tostring(now), "
    "  redis.call('GET', KEYS[2]), f[7], f[8], f[9], f[10]}";

/* KEYS: job, result. ARGV: owner, id. */
static const char cancel_lua[] =
    "if redis.call('EXISTS', KEYS[1]) == 0 then return 'unknown' end "
    "if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] then return 'unknown' end "
    "if redis.call('EXISTS', KEYS[2]) == 1 then "
    "  if redis.call('HGET', KEYS[1], 'keep') == '1' then "
    "    redis.call('DEL', KEYS[1], KEYS[2]) return 'dropped' end "
    "  return 'ended' "
    "end "
    "redis.call('HSET', KEYS[1], 'cancel', '1') "
    "if redis.call('HGET', KEYS[1], 'state') == 'queued' then return 'queued' end "
    "redis.call('PUBLISH', '" RQ_CANCEL "', ARGV[2]) "
    "return 'running'";

/* KEYS: workers hash, seen set. ARGV: node, its description. */
static const char heartbeat_lua[] = NOW_MS "redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) "
					   "redis.call('ZADD', KEYS[2], now, ARGV[1]) "
					   "return now";

/* KEYS: workers hash, seen set. ARGV: seen within ms, forgotten after ms.
 * Returns now, then node, last seen, description for each. */
static const char workers_lua[] =
    NOW_MS "local old = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now - tonumber(ARGV[2])) "
	   "for _, node in ipairs(old) do "
	   "  redis.call('HDEL', KEYS[1], node) redis.call('ZREM', KEYS[2], node) end "
	   "local out = {tostring(now)} "
	   "local seen = redis.call('ZRANGEBYSCORE', KEYS[2], now - tonumber(ARGV[1]), '+inf', "
	   "  'WITHSCORES') "
	   "for i = 1, #seen, 2 do "
	   "  local d = redis.call('HGET', KEYS[1], seen[i]) "
	   "  if d then table.insert(out, seen[i]) table.insert(out, seen[i + 1]) "
	   "    table.insert(out, d) end "
	   "end "
	   "return out";

/* KEYS: job, result, input list. ARGV: owner, "d" (data) or "c" (close),
 * the entry ("d" and the bytes), the most entries waiting, ttl. Returns 1
 * (taken), 0 (closed now), -1 (no such interactive job), -2 (input closed),
 * -3 (full). */
static const char stdin_lua[] =
    "if redis.call('EXISTS', KEYS[1]) == 0 or redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] "
    "  or redis.call('HGET', KEYS[1], 'interactive') ~= '1' then return -1 end "
    "if redis.call('EXISTS', KEYS[2]) == 1 or redis.call('HGET', KEYS[1], 'stdin_closed') == '1' "
    "  then return -2 end "
    "if ARGV[2] == 'c' then "
    "  redis.call('HSET', KEYS[1], 'stdin_closed', '1') "
    "  redis.call('RPUSH', KEYS[3], 'c') redis.call('EXPIRE', KEYS[3], ARGV[5]) return 0 "
    "end "
    "if redis.call('LLEN', KEYS[3]) >= tonumber(ARGV[4]) then return -3 end "
    "redis.call('RPUSH', KEYS[3], ARGV[3]) redis.call('EXPIRE', KEYS[3], ARGV[5]) "
    "return 1";

#define MAX_ARGS 48

/* EVAL SCRIPT with KEYS (KEY_COUNT of them) and ARGS (ARG_COUNT). */
static redisReply *eval(struct sp_redis_link *link, const char *script, const char **keys,
			int key_count, const char **args, const size_t *arg_lengths, int arg_count,
			struct sp_error *err)
{
	const char *argv[MAX_ARGS];
	size_t lengths[MAX_ARGS];
	char count[16];
	int n = 0;

	if (3 + key_count + arg_count > MAX_ARGS) {
		sp_error_set(err, E2BIG, "redis: too many arguments");
		return NULL;
	}
	snprintf(count, sizeof(count), "%d", key_count);
	argv[n] = "EVAL", lengths[n++] = 4;
	argv[n] = script, lengths[n++] = strlen(script);
	argv[n] = count, lengths[n++] = strlen(count);
	for (int i = 0; i < key_count; i++, n++)
		argv[n] = keys[i], lengths[n] = strlen(keys[i]);
	for (int i = 0; i < arg_count; i++, n++)
		argv[n] = args[i], lengths[n] = arg_lengths ? arg_lengths[i] : strlen(args[i]);
	return sp_redis_command_argv(link, err, n, argv, lengths);
}

void rq_key(char key[RQ_KEY_MAX], const char *kind, const char *name)
{
	snprintf(key, RQ_KEY_MAX, RQ_PREFIX "%s:%s", kind, name ? name : "");
}

void rq_language_key(const struct redis_queue *q, char key[RQ_KEY_MAX], const char *kind,
		     size_t language)
{
	snprintf(key, RQ_KEY_MAX, RQ_PREFIX "%s:%s", kind, q->c.languages->items[language].name);
}

/* The prefix of LANGUAGE's streams, one per user. */
static void stream_prefix(const struct redis_queue *q, char key[RQ_KEY_MAX], size_t language)
{
	snprintf(key, RQ_KEY_MAX, RQ_PREFIX "q:%s:", q->c.languages->items[language].name);
}

/* The refusal RC of the submit script as ERR. */
static long long submit_refusal(const struct redis_queue *q, long long rc, size_t language,
				const char *user, struct sp_error *err)
{
	const struct sp_config *c = q->c.config;

	switch (rc) {
	case -1:
		return sp_error_set(err, EEXIST, "a job with this id exists");
	case -2:
		return sp_error_set(err, EAGAIN, "the queue of %s is full (queue_size %u)",
				    q->c.languages->items[language].name, c->queue_size);
	case -3:
		return sp_error_set(err, EDQUOT, "user %s has %u jobs queued or running",
				    user ? user : "", c->user_in_flight);
	case -4:
		return sp_error_set(err, EBUSY, "user %s submits more than %u jobs a minute",
				    user ? user : "", c->user_jobs_per_minute);
	}
	return sp_error_set(err, EPROTO, "redis: the submit script answered oddly");
}

/* The "queued" event of job ID up to its position, which the submit
 * script appends (and closes): {"user", "owner", "event": {"type", "id",
 * "ref"?, "position": */
static char *queued_message_head(const char *id, const char *user, const char *ref, int owner)
{
	json_t *event = json_pack("{s:s, s:s}", "type", "queued", "id", id);
	json_t *msg;
	char *text;
	size_t n;

	if (event != NULL && ref != NULL)
		json_object_set_new(event, "ref", json_string(ref));
	msg = json_pack("{s:s?, s:i, s:o}", "user", user, "owner", owner, "event", event);
	text = msg ? json_dumps(msg, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(msg);
	n = text ? strlen(text) : 0;
	if (n < 2 || strcmp(text + n - 2, "}}") != 0) {
		free(text);
		return NULL;
	}
	/* room for ',"position":' in place of the closing braces */
	text = realloc(text, n + 16);
	if (text != NULL)
		strcpy(text + n - 2, ",\"position\":");
	return text;
}

unsigned rq_job_ttl_s(const struct redis_queue *q)
{
	const struct sp_config *c = q->c.config;

	/* queued, run, and kept afterwards */
	return c->queue_timeout_s + (unsigned)(c->max_limits.wall_ms / 1000) * 4 +
	       c->job_retention_s + RQ_UNKEPT_TTL_S;
}

long long rq_script_submit(struct redis_queue *q, struct sp_redis_link *link, const char *id,
			   size_t language, const struct sp_queue_job *job, const char **fields,
			   size_t count, struct sp_error *err)
{
	const char *user = job->user;
	const struct sp_config *c = q->c.config;
	char key_job[RQ_KEY_MAX], queued[RQ_KEY_MAX], users[RQ_KEY_MAX], turns[RQ_KEY_MAX];
	char waiting[RQ_KEY_MAX], ready[RQ_KEY_MAX], inflight[RQ_KEY_MAX], rate[RQ_KEY_MAX];
	char prefix[RQ_KEY_MAX], user_key[SP_REQUEST_MAX_USER_ID + 8];
	char ttl[24], size[24], in_flight[24], per_minute[24], *head;
	const char *keys[] = {key_job, queued, users, turns, waiting, ready, inflight, rate};
	const char *args[MAX_ARGS];
	redisReply *reply;
	long long rc;

	rq_key(key_job, "job", id);
	rq_language_key(q, queued, "queued", language);
	rq_language_key(q, users, "users", language);
	rq_language_key(q, turns, "turns", language);
	rq_language_key(q, waiting, "waiting", language);
	rq_language_key(q, ready, "ready", language);
	rq_key(inflight, "inflight", user);
	rq_key(rate, "rate", user);
	stream_prefix(q, prefix, language);
	snprintf(user_key, sizeof(user_key), "%s%s", user ? "u:" : "-", user ? user : "");
	snprintf(ttl, sizeof(ttl), "%u", rq_job_ttl_s(q));
	snprintf(size, sizeof(size), "%u", c->queue_size);
	snprintf(in_flight, sizeof(in_flight), "%u", c->user_in_flight);
	snprintf(per_minute, sizeof(per_minute), "%u", c->user_jobs_per_minute);
	args[0] = id, args[1] = ttl, args[2] = size, args[3] = in_flight, args[4] = per_minute;
	args[5] = user ? "1" : "0", args[6] = prefix, args[7] = user_key;
	args[8] = head = queued_message_head(id, user, job->ref, job->owner);
	for (size_t i = 0; i < count && 9 + i < MAX_ARGS; i++)
		args[9 + i] = fields[i];
	reply = head ? eval(link, submit_lua, keys, 8, args, NULL, 9 + (int)count, err) : NULL;
	if (head == NULL)
		sp_error_set(err, ENOMEM, "the queued event");
	free(head);
	if (reply == NULL)
		return -1;
	rc = reply->type == REDIS_REPLY_INTEGER ? reply->integer : -9;
	freeReplyObject(reply);
	return rc >= 0 ? rc : submit_refusal(q, rc, language, user, err);
}

/* A {stream, entry, job id, part} reply into TAKEN; 0, or -1 when it is
 * not one. */
static int taken_of(redisReply *r, struct rq_taken *taken)
{
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 4)
		return -1;
	for (size_t i = 0; i < 4; i++)
		if (r->element[i]->type != REDIS_REPLY_STRING)
			return -1;
	snprintf(taken->stream, sizeof(taken->stream), "%s", r->element[0]->str);
	snprintf(taken->entry, sizeof(taken->entry), "%s", r->element[1]->str);
	snprintf(taken->id, sizeof(taken->id), "%s", r->element[2]->str);
	taken->part = strcmp(r->element[3]->str, "1") == 0;
	return 0;
}

int rq_script_take(struct redis_queue *q, struct sp_redis_link *link, size_t language,
		   const char *consumer, struct rq_taken *taken, struct sp_error *err)
{
	char turns[RQ_KEY_MAX], waiting[RQ_KEY_MAX], queued[RQ_KEY_MAX], prefix[RQ_KEY_MAX];
	const char *keys[] = {turns, waiting, queued};
	const char *args[] = {prefix, consumer};
	redisReply *r;
	int rc;

	rq_language_key(q, turns, "turns", language);
	rq_language_key(q, waiting, "waiting", language);
	rq_language_key(q, queued, "queued", language);
	stream_prefix(q, prefix, language);
	r = eval(link, take_lua, keys, 3, args, NULL, 2, err);
	if (r == NULL)
		return -1;
	rc = taken_of(r, taken) == 0 ? 1 : 0;
	freeReplyObject(r);
	return rc;
}

int rq_script_reclaim(struct redis_queue *q, struct sp_redis_link *link, size_t language,
		      const char *consumer, struct rq_taken *taken, struct sp_error *err)
{
	char users[RQ_KEY_MAX], waiting[RQ_KEY_MAX], prefix[RQ_KEY_MAX], lease[24];
	const char *keys[] = {users, waiting};
	const char *args[] = {prefix, consumer, lease};
	redisReply *r;
	int rc;

	rq_language_key(q, users, "users", language);
	rq_language_key(q, waiting, "waiting", language);
	stream_prefix(q, prefix, language);
	snprintf(lease, sizeof(lease), "%llu",
		 (unsigned long long)q->c.config->queue_lease_s * 1000);
	r = eval(link, reclaim_lua, keys, 2, args, NULL, 3, err);
	if (r == NULL)
		return -1;
	rc = taken_of(r, taken) == 0 ? 1 : 0;
	freeReplyObject(r);
	return rc;
}

int rq_script_stats(struct redis_queue *q, struct sp_redis_link *link, size_t language,
		    unsigned *queued, unsigned *running, struct sp_error *err)
{
	char users[RQ_KEY_MAX], prefix[RQ_KEY_MAX];
	const char *keys[] = {users};
	const char *args[] = {prefix};
	redisReply *r;

	rq_language_key(q, users, "users", language);
	stream_prefix(q, prefix, language);
	r = eval(link, stats_lua, keys, 1, args, NULL, 1, err);
	*queued = *running = 0;
	if (r == NULL)
		return -1;
	if (r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
	    r->element[0]->type == REDIS_REPLY_INTEGER &&
	    r->element[1]->type == REDIS_REPLY_INTEGER) {
		*queued = r->element[0]->integer > 0 ? (unsigned)r->element[0]->integer : 0;
		*running = r->element[1]->integer > 0 ? (unsigned)r->element[1]->integer : 0;
	}
	freeReplyObject(r);
	return 0;
}

const char *rq_end_name(enum sp_job_end end)
{
	switch (end) {
	case SP_JOB_CANCELLED:
		return "cancelled";
	case SP_JOB_EXPIRED:
		return "expired";
	case SP_JOB_SHUTDOWN:
		return "shutdown";
	case SP_JOB_LOST:
		return "lost";
	case SP_JOB_FINISHED:
		break;
	}
	return "finished";
}

enum sp_job_end rq_end_of(const char *name)
{
	static const enum sp_job_end ends[] = {SP_JOB_FINISHED, SP_JOB_CANCELLED, SP_JOB_EXPIRED,
					       SP_JOB_SHUTDOWN, SP_JOB_LOST};

	for (size_t i = 0; name != NULL && i < sizeof(ends) / sizeof(ends[0]); i++)
		if (strcmp(name, rq_end_name(ends[i])) == 0)
			return ends[i];
	return SP_JOB_LOST;
}

/* The news of JOB's END for every node's listener, with its RESULT when
 * STORED (the result as its key holds it) is small; else without (it may
 * be megabytes: the listener reads it from its key). */
static char *result_message(const struct sp_queue_job *job, enum sp_job_end end, json_t *result,
			    const char *stored)
{
	json_t *event = json_pack("{s:s, s:s}", "type", "result", "id", job->id);
	json_t *msg;
	char *text;

	if (event != NULL && job->ref != NULL)
		json_object_set_new(event, "ref", json_string(job->ref));
	if (event != NULL && stored != NULL && strlen(stored) <= RQ_NEWS_RESULT_MAX)
		json_object_set(event, "result", result);
	msg = json_pack("{s:s?, s:i, s:s, s:o}", "user", job->user, "owner", job->owner, "end",
			rq_end_name(end), "event", event);
	text = msg ? json_dumps(msg, JSON_COMPACT) : NULL;
	json_decref(msg);
	return text;
}

int rq_script_finish(struct redis_queue *q, struct sp_redis_link *link,
		     const struct sp_queue_job *job, enum sp_job_end end, json_t *result,
		     struct sp_error *err)
{
	char key_job[RQ_KEY_MAX], key_result[RQ_KEY_MAX], inflight[RQ_KEY_MAX], kept[24];
	char unkept[24];
	const char *keys[] = {key_job, key_result, inflight};
	json_t *stored = json_pack("{s:s, s:O}", "end", rq_end_name(end), "result", result);
	char *value = stored ? json_dumps(stored, JSON_COMPACT) : NULL;
	char *msg = result_message(job, end, result, value);
	const char *args[5];
	redisReply *reply = NULL;
	int rc = -1;

	rq_key(key_job, "job", job->id);
	rq_key(key_result, "result", job->id);
	rq_key(inflight, "inflight", job->user);
	snprintf(kept, sizeof(kept), "%u", q->c.config->job_retention_s);
	snprintf(unkept, sizeof(unkept), "%u", RQ_UNKEPT_TTL_S);
	args[0] = value, args[1] = kept, args[2] = unkept, args[3] = job->user ? "1" : "0";
	args[4] = msg;
	if (value == NULL || msg == NULL)
		sp_error_set(err, ENOMEM, "the result");
	else if ((reply = eval(link, finish_lua, keys, 3, args, NULL, 5, err)) != NULL)
		rc = reply->type == REDIS_REPLY_INTEGER && reply->integer == 1 ? 1 : 0;
	if (reply != NULL)
		freeReplyObject(reply);
	json_decref(stored);
	free(value);
	free(msg);
	return rc;
}

redisReply *rq_script_start(struct sp_redis_link *link, const char *id, const char *node,
			    uint64_t queue_timeout_ms, bool part, struct sp_error *err)
{
	char key_job[RQ_KEY_MAX], key_result[RQ_KEY_MAX], timeout[24];
	const char *keys[] = {key_job, key_result};
	const char *args[] = {node, timeout, id, part ? "1" : "0"};
	redisReply *reply;

	rq_key(key_job, "job", id);
	rq_key(key_result, "result", id);
	snprintf(timeout, sizeof(timeout), "%llu", (unsigned long long)queue_timeout_ms);
	reply = eval(link, start_lua, keys, 2, args, NULL, 4, err);
	if (reply != NULL && (reply->type != REDIS_REPLY_ARRAY || reply->elements < 1 ||
			      reply->element[0]->type != REDIS_REPLY_STRING)) {
		freeReplyObject(reply);
		sp_error_set(err, EPROTO, "redis: the start script answered oddly");
		return NULL;
	}
	return reply;
}

int rq_script_watched(struct sp_redis_link *link, const char *id, struct sp_error *err)
{
	char key_job[RQ_KEY_MAX];
	const char *keys[] = {key_job};
	const char *args[] = {id};
	redisReply *reply;
	int rc = -1;

	rq_key(key_job, "job", id);
	reply = eval(link, watched_lua, keys, 1, args, NULL, 1, err);
	if (reply != NULL && reply->type == REDIS_REPLY_STRING)
		rc = strcmp(reply->str, "1") == 0;
	else if (reply != NULL)
		sp_error_set(err, EPROTO, "redis: the watched script answered oddly");
	if (reply != NULL)
		freeReplyObject(reply);
	return rc;
}

int rq_script_topics(struct sp_redis_link *link, const char *node, uint64_t lease_ms,
		     unsigned ttl_s, const char *const *keys, const char *signs, size_t count,
		     struct sp_error *err)
{
	const char *args[MAX_ARGS];
	char until[24], ttl[24], sign[MAX_ARGS][2];
	redisReply *reply;

	if (count == 0)
		return 0;
	if (3 + 2 * count + 3 > MAX_ARGS)
		return sp_error_set(err, E2BIG, "redis: too many topics at once");
	snprintf(until, sizeof(until), "%llu", (unsigned long long)lease_ms);
	snprintf(ttl, sizeof(ttl), "%u", ttl_s);
	args[0] = node, args[1] = until, args[2] = ttl;
	for (size_t i = 0; i < count; i++) {
		sign[i][0] = signs[i];
		sign[i][1] = '\0';
		args[3 + i] = sign[i];
	}
	reply = eval(link, topics_lua, (const char **)keys, (int)count, args, NULL, 3 + (int)count,
		     err);
	if (reply == NULL)
		return -1;
	freeReplyObject(reply);
	return 0;
}

static void share_keys(const char *id, char share[RQ_KEY_MAX], char outcomes[RQ_KEY_MAX],
		       char claims[RQ_KEY_MAX])
{
	rq_key(share, "share", id);
	snprintf(outcomes, RQ_KEY_MAX, RQ_PREFIX "share:%s:out", id);
	snprintf(claims, RQ_KEY_MAX, RQ_PREFIX "share:%s:claim", id);
}

int rq_script_share_open(struct redis_queue *q, struct sp_redis_link *link,
			 const struct sp_queue_job *job, const void *program, size_t program_len,
			 size_t tests, unsigned helpers, struct sp_error *err)
{
	char share[RQ_KEY_MAX], outcomes[RQ_KEY_MAX], claims[RQ_KEY_MAX], stream[RQ_KEY_MAX];
	char ready[RQ_KEY_MAX], turns[RQ_KEY_MAX], waiting[RQ_KEY_MAX], users[RQ_KEY_MAX];
	char queued[RQ_KEY_MAX], user_key[SP_REQUEST_MAX_USER_ID + 8], n[24], ttl[24], k[24];
	const char *keys[] = {share, stream, ready, turns, waiting, users, queued};
	const char *args[] = {program, n, ttl, k, user_key, job->id};
	size_t lengths[6];
	redisReply *r;

	share_keys(job->id, share, outcomes, claims);
	snprintf(user_key, sizeof(user_key), "%s%s", job->user ? "u:" : "-",
		 job->user ? job->user : "");
	stream_prefix(q, stream, job->language);
	strncat(stream, user_key, RQ_KEY_MAX - strlen(stream) - 1);
	rq_language_key(q, ready, "ready", job->language);
	rq_language_key(q, turns, "turns", job->language);
	rq_language_key(q, waiting, "waiting", job->language);
	rq_language_key(q, users, "users", job->language);
	rq_language_key(q, queued, "queued", job->language);
	snprintf(n, sizeof(n), "%zu", tests);
	snprintf(ttl, sizeof(ttl), "%u", rq_job_ttl_s(q));
	snprintf(k, sizeof(k), "%u", helpers);
	for (size_t i = 0; i < 6; i++)
		lengths[i] = i == 0 ? program_len : strlen(args[i]);
	r = eval(link, share_open_lua, keys, 7, args, lengths, 6, err);
	if (r == NULL)
		return -1;
	freeReplyObject(r);
	return 0;
}

long rq_script_share_next(struct sp_redis_link *link, const char *id, uint64_t claim_ms, bool stop,
			  struct sp_error *err)
{
	char share[RQ_KEY_MAX], outcomes[RQ_KEY_MAX], claims[RQ_KEY_MAX], claim[24];
	const char *keys[] = {share, outcomes, claims};
	const char *args[] = {claim, stop ? "1" : "0"};
	redisReply *r;
	long rc;

	share_keys(id, share, outcomes, claims);
	snprintf(claim, sizeof(claim), "%llu", (unsigned long long)claim_ms);
	r = eval(link, share_next_lua, keys, 3, args, NULL, 2, err);
	if (r == NULL)
		return -3;
	rc = r->type == REDIS_REPLY_INTEGER ? (long)r->integer : -3;
	if (rc == -3)
		sp_error_set(err, EPROTO, "redis: the share's next script answered oddly");
	freeReplyObject(r);
	return rc;
}

int rq_script_share_put(struct sp_redis_link *link, const char *id, size_t index,
			const char *outcome, bool failed, struct sp_error *err)
{
	char share[RQ_KEY_MAX], outcomes[RQ_KEY_MAX], claims[RQ_KEY_MAX], i[24];
	const char *keys[] = {share, outcomes};
	const char *args[] = {i, outcome, failed ? "1" : "0"};
	redisReply *r;

	share_keys(id, share, outcomes, claims);
	snprintf(i, sizeof(i), "%zu", index);
	r = eval(link, share_put_lua, keys, 2, args, NULL, 3, err);
	if (r == NULL)
		return -1;
	freeReplyObject(r);
	return 0;
}

redisReply *rq_script_share_read(struct sp_redis_link *link, const char *id, bool program,
				 struct sp_error *err)
{
	char share[RQ_KEY_MAX], outcomes[RQ_KEY_MAX], claims[RQ_KEY_MAX];

	share_keys(id, share, outcomes, claims);
	return program ? sp_redis_command(link, err, "HGET %s program", share)
		       : sp_redis_command(link, err, "HGETALL %s", outcomes);
}

int rq_script_share_drop(struct sp_redis_link *link, const char *id, struct sp_error *err)
{
	char share[RQ_KEY_MAX], outcomes[RQ_KEY_MAX], claims[RQ_KEY_MAX];
	redisReply *r;

	share_keys(id, share, outcomes, claims);
	r = sp_redis_command(link, err, "DEL %s %s %s", share, outcomes, claims);
	if (r == NULL)
		return -1;
	freeReplyObject(r);
	return 0;
}

void rq_topic_key(char out[RQ_KEY_MAX], const char *key, bool user, int owner)
{
	if (user)
		snprintf(out, RQ_KEY_MAX, RQ_PREFIX "watch:u:%d:%s", owner, key);
	else
		snprintf(out, RQ_KEY_MAX, RQ_PREFIX "watch:j:%s", key);
}

redisReply *rq_script_view(struct sp_redis_link *link, const char *id, struct sp_error *err)
{
	char key_job[RQ_KEY_MAX], key_result[RQ_KEY_MAX];
	const char *keys[] = {key_job, key_result};
	redisReply *reply;

	rq_key(key_job, "job", id);
	rq_key(key_result, "result", id);
	reply = eval(link, view_lua, keys, 2, NULL, NULL, 0, err);
	if (reply != NULL && (reply->type != REDIS_REPLY_ARRAY || reply->elements < 11)) {
		freeReplyObject(reply);
		sp_error_set(err, ENOENT, "no such job");
		return NULL;
	}
	return reply;
}

redisReply *rq_script_cancel(struct sp_redis_link *link, const char *id, int owner,
			     struct sp_error *err)
{
	char key_job[RQ_KEY_MAX], key_result[RQ_KEY_MAX], who[24];
	const char *keys[] = {key_job, key_result};
	const char *args[] = {who, id};

	rq_key(key_job, "job", id);
	rq_key(key_result, "result", id);
	snprintf(who, sizeof(who), "%d", owner);
	return eval(link, cancel_lua, keys, 2, args, NULL, 2, err);
}

json_t *rq_unrun_result(const struct redis_queue *q, const char *language, enum sp_job_end end,
			const char *message)
{
	const struct sp_language *l = sp_language_find(q->c.languages, language ? language : "");
	const char *status = end == SP_JOB_FINISHED ? "internal_error" : "cancelled";

	return json_pack("{s:s, s:s?, s:s, s:n, s:n, s:s, s:s, s:s}", "language",
			 l ? l->name : (language ? language : ""), "version", l ? l->version : NULL,
			 "status", status, "compile", "run", "stdout", "", "stderr", "", "error",
			 message);
}

int rq_script_heartbeat(struct sp_redis_link *link, const char *node, const char *description,
			struct sp_error *err)
{
	const char *keys[] = {RQ_WORKERS, RQ_WORKERS_SEEN};
	const char *args[] = {node, description};
	redisReply *r = eval(link, heartbeat_lua, keys, 2, args, NULL, 2, err);

	if (r == NULL)
		return -1;
	freeReplyObject(r);
	return 0;
}

redisReply *rq_script_workers(struct sp_redis_link *link, uint64_t seen_ms, uint64_t forget_ms,
			      struct sp_error *err)
{
	const char *keys[] = {RQ_WORKERS, RQ_WORKERS_SEEN};
	char seen[24], forget[24];
	const char *args[] = {seen, forget};

	snprintf(seen, sizeof(seen), "%llu", (unsigned long long)seen_ms);
	snprintf(forget, sizeof(forget), "%llu", (unsigned long long)forget_ms);
	return eval(link, workers_lua, keys, 2, args, NULL, 2, err);
}

ssize_t rq_script_stdin(struct redis_queue *q, struct sp_redis_link *link, const char *id,
			int owner, const void *data, size_t len, bool close, struct sp_error *err)
{
	char key_job[RQ_KEY_MAX], key_result[RQ_KEY_MAX], input[RQ_KEY_MAX], who[24], most[24];
	char ttl[24], *entry = malloc(len + 1);
	const char *keys[] = {key_job, key_result, input};
	const char *args[] = {who, close ? "c" : "d", entry, most, ttl};
	size_t lengths[] = {0, 1, len + 1, 0, 0};
	redisReply *r = NULL;
	long long rc = -9;

	if (entry == NULL)
		return sp_error_set(err, ENOMEM, "input");
	entry[0] = 'd';
	memcpy(entry + 1, data, len);
	rq_key(key_job, "job", id);
	rq_key(key_result, "result", id);
	rq_key(input, "stdin", id);
	snprintf(who, sizeof(who), "%d", owner);
	snprintf(most, sizeof(most), "%d", RQ_STDIN_BACKLOG);
	snprintf(ttl, sizeof(ttl), "%llu",
		 (unsigned long long)(q->c.config->max_limits.wall_ms / 1000 + 60));
	lengths[0] = strlen(who), lengths[3] = strlen(most), lengths[4] = strlen(ttl);
	r = eval(link, stdin_lua, keys, 3, args, lengths, 5, err);
	free(entry);
	if (r == NULL)
		return -1;
	if (r->type == REDIS_REPLY_INTEGER)
		rc = r->integer;
	freeReplyObject(r);
	switch (rc) {
	case 1:
		return (ssize_t)len;
	case 0:
	case -3:
		return 0;
	case -1:
		return sp_error_set(err, ENOENT, "no interactive run of yours with this id");
	case -2:
		return sp_error_set(err, EPIPE, "the program's input is closed");
	}
	return sp_error_set(err, EPROTO, "redis: the stdin script answered oddly");
}

int rq_script_ack(struct sp_redis_link *link, const struct rq_taken *taken, struct sp_error *err)
{
	const char *keys[] = {taken->stream};
	const char *args[] = {taken->entry};
	redisReply *r = eval(link, ack_lua, keys, 1, args, NULL, 1, err);

	if (r == NULL)
		return -1;
	freeReplyObject(r);
	return 0;
}
