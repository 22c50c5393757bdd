/* Judge0's callback_url: when a submission that has one ends, its answer
 * (Judge0's default fields, in base64) is sent there with a PUT, as Judge0
 * sends it: up to 3 tries, each given 5 s. A try that cannot connect, times
 * out or gets a 5xx is tried again a second later; any other answer ends it.
 *
 * The node that took the submission sends it: a thread waits for the job to
 * end. Callbacks pending are bounded; the server waits for them when it
 * stops (its jobs have ended by then), trying once more at most. */
#ifndef SANDPOOL_HTTP_CALLBACKS_H
#define SANDPOOL_HTTP_CALLBACKS_H

#include <stdbool.h>
#include <stddef.h>

#include "sandbox/base/error.h"

struct sp_server;
struct sp_http_callbacks;

/* At most MAX callbacks pending at once. NULL when out of memory. */
struct sp_http_callbacks *sp_http_callbacks_new(size_t max);

/* Send the answer of the job ID of OWNER to URL (http://) once it ends.
 * Returns 0, or -1 with ERR: EAGAIN when as many are pending as allowed,
 * EINVAL for a URL that is not one, ENOMEM. */
int sp_http_callback(struct sp_http_callbacks *cbs, struct sp_server *server, const char *id,
		     int owner, const char *url, struct sp_error *err);

/* Wait for the callbacks pending, then free CBS (NULL is fine). */
void sp_http_callbacks_free(struct sp_http_callbacks *cbs);

#endif
