/*
 * duration.h - durations as written in configuration files and flags.
 *
 * Syntax (the Go/Prometheus convention): one or more <number><unit> terms
 * with no spaces, units ns, us (or µs), ms, s, m, h, e.g. "100ms", "1.5s",
 * "2m30s". A term's number may have a decimal fraction; fractions below a
 * nanosecond are truncated. "0" alone means zero; any other bare number is
 * rejected (is "10" seconds or milliseconds?). Signs and spaces are
 * rejected. Values are int64 nanoseconds, like the event loop's clock.
 */
#ifndef TW_DURATION_H
#define TW_DURATION_H

#include <stddef.h>
#include <stdint.h>

/* Parses the NUL-terminated s into *ns. Returns 0, -EINVAL (syntax) or
 * -ERANGE (above INT64_MAX nanoseconds). *ns is untouched on error. */
int tw_duration_parse(const char *s, int64_t *ns);

/* Writes ns (>= 0) as the shortest exact duration in the syntax above,
 * e.g. "0s", "25us", "2.5ms", "1.5s", "2m30s", "1h"; the result parses back
 * to ns. Returns the length it needed (snprintf-like: output truncated when
 * that is >= cap), or -EINVAL for negative ns. */
int tw_duration_format(int64_t ns, char *buf, size_t cap);

#endif /* TW_DURATION_H */
