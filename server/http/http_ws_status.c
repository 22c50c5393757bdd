/* The WebSockets in /healthz and /metrics: how many are open, the caps, the
 * upgrades refused by reason, the pings, dead clients and idle ones closed. */
#include <jansson.h>
#include <stdio.h>

#include "http_handlers.h"
#include "http_ws_admit.h"
#include "http_ws_loop.h"

static json_t *refusals(const struct sp_ws_admit_stats *st)
{
	json_t *obj = json_object();

	for (int r = SP_WS_ADMITTED + 1; r < SP_WS_REFUSAL_COUNT; r++)
		json_object_set_new(obj, sp_ws_refusal_to_string((enum sp_ws_refusal)r),
				    json_integer((json_int_t)st->refused[r]));
	return obj;
}

json_t *sp_http_ws_health(struct sp_server *server)
{
	const struct sp_ws_caps *caps = sp_ws_admit_caps(server->ws_admit);
	struct sp_ws_admit_stats st;
	struct sp_ws_loop_stats ls;

	sp_ws_admit_stats(server->ws_admit, &st);
	sp_ws_loop_stats(server->ws, &ls);
	return json_pack("{s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:o, s:I, s:I, s:I}", "open",
			 st.open, "cap", st.cap, "max_connections", caps->total, "descriptors_room",
			 caps->descriptors, "per_address", caps->per_address, "per_token",
			 caps->per_token, "addresses", st.addresses, "address_peak",
			 st.address_peak, "refused", refusals(&st), "pings", (json_int_t)ls.pings,
			 "dead_peers", (json_int_t)ls.dead, "idle_closed",
			 (json_int_t)ls.idle_closed);
}

void sp_http_ws_metrics(FILE *f, struct sp_server *server)
{
	struct sp_ws_admit_stats st;
	struct sp_ws_loop_stats ls;

	sp_ws_admit_stats(server->ws_admit, &st);
	fprintf(f,
		"# HELP sandpool_websockets WebSockets open.\n"
		"# TYPE sandpool_websockets gauge\n"
		"sandpool_websockets %u\n"
		"# HELP sandpool_websockets_cap WebSockets the server holds at most "
		"(ws_max_connections, or what the open files limit leaves room for).\n"
		"# TYPE sandpool_websockets_cap gauge\n"
		"sandpool_websockets_cap %u\n"
		"# HELP sandpool_websocket_address_peak The most WebSockets one client "
		"address held at once.\n"
		"# TYPE sandpool_websocket_address_peak gauge\n"
		"sandpool_websocket_address_peak %u\n"
		"# HELP sandpool_websocket_refused_total WebSocket upgrades refused, by reason.\n"
		"# TYPE sandpool_websocket_refused_total counter\n",
		st.open, st.cap, st.address_peak);
	for (int r = SP_WS_ADMITTED + 1; r < SP_WS_REFUSAL_COUNT; r++)
		fprintf(f, "sandpool_websocket_refused_total{reason=\"%s\"} %lu\n",
			sp_ws_refusal_to_string((enum sp_ws_refusal)r), st.refused[r]);
	sp_ws_loop_stats(server->ws, &ls);
	fprintf(f,
		"# HELP sandpool_websocket_pings_total Pings sent to silent WebSocket clients.\n"
		"# TYPE sandpool_websocket_pings_total counter\n"
		"sandpool_websocket_pings_total %lu\n"
		"# HELP sandpool_websocket_dead_total WebSocket clients dropped for answering no "
		"ping.\n"
		"# TYPE sandpool_websocket_dead_total counter\n"
		"sandpool_websocket_dead_total %lu\n"
		"# HELP sandpool_websocket_idle_closed_total WebSocket clients closed for sending "
		"nothing and watching nothing.\n"
		"# TYPE sandpool_websocket_idle_closed_total counter\n"
		"sandpool_websocket_idle_closed_total %lu\n",
		ls.pings, ls.dead, ls.idle_closed);
}
