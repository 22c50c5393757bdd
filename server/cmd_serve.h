/* `sandpool serve`: the HTTP API over a warm pool of cells. */
#ifndef SANDPOOL_CMD_SERVE_H
#define SANDPOOL_CMD_SERVE_H

int sp_cmd_serve(int argc, char **argv);

#endif
