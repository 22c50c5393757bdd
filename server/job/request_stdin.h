/* An interactive run's input: the request's stdin becomes a pipe that the
 * client feeds while the program runs, the request's own stdin first. */
#ifndef SANDPOOL_REQUEST_STDIN_H
#define SANDPOOL_REQUEST_STDIN_H

#include "request.h"

/* What a pipe takes with no reader: the most of the request's own stdin an
 * interactive run may start with. */
#define SP_REQUEST_INTERACTIVE_STDIN_MAX 65536

/* Give REQ a pipe for stdin, holding REQ's own stdin first. Returns the
 * pipe's write end (non-blocking, close-on-exec), or -1 with errno (EFBIG
 * when the request's own stdin is over SP_REQUEST_INTERACTIVE_STDIN_MAX). */
int sp_request_interactive(struct sp_request *req);

#endif
