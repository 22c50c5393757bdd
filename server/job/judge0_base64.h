/* Base64 as Judge0 CE reads and writes it (Ruby's Base64.decode64 and
 * encode64): it reads leniently and writes in lines. */
#ifndef SANDPOOL_JUDGE0_BASE64_H
#define SANDPOOL_JUDGE0_BASE64_H

#include <stddef.h>

/* DATA (LENGTH bytes) in base64 with a newline after every 60 characters and
 * at the end, as encode64 writes it ("" for none): a new string, NULL when
 * out of memory. */
char *sp_judge0_base64_encode(const unsigned char *data, size_t length);

/* The bytes of TEXT (LENGTH characters) as decode64 reads them: characters
 * outside the alphabet are skipped, an '=' ends the data where it stands
 * third or fourth in a group (elsewhere it is skipped too), and a last group
 * of 2 or 3 characters gives 1 or 2 bytes. A new buffer of *OUT_LENGTH
 * bytes (and a NUL past them), NULL when out of memory. */
unsigned char *sp_judge0_base64_decode(const char *text, size_t length, size_t *out_length);

#endif
