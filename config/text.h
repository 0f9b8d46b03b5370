/*
 * text.h - small string helpers shared by config/ and agent/: user input
 * shown in error messages (quoted, escaped, cut) and file paths.
 */
#ifndef TW_TEXT_H
#define TW_TEXT_H

#include <stddef.h>

/* Writes s (n octets, not necessarily NUL-terminated) into buf as a quoted
 * string for a message: '"' and '\\' escaped, control octets as \xNN,
 * cut after 48 octets with "...". buf is always NUL-terminated ("" when cap
 * is below 8). */
void tw_text_quote(const char *s, size_t n, char *buf, size_t cap);

/* Reads s[0..n) as an unsigned decimal of 1 to max_digits digits (no sign,
 * no space) into *out. -EINVAL when it is not such a number, -ERANGE when it
 * is above max; *out is left alone on error. */
int tw_text_decimal(const char *s, size_t n, size_t max_digits, unsigned max, unsigned *out);

/* The directory part of a file path, newly allocated (free() it): "." for
 * a bare name, "/" for a file in the root. NULL when out of memory. */
char *tw_text_dirname(const char *path);

#endif /* TW_TEXT_H */
