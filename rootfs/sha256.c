#include "sha256.h"

#include <errno.h>
#include <nettle/sha2.h>
#include <unistd.h>

#define SHA256_READ_SIZE (64 * 1024)

void sp_sha256_to_digest(const uint8_t sum[32], char out[SP_DIGEST_MAX])
{
	static const char hex[] = "0123456789abcdef";
	char *p = out;

	for (const char *s = "sha256:"; *s != '\0'; s++)
		*p++ = *s;
	for (size_t i = 0; i < 32; i++) {
		*p++ = hex[sum[i] >> 4];
		*p++ = hex[sum[i] & 0xf];
	}
	*p = '\0';
}

int sp_sha256_fd(int fd, uint8_t sum[32], uint64_t *length, struct sp_error *err)
{
	uint8_t buf[SHA256_READ_SIZE];
	struct sha256_ctx ctx;
	uint64_t total = 0;

	sha256_init(&ctx);
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return sp_error_set(err, errno, "read for sha256");
		if (n == 0)
			break;
		sha256_update(&ctx, (size_t)n, buf);
		total += (uint64_t)n;
	}
	sha256_digest(&ctx, SHA256_DIGEST_SIZE, sum);
	if (length != NULL)
		*length = total;
	return 0;
}
