/* Connections answered early and closed the way a web server closes them
 * (Apache's lingering close): the answer sent, the write side shut, then
 * what the client still sends read and dropped until it closes, LINGER_MS
 * pass or LINGER_BYTES come. Closed at once instead, a socket with unread
 * input sends a reset: the client's send fails, or its unread answer is
 * dropped, and it never reads why it was refused. One thread with an epoll
 * set holds at most LINGER_MAX such sockets; past that, a socket is closed
 * at once. */
#ifndef SANDPOOL_HTTP_LINGER_H
#define SANDPOOL_HTTP_LINGER_H

struct sp_linger;

/* The thread, started; NULL when out of memory or threads. */
struct sp_linger *sp_linger_new(void);

/* Stop the thread and close every socket it holds. */
void sp_linger_free(struct sp_linger *l);

/* Take FD (its answer sent, its write side shut) and close it once its
 * client is done sending, or soon. L NULL: close it at once. */
void sp_linger_close(struct sp_linger *l, int fd);

#endif
