/* Judge0 CE's API (1.13.1) at the paths its clients call, beside /api/v1,
 * on the same queue, cells, limits and tokens: its routes, and what it
 * tells of itself (languages, statuses, about, configuration, system,
 * workers). Its authentication: with tokens, X-Auth-Token (a header, or in
 * the query) as well as Authorization: Bearer; 401 with an empty body
 * without one; the X-Auth-User of DELETE is a token too. */
#include <civetweb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "http_handlers.h"
#include "http_judge0.h"
#include "http_reply.h"
#include "server/engine/pool.h"
#include "server/engine/queue.h"
#include "server/job/judge0.h"
#include "server/job/judge0_request.h"

static int language(struct mg_connection *conn, struct sp_server *server, const char *which)
{
	char *end;
	long long id;
	json_t *lang;

	if (strcmp(which, "all") == 0)
		return sp_reply(conn, 200, sp_judge0_languages(&server->languages, true), "");
	id = strtoll(which, &end, 10);
	lang = *which != '\0' && *end == '\0' ? sp_judge0_language(&server->languages, id) : NULL;
	if (lang == NULL)
		return sp_http_judge0_bare(conn, 404);
	return sp_reply(conn, 200, lang, "");
}

/* GET /workers: each language's queue and this node's cells of it. */
static json_t *workers(struct sp_server *server)
{
	json_t *list = json_array();

	for (size_t i = 0; list != NULL && i < server->languages.count; i++) {
		struct sp_pool_stats st = {0};
		struct sp_queue_stats js;

		sp_pool_stats(server->pool, server->languages.items[i].name, &st);
		sp_queue_stats(server->queue, i, &js);
		json_array_append_new(list,
				      json_pack("{s:s, s:i, s:i, s:i, s:i, s:i, s:i}", "queue",
						server->languages.items[i].name, "size", js.queued,
						"available", st.idle + st.busy, "idle", st.idle,
						"working", st.busy, "paused", 0, "failed", 0));
	}
	return list;
}

/* GET /system_info: what Judge0 gives from lscpu and free, in its keys. */
static json_t *system_info(void)
{
	struct utsname u;
	struct sysinfo si;
	char memory[64] = "", swap[64] = "";

	uname(&u);
	if (sysinfo(&si) == 0) {
		snprintf(memory, sizeof(memory), "%.1fGi",
			 (double)si.totalram * si.mem_unit / (1024.0 * 1024 * 1024));
		snprintf(swap, sizeof(swap), "%.1fGi",
			 (double)si.totalswap * si.mem_unit / (1024.0 * 1024 * 1024));
	}
	return json_pack("{s:s, s:I, s:s, s:s}", "Architecture", u.machine, "CPU(s)",
			 (json_int_t)sysconf(_SC_NPROCESSORS_ONLN), "Mem", memory, "Swap", swap);
}

static int text_reply(struct mg_connection *conn, const char *text)
{
	mg_printf(conn,
		  "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n\r\n%s",
		  strlen(text), text);
	return 200;
}

static int get(struct mg_connection *conn, struct sp_server *server, const char *uri)
{
	if (strcmp(uri, "/languages") == 0)
		return sp_reply(conn, 200, sp_judge0_languages(&server->languages, false), "");
	if (strncmp(uri, "/languages/", 11) == 0)
		return language(conn, server, uri + 11);
	if (strcmp(uri, "/statuses") == 0)
		return sp_reply(conn, 200, sp_judge0_statuses(), "");
	if (strcmp(uri, "/about") == 0)
		return sp_reply(conn, 200, sp_judge0_about(), "");
	if (strcmp(uri, "/version") == 0)
		return text_reply(conn, SP_JUDGE0_VERSION);
	if (strcmp(uri, "/config_info") == 0)
		return sp_reply(conn, 200, sp_judge0_config_info(&server->config), "");
	if (strcmp(uri, "/system_info") == 0)
		return sp_reply(conn, 200, system_info(), "");
	if (strcmp(uri, "/workers") == 0)
		return sp_reply(conn, 200, workers(server), "");
	if (strcmp(uri, "/submissions") == 0) /* listing every submission: not served */
		return sp_http_judge0_bare(conn, 403);
	if (strcmp(uri, "/submissions/batch") == 0)
		return sp_http_judge0_batch_show(conn, server);
	if (strncmp(uri, "/submissions/", 13) == 0)
		return sp_http_judge0_show(conn, server, uri + 13);
	return sp_http_judge0_bare(conn, 404);
}

static int post(struct mg_connection *conn, struct sp_server *server, const char *uri)
{
	bool submissions = strcmp(uri, "/submissions") == 0;
	bool batch = strcmp(uri, "/submissions/batch") == 0;

	if (strcmp(uri, "/authenticate") == 0)
		return sp_http_judge0_refuse(conn, server, 200, NULL);
	if (strcmp(uri, "/authorize") == 0)
		return sp_http_judge0_refuse(
		    conn, server, sp_http_judge0_user(conn, &server->config) ? 200 : 403, NULL);
	if (!submissions && !batch)
		return sp_http_judge0_refuse(conn, server, 404, NULL);
	if (atomic_load(&server->draining))
		return sp_http_judge0_refuse(conn, server, 503, "the server is shutting down");
	return submissions ? sp_http_judge0_create(conn, server)
			   : sp_http_judge0_batch_create(conn, server);
}

int sp_http_judge0(struct mg_connection *conn, void *data)
{
	struct sp_server *server = data;
	const struct mg_request_info *ri = mg_get_request_info(conn);
	const char *uri = ri->local_uri;

	if (sp_http_judge0_caller(conn, &server->config) == SP_CALLER_UNKNOWN)
		return sp_http_judge0_refuse(conn, server, 401, NULL);
	if (strcmp(ri->request_method, "GET") == 0)
		return get(conn, server, uri);
	if (strcmp(ri->request_method, "POST") == 0)
		return post(conn, server, uri);
	if (strcmp(ri->request_method, "DELETE") == 0 && strncmp(uri, "/submissions/", 13) == 0)
		return sp_http_judge0_destroy(conn, server, uri + 13);
	return sp_http_judge0_refuse(conn, server, 404, NULL);
}
