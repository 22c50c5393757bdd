/* POST and GET /api/v1/problems, GET and DELETE /api/v1/problems/{id}:
 * problem packages stored, listed, shown and removed (problems.h). */
#include <civetweb.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "http_handlers.h"
#include "http_reply.h"
#include "server/engine/problem_access.h"
#include "server/engine/problems.h"
#include "server/job/problem_store.h"
#include "sandbox/base/read_all.h"

#define PROBLEMS_PATH "/api/v1/problems"
/* A body is read into its file this much at a time. */
#define CHUNK (64 * 1024)

/* ---- the upload ------------------------------------------------------------------ */

/* An unnamed file for the body: in the inputs directory, else a memfd. */
static int body_file(const struct sp_server *server)
{
	int fd = -1;

	if (server->config.inputs_dir[0] != '\0')
		fd = open(server->config.inputs_dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0)
		fd = memfd_create("sandpool-package", MFD_CLOEXEC);
	return fd;
}

/* LENGTH bytes of CONN's body into FD. Returns 0, or -1 when the body
 * stopped short or the file failed (*SHORT says which). */
static int read_body(struct mg_connection *conn, int fd, uint64_t length, bool *short_body)
{
	char *buf = malloc(CHUNK);
	uint64_t got = 0;
	int rc = 0;

	*short_body = false;
	while (buf != NULL && rc == 0 && got < length) {
		size_t want = length - got < CHUNK ? (size_t)(length - got) : CHUNK;
		int n = mg_read(conn, buf, want);

		if (n <= 0) {
			*short_body = true;
			rc = -1;
		} else if (sp_write_all(fd, buf, (size_t)n) < 0) {
			rc = -1;
		} else {
			got += (uint64_t)n;
		}
	}
	free(buf);
	return buf != NULL ? rc : -1;
}

static int reply_upload(struct mg_connection *conn, struct sp_upload *up)
{
	json_t *body;

	if (up->status < 300)
		return sp_reply(conn, up->status, up->answer, "");
	body = json_pack("{s:{s:s, s:s}}", "error", "code", up->code, "message", up->message);
	if (body != NULL && up->answer != NULL)
		json_object_update(body, up->answer);
	json_decref(up->answer);
	return sp_reply(conn, up->status, body, "");
}

/* An answer before or instead of the rest of the body: the body is read
 * first (up to max_body), so that the client gets the answer rather than a
 * reset connection, and the connection ends after it. */
static int refuse_body(struct mg_connection *conn, const struct sp_server *server, int status,
		       const char *code, const char *message)
{
	int rc;

	sp_http_discard_body(conn, server->config.max_body);
	rc = sp_reply_error(conn, status, code, message, "Connection: close\r\n");
	sp_http_close(conn);
	return rc;
}

/* The body (LENGTH bytes) kept in a file and mapped: *MAP. Returns 0, or
 * the status it answered with. */
static int keep_body(struct mg_connection *conn, struct sp_server *server, uint64_t length,
		     void **map)
{
	bool short_body = false;
	int fd = body_file(server);

	if (fd < 0 || read_body(conn, fd, length, &short_body) < 0) {
		if (fd >= 0)
			close(fd);
		return short_body
			   ? refuse_body(conn, server, 400, "bad_request", "the body stopped short")
			   : refuse_body(conn, server, 500, "internal_error",
					 "the body could not be kept");
	}
	*map = mmap(NULL, (size_t)length, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (*map == MAP_FAILED)
		return sp_reply_error(conn, 500, "internal_error", "the body could not be read",
				      "");
	return 0;
}

static int upload(struct mg_connection *conn, struct sp_server *server)
{
	const struct mg_request_info *ri = mg_get_request_info(conn);
	uint64_t max = sp_problems_max_archive(server);
	struct sp_upload up = {0};
	char text[160];
	void *map = NULL;
	int rc;

	if (ri->content_length < 0)
		return refuse_body(conn, server, 411, "length_required",
				   "send the package with a Content-Length");
	if ((uint64_t)ri->content_length > max) {
		snprintf(text, sizeof(text), "a package archive is at most %llu bytes",
			 (unsigned long long)max);
		return refuse_body(conn, server, 413, "package_too_large", text);
	}
	if (ri->content_length == 0)
		return sp_reply_error(conn, 400, "bad_package",
				      "the body is empty: send a zip, tar or tar.gz archive", "");
	if ((rc = keep_body(conn, server, (uint64_t)ri->content_length, &map)) != 0)
		return rc;
	sp_problems_upload(server, map, (size_t)ri->content_length, &up);
	munmap(map, (size_t)ri->content_length);
	return reply_upload(conn, &up);
}

/* ---- the others -------------------------------------------------------------------- */

static int list(struct mg_connection *conn, struct sp_server *server)
{
	struct sp_error err = {0};
	json_t *all = sp_problems_list(server, &err);

	if (all == NULL)
		return sp_reply_error(conn, 500, "internal_error", err.message, "");
	return sp_reply(conn, 200, all, "");
}

static int not_found_or_failed(struct mg_connection *conn, const struct sp_error *err)
{
	if (err->errnum == ENOENT)
		return sp_reply_error(conn, 404, "not_found", "no such problem", "");
	return sp_reply_error(conn, 500, "internal_error", err->message, "");
}

static int show(struct mg_connection *conn, struct sp_server *server, const char *id)
{
	struct sp_error err = {0};
	struct sp_problem p;
	json_t *view;

	if (sp_problem_find(server, id, &p, &err) < 0)
		return not_found_or_failed(conn, &err);
	view = sp_problem_view(&p);
	sp_problem_free(&p);
	return sp_reply(conn, 200, view, "");
}

static int remove_one(struct mg_connection *conn, struct sp_server *server, const char *id)
{
	struct sp_error err = {0};

	if (sp_problems_remove(server, id, &err) < 0)
		return not_found_or_failed(conn, &err);
	return sp_reply(conn, 200, json_pack("{s:s, s:b}", "id", id, "deleted", true), "");
}

static int refuse_method(struct mg_connection *conn, const char *allow)
{
	char headers[64];

	snprintf(headers, sizeof(headers), "Allow: %s\r\n", allow);
	sp_http_discard_body(conn, 1024 * 1024);
	return sp_reply_error(conn, 405, "method_not_allowed", "this method is not for this path",
			      headers);
}

int sp_http_problems(struct mg_connection *conn, void *data)
{
	struct sp_server *server = data;
	const struct mg_request_info *ri = mg_get_request_info(conn);

	if (!sp_http_authorized(conn, &server->config)) {
		sp_http_discard_body(conn, 1024 * 1024);
		return sp_reply_unauthorized(conn);
	}
	if (strcmp(ri->request_method, "POST") == 0)
		return upload(conn, server);
	if (strcmp(ri->request_method, "GET") == 0)
		return list(conn, server);
	return refuse_method(conn, "GET, POST");
}

int sp_http_problem(struct mg_connection *conn, void *data)
{
	struct sp_server *server = data;
	const struct mg_request_info *ri = mg_get_request_info(conn);
	const char *id = ri->local_uri + strlen(PROBLEMS_PATH "/");

	if (!sp_http_authorized(conn, &server->config))
		return sp_reply_unauthorized(conn);
	if (!sp_problem_id_valid(id) && strcmp(ri->request_method, "GET") != 0 &&
	    strcmp(ri->request_method, "DELETE") != 0)
		return refuse_method(conn, "GET, DELETE");
	if (!sp_problem_id_valid(id))
		return sp_reply_error(conn, 404, "not_found", "no such problem", "");
	if (strcmp(ri->request_method, "GET") == 0)
		return show(conn, server, id);
	if (strcmp(ri->request_method, "DELETE") == 0)
		return remove_one(conn, server, id);
	return refuse_method(conn, "GET, DELETE");
}
