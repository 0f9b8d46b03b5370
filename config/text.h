/*
 * text.h - small string helpers shared by config/ and agent/: user input
 * shown in error messages (quoted, escaped, cut), decimal and hex digits,
 * file paths and whole small files.
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

/* The value of one hex digit (0-9, a-f, A-F), or -1 for any other octet.
 * Inline so that the key store, which does not link the YAML
 * configuration, reads hex with the same code as the JSON parser. */
static inline int tw_text_hex_digit(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The directory part of a file path, newly allocated (free() it): "." for
 * a bare name, "/" for a file in the root. NULL when out of memory. */
char *tw_text_dirname(const char *path);

/* Reads the regular file open at fd, by the size fstat gives, into a new
 * buffer (free() it; it has room for a NUL after *len octets). A file
 * that shrinks while read gives what is there. Returns 0, -EINVAL when fd
 * is not a regular file, -EFBIG when it is over max octets, -ENOMEM, or
 * -errno of fstat/read. */
int tw_text_read_fd(int fd, size_t max, char **data, size_t *len);

#endif /* TW_TEXT_H */
