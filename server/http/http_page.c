/* GET / (and the page's script and style): the playground, from memory. */
#include <civetweb.h>
#include <stdio.h>
#include <string.h>

#include "http_handlers.h"
#include "http_reply.h"
#include "web.h"

int sp_http_page(struct mg_connection *conn, void *data)
{
	struct sp_server *server = data;
	const struct mg_request_info *ri = mg_get_request_info(conn);
	const struct sp_web_file *f = sp_web_find(server->web, ri->local_uri);
	bool head = strcmp(ri->request_method, "HEAD") == 0;
	char headers[512];
	int n;

	if (!head && strcmp(ri->request_method, "GET") != 0)
		return sp_reply_error(conn, 405, "method_not_allowed", "use GET", "Allow: GET\r\n");
	if (f == NULL)
		return sp_reply_error(conn, 404, "not_found",
				      "the playground is not installed (no web folder)", "");
	n = snprintf(headers, sizeof(headers),
		     "HTTP/1.1 200 OK\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
		     "Cache-Control: no-cache\r\nX-Content-Type-Options: nosniff\r\n"
		     "Content-Security-Policy: default-src 'self'; img-src 'self' data:; "
		     "connect-src 'self' ws: wss:\r\n"
		     "\r\n",
		     f->content_type, f->length);
	mg_write(conn, headers, (size_t)n);
	if (!head)
		mg_write(conn, f->data, f->length);
	return 200;
}
