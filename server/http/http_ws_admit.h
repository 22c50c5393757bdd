/* Who may open a WebSocket: caps on the WebSockets open at once in all (and
 * on what the server's open files limit leaves room for, so that HTTP, cells
 * and files always have descriptors), from one client address (an IPv6
 * address counts by its /64, the least a host gets), and with one token. A
 * place is taken before the upgrade is answered, so that a refusal is an
 * HTTP answer, and given back when the connection ends. Any thread. */
#ifndef SANDPOOL_HTTP_WS_ADMIT_H
#define SANDPOOL_HTTP_WS_ADMIT_H

#include <stdbool.h>
#include <stdint.h>

#include "sandbox/base/error.h"

enum sp_ws_refusal {
	SP_WS_ADMITTED,
	SP_WS_FULL,	      /* ws_max_connections open */
	SP_WS_NO_DESCRIPTORS, /* as many as the open files limit leaves room for */
	SP_WS_ADDRESS_FULL,   /* ws_max_per_address from this address */
	SP_WS_TOKEN_FULL,     /* ws_max_per_token with this token */
	SP_WS_REFUSAL_COUNT
};

/* "total", "descriptors", "per_address", "per_token" ("" when admitted). */
const char *sp_ws_refusal_to_string(enum sp_ws_refusal r);

struct sp_ws_caps {
	unsigned total;	      /* ws_max_connections */
	unsigned descriptors; /* what the open files limit leaves room for */
	unsigned per_address; /* 0: no cap */
	unsigned per_token;   /* 0: no cap */
	unsigned tokens;      /* how many tokens the server has */
};

/* A place held by a connection. */
struct sp_ws_place {
	uint8_t address[16]; /* IPv4 as ::ffff:a.b.c.d; IPv6 its /64 */
	int caller;	     /* the token's index, or below 0 */
	bool held;
};

struct sp_ws_admit_stats {
	unsigned open;
	unsigned cap;	       /* the lower of total and descriptors */
	unsigned addresses;    /* client addresses holding a WebSocket now */
	unsigned address_peak; /* the most one address held at once, since the start */
	unsigned long refused[SP_WS_REFUSAL_COUNT];
};

struct sp_ws_admit;

int sp_ws_admit_new(struct sp_ws_admit **admit, const struct sp_ws_caps *caps,
		    struct sp_error *err);
void sp_ws_admit_free(struct sp_ws_admit *admit);

const struct sp_ws_caps *sp_ws_admit_caps(const struct sp_ws_admit *admit);

/* A place for a WebSocket from ADDRESS (text, as civetweb gives it) with the
 * token CALLER: SP_WS_ADMITTED and PLACE held, or why not (counted). */
enum sp_ws_refusal sp_ws_admit_take(struct sp_ws_admit *admit, const char *address, int caller,
				    struct sp_ws_place *place);

/* Give PLACE back (nothing when it is not held). */
void sp_ws_admit_give_back(struct sp_ws_admit *admit, struct sp_ws_place *place);

void sp_ws_admit_stats(struct sp_ws_admit *admit, struct sp_ws_admit_stats *st);

/* The cap per token: CONFIGURED (ws_max_per_token) when set; else, with
 * several TOKENS, half of CAP (the WebSockets the server holds at most),
 * and none with one token (a cap of its own would only lower the total). */
unsigned sp_ws_token_cap(unsigned configured, unsigned tokens, unsigned cap);

/* The descriptors kept for all but WebSockets: the server's own files,
 * THREADS HTTP connections with the files of a /run job each, CELLS cells
 * with their jobs' pipes. */
unsigned sp_ws_reserved_descriptors(unsigned threads, unsigned cells);

/* How many WebSockets OPEN_FILES descriptors leave room for, RESERVED kept
 * (at most half of them: a small limit is shared). */
unsigned sp_ws_descriptor_room(unsigned long open_files, unsigned reserved);

#endif
