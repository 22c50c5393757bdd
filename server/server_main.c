/* sandpool-server: the HTTP server, linked against civetweb and hiredis.
 * `sandpool serve` and `sandpool worker` run it, so that the sandpool
 * command itself stays static. */
#include <stdio.h>
#include <string.h>

#include "cmd_serve.h"
#include "sandbox/spawner.h"

int main(int argc, char **argv)
{
	/* a new spawner, run by the server when the one it had died */
	sp_spawner_main_if_asked(argc, argv);
	if (argc >= 2 && strcmp(argv[1], "serve") == 0)
		return sp_cmd_serve(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "worker") == 0)
		return sp_cmd_worker(argc - 1, argv + 1);
	fprintf(stderr, "usage: sandpool serve|worker [OPTIONS] (see sandpool serve --help)\n");
	return 2;
}
