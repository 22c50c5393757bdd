/* `sandpool check`: what this host lets sandpool enforce. */
#ifndef SANDPOOL_CMD_CHECK_H
#define SANDPOOL_CMD_CHECK_H

int sp_cmd_check(int argc, char **argv);

#endif
