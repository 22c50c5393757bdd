/* Cleanup attributes and ownership hand-over, in the style of crun and systemd. */
#ifndef SANDPOOL_CLEANUP_H
#define SANDPOOL_CLEANUP_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <dirent.h>

static inline void sp_freep(void *p)
{
	void **pp = p;

	free(*pp);
}

static inline void sp_closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;

		close(*fd);
		errno = saved;
	}
}

static inline void sp_fclosep(FILE **f)
{
	if (*f != NULL)
		fclose(*f);
}

static inline void sp_closedirp(DIR **d)
{
	if (*d != NULL)
		closedir(*d);
}

#define cleanup_free	 __attribute__((cleanup(sp_freep)))
#define cleanup_close	 __attribute__((cleanup(sp_closep)))
#define cleanup_fclose	 __attribute__((cleanup(sp_fclosep)))
#define cleanup_closedir __attribute__((cleanup(sp_closedirp)))

/* Take the value out of a cleanup variable so that its cleanup does nothing. */
#define steal_pointer(pp)                                                                          \
	({                                                                                         \
		__typeof__(*(pp)) stolen_ = *(pp);                                                 \
		*(pp) = NULL;                                                                      \
		stolen_;                                                                           \
	})

#define steal_fd(fdp)                                                                              \
	({                                                                                         \
		int stolen_fd_ = *(fdp);                                                           \
		*(fdp) = -1;                                                                       \
		stolen_fd_;                                                                        \
	})

#define SP_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
