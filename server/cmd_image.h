/* `sandpool image`: import, list, inspect and remove images. */
#ifndef SANDPOOL_CMD_IMAGE_H
#define SANDPOOL_CMD_IMAGE_H

int sp_cmd_image(int argc, char **argv);

#endif
