/* Hexadecimal digits, as URLs (%XX) and the APIs' hex texts write them. */
#ifndef SANDPOOL_HEX_H
#define SANDPOOL_HEX_H

/* The value of the hex digit C (either case), or -1. */
int sp_hex_digit(char c);

#endif
