/*
 * log.h - levelled structured logging to stderr, logfmt or JSON.
 *
 * Messages are a fixed text plus key=value fields, so logs stay greppable
 * and parseable: tw_log(TW_LOG_WARN, "control connection refused",
 * "peer=%s reason=%s", peer, "limit"). The fields argument is a printf
 * format producing space-separated key=value pairs (values without spaces,
 * or quoted with tw_log_quote()). Only the program layer (agent/) logs;
 * libraries return error values.
 */
#ifndef TW_LOG_H
#define TW_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum tw_log_level {
	TW_LOG_DEBUG = 0,
	TW_LOG_INFO = 1,
	TW_LOG_WARN = 2,
	TW_LOG_ERROR = 3,
} tw_log_level;

typedef enum tw_log_format {
	TW_LOG_LOGFMT = 0,
	TW_LOG_JSON = 1,
} tw_log_format;

void tw_log_setup(tw_log_level level, tw_log_format format);

/* Parses "debug|info|warn|error" / "logfmt|json"; returns 0 or -EINVAL. */
int tw_log_parse_level(const char *s, tw_log_level *out);
int tw_log_parse_format(const char *s, tw_log_format *out);

void tw_log(tw_log_level level, const char *msg, const char *fields_fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* real_ns (CLOCK_REALTIME nanoseconds) as UTC "2006-01-02T15:04:05.000Z",
 * the time format of log lines. Returns buf. */
const char *tw_log_format_time(int64_t real_ns, char *buf, size_t cap);

/* Writes value into buf as a logfmt-safe token (quoted and escaped when it
 * contains spaces, quotes, '=' or control characters). Returns buf. */
const char *tw_log_quote(char *buf, size_t cap, const char *value);

#define tw_debug(msg, ...) tw_log(TW_LOG_DEBUG, msg, __VA_ARGS__)
#define tw_info(msg, ...) tw_log(TW_LOG_INFO, msg, __VA_ARGS__)
#define tw_warn(msg, ...) tw_log(TW_LOG_WARN, msg, __VA_ARGS__)
#define tw_error(msg, ...) tw_log(TW_LOG_ERROR, msg, __VA_ARGS__)

#endif /* TW_LOG_H */
