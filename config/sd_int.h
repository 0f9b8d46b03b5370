/*
 * sd_int.h - internal to the sd module: the document builder both parsers
 * feed (sd.c), so that JSON and YAML get exactly the same checks, limits
 * and messages.
 */
#ifndef TW_SD_INT_H
#define TW_SD_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sd.h"

typedef struct sd_pos {
	uint32_t line, col; /* 1-based */
} sd_pos;

typedef struct sd_builder sd_builder;

/* Records the first error as "LINE:COL: text" and returns -EINVAL. */
int sd_fail(tw_sd_error *err, sd_pos at, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* What both parsers do first: clears *out and *err, and refuses a
 * document over TW_SD_MAX_SIZE octets (-EFBIG, with the error said). */
int sd_parse_begin(size_t len, tw_sd_doc **out, tw_sd_error *err);

/* "a string", "a number", ... for "found X" texts. */
extern const char *const sd_what_group;   /* expected text for a target group */
extern const char *const sd_what_list;    /* for the document */
extern const char *const sd_what_targets; /* for "targets" */
extern const char *const sd_what_target;  /* for one target */
extern const char *const sd_what_labels;  /* for "labels" */
extern const char *const sd_what_value;   /* for a label value */

sd_builder *sd_builder_new(tw_sd_error *err);
void sd_builder_free(sd_builder *b); /* NULL-safe; frees a document not taken */

int sd_group_begin(sd_builder *b, sd_pos at);
/* s is n octets of valid UTF-8 without NUL (the parsers check that). */
int sd_target(sd_builder *b, const char *s, size_t n, sd_pos at);
/* value NULL = a null value (same as ""). */
int sd_label(sd_builder *b, const char *name, size_t nn, const char *value, size_t vn, sd_pos at);
int sd_group_end(sd_builder *b);
/* Hands the document over (the builder keeps nothing). */
int sd_builder_finish(sd_builder *b, tw_sd_doc **out);

/* Checks n octets at s are well-formed UTF-8 (no overlongs, surrogates or
 * code points above U+10FFFF). Returns the offset of the first bad octet,
 * or n when all are good. */
size_t sd_utf8_check(const unsigned char *s, size_t n);

#endif /* TW_SD_INT_H */
