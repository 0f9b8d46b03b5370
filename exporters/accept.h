/*
 * accept.h - Accept-Encoding negotiation (RFC 9110 section 12.5.3).
 *
 * The header is untrusted input: a comma-separated list of codings, each
 * with optional parameters, of which only q matters ("gzip;q=0.5",
 * "*;q=0", "identity"). Malformed elements are skipped; parsing never
 * reads past the terminating NUL and allocates nothing.
 */
#ifndef TW_ACCEPT_H
#define TW_ACCEPT_H

#include <stdbool.h>

/* The q-value, in thousandths (0..1000), that header gives coding (case
 * insensitive): the highest among elements naming it, else that of "*",
 * else -1 when neither is listed. */
int tw_accept_qvalue(const char *header, const char *coding);

/* Whether to gzip: gzip (or x-gzip, or "*") is acceptable with q > 0 and
 * identity is not explicitly preferred by a higher q. NULL header: false. */
bool tw_accept_gzip(const char *header);

#endif /* TW_ACCEPT_H */
