/* Judge0 CE's API (1.13.1) at the paths its clients call, beside /api/v1:
 * GET /languages, /languages/all, /languages/ID, /statuses, /about and
 * /version. Its authentication: with tokens, X-Auth-Token (a header, or
 * the query's X-Auth-Token) as well as Authorization: Bearer; 401 with an
 * empty body without one. */
#include <civetweb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_handlers.h"
#include "http_reply.h"
#include "server/job/judge0.h"

/* Who calls: its token by Authorization, X-Auth-Token or ?X-Auth-Token=. */
static int caller(struct mg_connection *conn, const struct sp_config *config)
{
	const struct mg_request_info *ri = mg_get_request_info(conn);
	const char *header = mg_get_header(conn, "X-Auth-Token");
	char query[300];
	int who = sp_http_caller(conn, config);

	if (who != SP_CALLER_UNKNOWN)
		return who;
	if (header != NULL && (who = sp_http_token_match(config, header)) >= 0)
		return who;
	if (ri->query_string != NULL &&
	    mg_get_var(ri->query_string, strlen(ri->query_string), "X-Auth-Token", query,
		       sizeof(query)) > 0 &&
	    (who = sp_http_token_match(config, query)) >= 0)
		return who;
	return SP_CALLER_UNKNOWN;
}

/* Judge0's 401 and 404: a status and no body. */
static int bare(struct mg_connection *conn, int status)
{
	mg_printf(conn, "HTTP/1.1 %d %s\r\nContent-Length: 0\r\nCache-Control: no-store\r\n\r\n",
		  status, mg_get_response_code_text(conn, status));
	return status;
}

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
		return sp_reply(conn, 404, json_pack("{s:s}", "error", "language not found"), "");
	return sp_reply(conn, 200, lang, "");
}

int sp_http_judge0(struct mg_connection *conn, void *data)
{
	struct sp_server *server = data;
	const struct mg_request_info *ri = mg_get_request_info(conn);
	const char *uri = ri->local_uri;

	if (caller(conn, &server->config) == SP_CALLER_UNKNOWN)
		return bare(conn, 401);
	if (strcmp(ri->request_method, "GET") != 0)
		return bare(conn, 404);
	if (strcmp(uri, "/languages") == 0)
		return sp_reply(conn, 200, sp_judge0_languages(&server->languages, false), "");
	if (strncmp(uri, "/languages/", 11) == 0)
		return language(conn, server, uri + 11);
	if (strcmp(uri, "/statuses") == 0)
		return sp_reply(conn, 200, sp_judge0_statuses(), "");
	if (strcmp(uri, "/about") == 0)
		return sp_reply(conn, 200, sp_judge0_about(), "");
	if (strcmp(uri, "/version") == 0) {
		mg_printf(
		    conn,
		    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n\r\n%s",
		    strlen(SP_JUDGE0_VERSION), SP_JUDGE0_VERSION);
		return 200;
	}
	return bare(conn, 404);
}
