/*
 * text.h - showing user input in error messages: quoted, escaped, cut.
 */
#ifndef TW_TEXT_H
#define TW_TEXT_H

#include <stddef.h>

/* Writes s (n octets, not necessarily NUL-terminated) into buf as a quoted
 * string for a message: '"' and '\\' escaped, control octets as \xNN,
 * cut after 48 octets with "...". buf is always NUL-terminated ("" when cap
 * is below 8). */
void tw_text_quote(const char *s, size_t n, char *buf, size_t cap);

#endif /* TW_TEXT_H */
