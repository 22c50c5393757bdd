#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "limits_json.h"
#include "queue_url.h"
#include "sandbox/base/cleanup.h"

#define GIB ((uint64_t)1024 * 1024 * 1024)

void sp_config_defaults(struct sp_config *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->listen_host, sizeof(c->listen_host), "127.0.0.1");
	c->listen_port = 8080;
	/* A /run request holds one while its job waits and runs, a WebSocket
	 * until its upgrade is answered (then the WebSocket loop has it), a
	 * client sending its headers until they are in. */
	c->threads = 256;
	c->request_timeout_s = 10;
	c->workers = 0;
	c->queue_size = 1000;
	c->queue_timeout_s = 60;
	c->cold_concurrency = 2;
	c->ws_max_frame = 1024 * 1024;
	c->ws_max_backlog = 16 * 1024 * 1024;
	c->ws_stall_timeout_s = 30;
	/* Under 1 KiB of memory and a descriptor each when idle; a classroom
	 * of several hundred, a few tabs each, behind one address. */
	c->ws_max_connections = 4096;
	c->ws_max_per_address = 1024;
	c->ws_ping_interval_s = 30;
	c->ws_ping_timeout_s = 30;
	c->ws_idle_timeout_s = 600;
	c->pool_total = 45;
	c->max_jobs_per_cell = 1000;
	c->prepare_steps = false;
	c->prepare_runtimes = true;
	c->max_body = 64 * 1024 * 1024;
	c->max_limits = (struct sp_limits){
	    .cpu_ms = 60000,
	    .wall_ms = 120000,
	    .memory_kb = 4 * 1024 * 1024,
	    .processes = 1024,
	    .output_kb = 64 * 1024,
	    .file_kb = 1024 * 1024,
	    .open_files = 65536,
	    .stack_kb = 1024 * 1024,
	    .tmpfs_kb = 4 * 1024 * 1024,
	};
	c->job_retention_s = 600;
	c->job_retention_count = 1000;
	c->shutdown_grace_s = 10;
	c->queue_lease_s = 30;
	c->queue_max_deliveries = 3;
	c->judge_max_tests = 1000;
	c->judge_pool_percent = 50;
	c->judge_spread = 8;
	c->piston_api = true;
	c->judge0_api = true;
	c->judge0_callbacks = true;
	c->judge_max_program_kb = 64 * 1024;
	c->problem_max_mb = 128;
	c->problem_max_files = 20000;
	c->memory_max_mb = 1024;
	c->memory_share_percent = 50;
	/* A classroom behind one address: page loads come in bursts, each
	 * connection kept for keep_alive_timeout_ms (500 ms) after its last
	 * request; 300 pupils loading the playground within 5 s kept 86 open
	 * at once (server/README.md). */
	c->http_address_percent = 50;
	c->http_token_percent = 50;
	/* 64 MiB then may take 68 minutes: a slow uplink passes */
	c->body_min_rate_kb = 16;
}

/* The whole-number keys: where each goes and its range. */
static const struct number_key {
	const char *name;
	size_t offset;
	size_t size; /* sizeof the field: 4 or 8 */
	uint64_t min;
	uint64_t max;
} number_keys[] = {
    {"threads", offsetof(struct sp_config, threads), 4, 1, 1024},
    {"request_timeout_s", offsetof(struct sp_config, request_timeout_s), 4, 1, 3600},
    {"workers", offsetof(struct sp_config, workers), 4, 0, 4096},
    {"queue_size", offsetof(struct sp_config, queue_size), 4, 1, 1000000},
    {"queue_timeout_s", offsetof(struct sp_config, queue_timeout_s), 4, 0, 86400},
    {"cold_concurrency", offsetof(struct sp_config, cold_concurrency), 4, 1, 4096},
    {"user_in_flight", offsetof(struct sp_config, user_in_flight), 4, 0, 1000000},
    {"user_jobs_per_minute", offsetof(struct sp_config, user_jobs_per_minute), 4, 0, 1000000},
    {"ws_max_frame", offsetof(struct sp_config, ws_max_frame), 4, 1024, 1u << 30},
    {"ws_max_backlog", offsetof(struct sp_config, ws_max_backlog), 4, 65536, 1u << 30},
    {"ws_stall_timeout_s", offsetof(struct sp_config, ws_stall_timeout_s), 4, 1, 3600},
    {"ws_max_connections", offsetof(struct sp_config, ws_max_connections), 4, 1, 1000000},
    {"ws_max_per_address", offsetof(struct sp_config, ws_max_per_address), 4, 0, 1000000},
    {"ws_max_per_token", offsetof(struct sp_config, ws_max_per_token), 4, 0, 1000000},
    {"ws_ping_interval_s", offsetof(struct sp_config, ws_ping_interval_s), 4, 0, 3600},
    {"ws_ping_timeout_s", offsetof(struct sp_config, ws_ping_timeout_s), 4, 1, 3600},
    {"ws_idle_timeout_s", offsetof(struct sp_config, ws_idle_timeout_s), 4, 0, 86400},
    {"pool_total", offsetof(struct sp_config, pool_total), 4, 0, 4096},
    {"max_jobs_per_cell", offsetof(struct sp_config, max_jobs_per_cell), 4, 1, 1000000000},
    {"max_body", offsetof(struct sp_config, max_body), 8, 1024, GIB},
    {"job_retention_s", offsetof(struct sp_config, job_retention_s), 4, 1, 7 * 86400},
    {"job_retention_count", offsetof(struct sp_config, job_retention_count), 4, 1, 10000000},
    {"shutdown_grace_s", offsetof(struct sp_config, shutdown_grace_s), 4, 0, 3600},
    {"judge_max_tests", offsetof(struct sp_config, judge_max_tests), 4, 1, 100000},
    {"judge_pool_percent", offsetof(struct sp_config, judge_pool_percent), 4, 1, 100},
    {"judge_spread", offsetof(struct sp_config, judge_spread), 4, 0, 1024},
    {"judge_max_program_kb", offsetof(struct sp_config, judge_max_program_kb), 8, 1,
     4 * 1024 * 1024},
    {"memory_max_mb", offsetof(struct sp_config, memory_max_mb), 8, 64, 1024 * 1024},
    {"problem_max_mb", offsetof(struct sp_config, problem_max_mb), 8, 1, 64 * 1024},
    {"problem_max_files", offsetof(struct sp_config, problem_max_files), 4, 1, 1000000},
    {"memory_share_percent", offsetof(struct sp_config, memory_share_percent), 4, 1, 100},
    {"http_address_percent", offsetof(struct sp_config, http_address_percent), 4, 1, 100},
    {"http_token_percent", offsetof(struct sp_config, http_token_percent), 4, 1, 100},
    {"body_min_rate_kb", offsetof(struct sp_config, body_min_rate_kb), 4, 0, 1024 * 1024},
    {"queue_lease_s", offsetof(struct sp_config, queue_lease_s), 4, 1, 3600},
    {"queue_max_deliveries", offsetof(struct sp_config, queue_max_deliveries), 4, 1, 100},
};

/* The keys that are true or false. */
static const struct bool_key {
	const char *name;
	size_t offset;
} bool_keys[] = {
    {"clamp_limits", offsetof(struct sp_config, clamp_limits)},
    {"prepare_steps", offsetof(struct sp_config, prepare_steps)},
    {"prepare_runtimes", offsetof(struct sp_config, prepare_runtimes)},
    {"piston_api", offsetof(struct sp_config, piston_api)},
    {"judge0_api", offsetof(struct sp_config, judge0_api)},
    {"judge0_callbacks", offsetof(struct sp_config, judge0_callbacks)},
};

static int set_bool(struct sp_config *c, const struct bool_key *k, json_t *v, const char *where,
		    struct sp_error *err)
{
	if (!json_is_boolean(v))
		return sp_error_set(err, EINVAL, "%s: \"%s\" must be true or false", where,
				    k->name);
	*(bool *)((char *)c + k->offset) = json_is_true(v);
	return 0;
}

static int set_number(struct sp_config *c, const struct number_key *k, json_t *v, const char *where,
		      struct sp_error *err)
{
	json_int_t n;
	char *field = (char *)c + k->offset;

	if (!json_is_integer(v))
		return sp_error_set(err, EINVAL, "%s: \"%s\" must be a whole number", where,
				    k->name);
	n = json_integer_value(v);
	if (n < 0 || (uint64_t)n < k->min || (uint64_t)n > k->max)
		return sp_error_set(err, EINVAL, "%s: \"%s\" must be from %llu to %llu", where,
				    k->name, (unsigned long long)k->min,
				    (unsigned long long)k->max);
	if (k->size == 8) {
		uint64_t value = (uint64_t)n;

		memcpy(field, &value, sizeof(value));
	} else {
		unsigned value = (unsigned)n;

		memcpy(field, &value, sizeof(value));
	}
	return 0;
}

static int set_path(char *dst, size_t size, const char *key, json_t *v, const char *where,
		    struct sp_error *err)
{
	if (!json_is_string(v) || json_string_value(v)[0] != '/')
		return sp_error_set(err, EINVAL, "%s: \"%s\" must be an absolute path", where, key);
	if (snprintf(dst, size, "%s", json_string_value(v)) >= (int)size)
		return sp_error_set(err, ENAMETOOLONG, "%s: \"%s\" is too long", where, key);
	return 0;
}

static int set_tokens(struct sp_config *c, json_t *v, const char *where, struct sp_error *err)
{
	size_t i;
	json_t *item;

	if (!json_is_array(v))
		return sp_error_set(err, EINVAL, "%s: \"tokens\" must be an array of strings",
				    where);
	json_array_foreach(v, i, item)
	{
		if (!json_is_string(item))
			return sp_error_set(err, EINVAL, "%s: \"tokens\"[%zu] must be a string",
					    where, i);
		if (sp_config_add_token(c, json_string_value(item), err) < 0)
			return sp_error_wrap(err, "%s: \"tokens\"[%zu]", where, i);
	}
	return 0;
}

/* A limits object, checked now, kept as it is to be laid over languages. */
static int set_default_limits(json_t **slot, const char *key, json_t *v, const char *where,
			      struct sp_error *err)
{
	struct sp_limits scratch = {0};

	if (!json_is_object(v))
		return sp_error_set(err, EINVAL, "%s: \"%s\" must be an object", where, key);
	if (sp_limits_from_json(v, key, &scratch, err) < 0)
		return sp_error_wrap(err, "%s", where);
	json_decref(*slot);
	*slot = json_incref(v);
	return 0;
}

static int set_pool_sizes(struct sp_config *c, json_t *v, const char *where, struct sp_error *err)
{
	const char *name;
	json_t *size;

	if (!json_is_object(v))
		return sp_error_set(err, EINVAL, "%s: \"pool_sizes\" must be an object", where);
	json_object_foreach(v, name, size)
	{
		if (!json_is_integer(size) || json_integer_value(size) < 0 ||
		    json_integer_value(size) > 4096)
			return sp_error_set(err, EINVAL,
					    "%s: \"pool_sizes.%s\" must be from 0 to 4096", where,
					    name);
	}
	json_decref(c->pool_sizes);
	c->pool_sizes = json_incref(v);
	return 0;
}

static int set_time_multipliers(struct sp_config *c, json_t *v, const char *where,
				struct sp_error *err)
{
	const char *name;
	json_t *factor;

	if (!json_is_object(v))
		return sp_error_set(err, EINVAL, "%s: \"judge_time_multipliers\" must be an object",
				    where);
	json_object_foreach(v, name, factor)
	{
		if (!json_is_number(factor) || !(json_number_value(factor) >= 0.1) ||
		    json_number_value(factor) > 100)
			return sp_error_set(
			    err, EINVAL,
			    "%s: \"judge_time_multipliers.%s\" must be a number from 0.1 to 100",
			    where, name);
	}
	json_decref(c->judge_time_multipliers);
	c->judge_time_multipliers = json_incref(v);
	return 0;
}

double sp_config_time_multiplier(const struct sp_config *c, const char *language)
{
	json_t *v = json_object_get(c->judge_time_multipliers, language);

	return json_is_number(v) ? json_number_value(v) : 1.0;
}

static int set_other(struct sp_config *c, const char *key, json_t *v, const char *where,
		     struct sp_error *err)
{
	if (strcmp(key, "listen") == 0) {
		if (!json_is_string(v))
			return sp_error_set(err, EINVAL, "%s: \"listen\" must be a string", where);
		return sp_config_set_listen(c, json_string_value(v), err) < 0
			   ? sp_error_wrap(err, "%s", where)
			   : 0;
	}
	if (strcmp(key, "tokens") == 0)
		return set_tokens(c, v, where, err);
	if (strcmp(key, "queue") == 0) {
		if (!json_is_string(v))
			return sp_error_set(err, EINVAL, "%s: \"queue\" must be a string", where);
		return sp_config_set_queue(c, json_string_value(v), err) < 0
			   ? sp_error_wrap(err, "%s", where)
			   : 0;
	}
	if (strcmp(key, "state_dir") == 0)
		return set_path(c->state_dir, sizeof(c->state_dir), key, v, where, err);
	if (strcmp(key, "languages_dir") == 0)
		return set_path(c->languages_dir, sizeof(c->languages_dir), key, v, where, err);
	if (strcmp(key, "problems_dir") == 0)
		return set_path(c->problems_dir, sizeof(c->problems_dir), key, v, where, err);
	if (strcmp(key, "pool_sizes") == 0)
		return set_pool_sizes(c, v, where, err);
	if (strcmp(key, "judge_time_multipliers") == 0)
		return set_time_multipliers(c, v, where, err);
	if (strcmp(key, "max_limits") == 0)
		return sp_limits_from_json(v, "max_limits", &c->max_limits, err) < 0
			   ? sp_error_wrap(err, "%s", where)
			   : 0;
	if (strcmp(key, "default_limits") == 0)
		return set_default_limits(&c->default_limits, key, v, where, err);
	if (strcmp(key, "default_compile_limits") == 0)
		return set_default_limits(&c->default_compile_limits, key, v, where, err);
	return sp_error_set(err, EINVAL, "%s: unknown key \"%s\"", where, key);
}

int sp_config_apply(struct sp_config *c, json_t *doc, const char *where, struct sp_error *err)
{
	const char *key;
	json_t *v;

	if (!json_is_object(doc))
		return sp_error_set(err, EINVAL, "%s: the configuration is a JSON object", where);
	json_object_foreach(doc, key, v)
	{
		bool done = false;

		for (size_t i = 0; i < SP_ARRAY_SIZE(number_keys) && !done; i++) {
			if (strcmp(key, number_keys[i].name) != 0)
				continue;
			if (set_number(c, &number_keys[i], v, where, err) < 0)
				return -1;
			done = true;
		}
		for (size_t i = 0; i < SP_ARRAY_SIZE(bool_keys) && !done; i++) {
			if (strcmp(key, bool_keys[i].name) != 0)
				continue;
			if (set_bool(c, &bool_keys[i], v, where, err) < 0)
				return -1;
			done = true;
		}
		if (!done && set_other(c, key, v, where, err) < 0)
			return -1;
	}
	return 0;
}

int sp_config_load(struct sp_config *c, const char *file, struct sp_error *err)
{
	json_error_t jerr;
	json_t *doc = json_load_file(file, JSON_REJECT_DUPLICATES, &jerr);
	int rc;

	if (doc == NULL)
		return sp_error_set(err, EINVAL, "%s: line %d: %s", file, jerr.line, jerr.text);
	rc = sp_config_apply(c, doc, file, err);
	json_decref(doc);
	return rc;
}

static int parse_port(const char *text, uint16_t *port)
{
	char *end;
	unsigned long n;

	if (*text < '0' || *text > '9')
		return -1;
	n = strtoul(text, &end, 10);
	if (*end != '\0' || n == 0 || n > 65535)
		return -1;
	*port = (uint16_t)n;
	return 0;
}

int sp_config_set_listen(struct sp_config *c, const char *text, struct sp_error *err)
{
	const char *colon = strrchr(text, ':');
	char host[256];
	size_t len;
	unsigned char addr[16];

	if (colon == NULL || parse_port(colon + 1, &c->listen_port) < 0)
		return sp_error_set(err, EINVAL, "listen '%s': want ADDR:PORT (port 1 to 65535)",
				    text);
	len = (size_t)(colon - text);
	if (len >= 2 && text[0] == '[' && text[len - 1] == ']') {
		text++;
		len -= 2;
	}
	if (len >= sizeof(host))
		return sp_error_set(err, EINVAL, "listen '%s': address too long", text);
	memcpy(host, text, len);
	host[len] = '\0';
	if (len == 0)
		snprintf(host, sizeof(host), "127.0.0.1");
	if (strcmp(host, "localhost") != 0 && inet_pton(AF_INET, host, addr) != 1 &&
	    inet_pton(AF_INET6, host, addr) != 1)
		return sp_error_set(err, EINVAL, "listen '%s': '%s' is not an IP address", text,
				    host);
	snprintf(c->listen_host, sizeof(c->listen_host), "%s", host);
	return 0;
}

int sp_config_set_queue(struct sp_config *c, const char *url, struct sp_error *err)
{
	struct sp_queue_url parsed;

	if (strlen(url) >= sizeof(c->queue))
		return sp_error_set(err, EINVAL, "queue: the URL is too long");
	if (url[0] != '\0' && sp_queue_url_parse(url, &parsed, err) < 0)
		return -1;
	snprintf(c->queue, sizeof(c->queue), "%s", url);
	return 0;
}

int sp_config_add_token(struct sp_config *c, const char *token, struct sp_error *err)
{
	size_t len = strlen(token);

	if (len < 16 || len > 256)
		return sp_error_set(err, EINVAL, "a token must have 16 to 256 characters");
	for (size_t i = 0; i < len; i++) {
		if (token[i] <= ' ' || token[i] == 0x7f)
			return sp_error_set(err, EINVAL,
					    "a token must be printable, without spaces");
	}
	if (c->token_count >= SP_CONFIG_MAX_TOKENS)
		return sp_error_set(err, E2BIG, "at most %d tokens", SP_CONFIG_MAX_TOKENS);
	c->tokens[c->token_count] = strdup(token);
	if (c->tokens[c->token_count] == NULL)
		return sp_error_set(err, ENOMEM, "token");
	c->token_count++;
	return 0;
}

bool sp_config_is_loopback(const struct sp_config *c)
{
	struct in_addr v4;
	struct in6_addr v6;

	if (strcmp(c->listen_host, "localhost") == 0)
		return true;
	if (inet_pton(AF_INET, c->listen_host, &v4) == 1)
		return (ntohl(v4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, c->listen_host, &v6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&v6);
	return false;
}

/* Every member of DEFAULTS (named KEY) at most the maximum. */
static int check_defaults(const struct sp_config *c, json_t *defaults, const char *key,
			  struct sp_error *err)
{
	json_t *max = sp_limits_to_json(&c->max_limits);
	const char *name;
	json_t *v;
	int rc = 0;

	json_object_foreach(defaults, name, v)
	{
		json_t *m = json_object_get(max, name);

		if (json_is_integer(m) && json_integer_value(m) > 0 &&
		    json_integer_value(v) > json_integer_value(m)) {
			rc = sp_error_set(err, EINVAL, "%s.%s: %lld is above max_limits.%s (%lld)",
					  key, name, (long long)json_integer_value(v), name,
					  (long long)json_integer_value(m));
			break;
		}
	}
	json_decref(max);
	return rc;
}

int sp_config_check(const struct sp_config *c, struct sp_error *err)
{
	if (!sp_config_is_loopback(c) && c->token_count == 0)
		return sp_error_set(err, EINVAL,
				    "listening on %s (not loopback) needs an API token "
				    "(--token or \"tokens\")",
				    c->listen_host);
	if (check_defaults(c, c->default_limits, "default_limits", err) < 0 ||
	    check_defaults(c, c->default_compile_limits, "default_compile_limits", err) < 0)
		return -1;
	return 0;
}

void sp_config_free(struct sp_config *c)
{
	for (unsigned i = 0; i < c->token_count; i++)
		free(c->tokens[i]);
	c->token_count = 0;
	json_decref(c->pool_sizes);
	c->pool_sizes = NULL;
	json_decref(c->judge_time_multipliers);
	c->judge_time_multipliers = NULL;
	json_decref(c->default_limits);
	c->default_limits = NULL;
	json_decref(c->default_compile_limits);
	c->default_compile_limits = NULL;
}
