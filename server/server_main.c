/* sandpool-server: the HTTP server, linked against civetweb. `sandpool
 * serve` runs it, so that the sandpool command itself stays static. */
#include <stdio.h>
#include <string.h>

#include "cmd_serve.h"

int main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "serve") == 0)
		return sp_cmd_serve(argc - 1, argv + 1);
	fprintf(stderr, "usage: sandpool serve [OPTIONS] (see sandpool serve --help)\n");
	return 2;
}
