/* `sandpool serve`: the HTTP API over a warm pool of cells, the queue in
 * this process or shared in Redis; `sandpool worker`: a node that runs the
 * shared queue's jobs on its warm pool. */
#ifndef SANDPOOL_CMD_SERVE_H
#define SANDPOOL_CMD_SERVE_H

int sp_cmd_serve(int argc, char **argv);
int sp_cmd_worker(int argc, char **argv);

#endif
