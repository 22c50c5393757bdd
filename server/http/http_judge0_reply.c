/* Judge0 CE's authentication and its bare answers (http_judge0.h). */
#include <civetweb.h>
#include <stdio.h>
#include <string.h>

#include "http_body.h"
#include "http_conns.h"
#include "http_judge0.h"
#include "http_reply.h"

/* The value of NAME in CONN's header or query into OUT; false when none. */
bool sp_http_judge0_given(struct mg_connection *conn, const char *name, char *out, size_t size)
{
	const struct mg_request_info *ri = mg_get_request_info(conn);
	const char *header = mg_get_header(conn, name);

	if (header != NULL) {
		snprintf(out, size, "%s", header);
		return true;
	}
	return ri->query_string != NULL &&
	       mg_get_var(ri->query_string, strlen(ri->query_string), name, out, size) >= 0;
}

/* Who calls: its token by Authorization, X-Auth-Token or ?X-Auth-Token=. */
int sp_http_judge0_caller(struct mg_connection *conn, const struct sp_config *config)
{
	char token[300];
	int who = sp_http_caller(conn, config);

	if (who != SP_CALLER_UNKNOWN)
		return who;
	if (sp_http_judge0_given(conn, "X-Auth-Token", token, sizeof(token)) &&
	    (who = sp_http_token_match(config, token)) >= 0)
		return who;
	return SP_CALLER_UNKNOWN;
}

/* X-Auth-User, for what Judge0 lets only its authorized users do. */
bool sp_http_judge0_user(struct mg_connection *conn, const struct sp_config *config)
{
	char token[300];

	return config->token_count == 0 ||
	       (sp_http_judge0_given(conn, "X-Auth-User", token, sizeof(token)) &&
		sp_http_token_match(config, token) >= 0);
}

/* Judge0's answers without a body: 401, 403, 404. */
int sp_http_judge0_bare(struct mg_connection *conn, int status)
{
	mg_printf(conn, "HTTP/1.1 %d %s\r\nContent-Length: 0\r\nCache-Control: no-store\r\n\r\n",
		  status, mg_get_response_code_text(conn, status));
	return status;
}

int sp_http_judge0_error(struct mg_connection *conn, int status, const char *text,
			 const char *extra)
{
	return sp_reply(conn, status, json_pack("{s:s}", "error", text), extra);
}

/* Answer before the body is read: read it first, as /api/v1 does. */
int sp_http_judge0_refuse(struct mg_connection *conn, const struct sp_server *server, int status,
			  const char *text)
{
	bool read = sp_http_body_discard(conn, server->config.max_body);
	int rc =
	    text ? sp_http_judge0_error(conn, status, text, "") : sp_http_judge0_bare(conn, status);

	if (!read)
		sp_http_close(conn);
	return rc;
}
