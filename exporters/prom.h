/*
 * prom.h - Prometheus text exposition format 0.0.4 for a tw_registry.
 *
 * Output: "# HELP" and "# TYPE" for every family (also for a family with no
 * series yet), families contiguous in registration order followed by the
 * collectors' families, samples without timestamps, every line ending in
 * "\n". Histograms: cumulative _bucket lines in increasing le (canonical
 * le text such as "0.001", "2.5e-05", "1.0"), le="+Inf" equal to _count,
 * then _sum and _count; nanosecond histograms are exposed in seconds with
 * an exact decimal _sum. Numbers never depend on the process locale.
 */
#ifndef TW_PROM_H
#define TW_PROM_H

#include <stddef.h>

#include "buf.h"
#include "registry.h"

#define TW_PROM_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* Appends the exposition of r to out (callers usually tw_buf_clear first
 * and reuse out between scrapes). Returns 0; -ENOBUFS when out's cap is
 * exceeded, -ENOMEM, or a collector's error (-EINVAL for a bad name, label
 * or call order). On error out holds a partial text to be discarded. */
int tw_prom_render(const tw_registry *r, tw_buf *out);

/* ---- for collectors (registry.h tw_collector_fn) ---- */

/* Starts a family; type is TW_METRIC_COUNTER or TW_METRIC_GAUGE. name must
 * be a valid metric name shorter than 256 bytes, help UTF-8. Returns 0 or a
 * negative errno (errors are sticky and fail the render). */
int tw_prom_collect_family(tw_prom_collect *c, const char *name, const char *help,
	tw_metric_type type);

/* Emits one sample of the current family with n labels (names valid, not
 * "__"-prefixed; values UTF-8, escaped here). Returns 0 or a negative
 * errno (sticky). */
int tw_prom_collect_sample(tw_prom_collect *c, const char *const *names,
	const char *const *values, size_t n, double v);

#endif /* TW_PROM_H */
