/* Piston v2's API (engineer-man/piston, api/src/api/v2.js) over sandpool's:
 * its runtimes are sandpool's languages, its execute request becomes a run
 * request, and that run's answer becomes Piston's. Only data here: the
 * HTTP side runs the request as it runs /api/v1/run. */
#ifndef SANDPOOL_PISTON_H
#define SANDPOOL_PISTON_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "language.h"

/* The most of a Piston message (its 400's "message"). */
#define SP_PISTON_MESSAGE_MAX 512

/* [{"language", "version", "aliases", "runtime"?}] of LANGUAGES, as
 * GET /api/v2/runtimes lists them. */
json_t *sp_piston_runtimes(const struct sp_language_set *languages);

/* Piston's execute body DOC as the body of a sandpool run request (a new
 * object, with "interleave"), its language in *LANGUAGE; limits checked
 * against CONFIG's max_limits as Piston checks its configured ones. NULL
 * with MESSAGE (SP_PISTON_MESSAGE_MAX bytes): what Piston answers 400 with;
 * or NULL with MESSAGE empty when out of memory. */
json_t *sp_piston_request(json_t *doc, const struct sp_language_set *languages,
			  const struct sp_config *config, const struct sp_language **language,
			  char *message);

/* Piston's connect API (/api/v2/connect): its init message DOC as the body
 * of an interactive run request, as sp_piston_request makes it but with
 * the init's stdin as it is (written first; no newline added), without
 * "interleave". */
json_t *sp_piston_connect_request(json_t *doc, const struct sp_language_set *languages,
				  const struct sp_config *config,
				  const struct sp_language **language, char *message);

/* {"type": "runtime", "language", "version"}: an init taken. */
json_t *sp_piston_runtime(const struct sp_language *language);

/* The number of Piston's signal NAME (a string of its globals.SIGNALS:
 * "SIGKILL", "SIGRTMIN+3"...; numbers are not among them), 0 when NAME is
 * none of them. */
int sp_piston_signal(const json_t *name);

/* Whether signal N's default action ends a process: all but SIGCHLD,
 * SIGCONT, SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU, SIGURG and SIGWINCH. */
bool sp_piston_signal_ends(int n);

/* A "stdout" or "stderr" event of a running job as Piston's {"type":
 * "data", "stream", "data"} (bytes that are not UTF-8 as U+FFFD, as node's
 * toString() makes them); NULL when EVENT is not one, or out of memory. */
json_t *sp_piston_data(const json_t *event);

/* {"type": "exit", "stage", "code", "signal", "status", "message"}: STAGE
 * ("compile" or "run") ended as STEP (a step of a run's answer) says, as
 * sp_piston_answer's stages say it; a step cancelled after the client's
 * signal KILLED_BY (a number, 0 for none) was killed: SIGKILL, "SG". */
json_t *sp_piston_exit(const json_t *step, const char *stage, int killed_by);

/* ANSWER (of a run request made by sp_piston_request) as Piston's:
 * {"language", "version", "run", "compile"?}, each stage {"stdout",
 * "stderr", "output", "code", "signal", "message", "status", "cpu_time",
 * "wall_time", "memory"}. NULL when out of memory. */
json_t *sp_piston_answer(const json_t *answer, const struct sp_language *language);

#endif
