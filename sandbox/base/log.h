/* Logging: the only global state besides the HTTP server context. */
#ifndef SANDPOOL_LOG_H
#define SANDPOOL_LOG_H

enum sp_log_level { SP_LOG_ERROR, SP_LOG_WARN, SP_LOG_INFO, SP_LOG_DEBUG };

void sp_log_set_level(enum sp_log_level level);
enum sp_log_level sp_log_get_level(void);
void sp_log_write(enum sp_log_level level, const char *func, int line, int errnum, const char *fmt,
		  ...) __attribute__((format(printf, 5, 6)));

#define sp_log(level, ...) sp_log_write(level, __func__, __LINE__, 0, __VA_ARGS__)
/* Like sp_log, with ": strerror(errno)" appended. */
#define sp_log_errno(level, ...) sp_log_write(level, __func__, __LINE__, errno, __VA_ARGS__)

#define log_error(...) sp_log(SP_LOG_ERROR, __VA_ARGS__)
#define log_warn(...)  sp_log(SP_LOG_WARN, __VA_ARGS__)
#define log_info(...)  sp_log(SP_LOG_INFO, __VA_ARGS__)
#define log_debug(...) sp_log(SP_LOG_DEBUG, __VA_ARGS__)

#endif
