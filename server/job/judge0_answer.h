/* A Judge0 CE submission as its API shows it (GET /submissions/TOKEN,
 * 1.13.1), made from a sandpool job's view and the submission's fields the
 * job keeps in its "echo" (judge0_request.h): its result's once it ended,
 * its request's before.
 *
 * Fields come in Judge0's column order; texts are null when empty, in
 * base64 as Ruby's encode64 writes it when asked; "time" and "wall_time"
 * are decimal strings in seconds, "memory" KB. Status: 1 while queued, 2
 * while running, then the run's (judge0.h sp_judge0_status_of), 6 for a
 * failed compile, 5 for a run over its cpu limit even within its extra
 * time, 13 for a job that ended without running (cancelled, expired, the
 * server stopped), with the reason as "message". */
#ifndef SANDPOOL_JUDGE0_ANSWER_H
#define SANDPOOL_JUDGE0_ANSWER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "language.h"

/* A Judge0 token: the job id as a UUID (8-4-4-4-12 hex digits), and NUL. */
#define SP_JUDGE0_TOKEN_SIZE 37

/* The token of the job ID (32 hex digits). */
void sp_judge0_token_of(const char *id, char token[SP_JUDGE0_TOKEN_SIZE]);

/* The job id of TOKEN into ID (33 bytes). Returns false when TOKEN is not
 * one. */
bool sp_judge0_id_of(const char *token, char *id);

/* The fields of ?fields=TEXT as a mask of Judge0's columns: its default
 * fields for none, all of them for "*". Returns 0, or -1 with INVALID
 * holding the unknown names as Judge0 lists them ("x, y"). */
int sp_judge0_fields(const char *text, uint64_t *mask, char *invalid, size_t size);

/* The mask of Judge0's default fields. */
uint64_t sp_judge0_default_fields(void);

/* Judge0's status id of the job VIEW (sp_queue_view's). */
int sp_judge0_view_status(const json_t *view);

/* The submission TOKEN of job VIEW with the fields of MASK, its texts in
 * base64 when BASE64. NULL when out of memory, or with *NOT_UTF8 set when a
 * text is not UTF-8 and BASE64 is false (Judge0 answers 400 then). */
json_t *sp_judge0_submission(const char *token, const json_t *view,
			     const struct sp_language_set *languages, uint64_t mask, bool base64,
			     bool *not_utf8);

#endif
