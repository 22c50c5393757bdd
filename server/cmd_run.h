/* `sandpool run`: one command in a fresh sandbox, result as JSON. */
#ifndef SANDPOOL_CMD_RUN_H
#define SANDPOOL_CMD_RUN_H

int sp_cmd_run(int argc, char **argv);

#endif
