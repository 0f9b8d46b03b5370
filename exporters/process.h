/*
 * process.h - the standard process_* metrics, read from /proc/self at
 * scrape time by a registry collector:
 *
 *   process_cpu_seconds_total (counter), process_resident_memory_bytes,
 *   process_virtual_memory_bytes, process_start_time_seconds,
 *   process_open_fds, process_max_fds (gauges)
 *
 * Register with tw_registry_add_collector(r, tw_process_collect, NULL).
 */
#ifndef TW_PROCESS_H
#define TW_PROCESS_H

#include <stddef.h>
#include <stdint.h>

#include "prom.h"

typedef struct tw_proc_stat {
	uint64_t utime;     /* clock ticks in user mode */
	uint64_t stime;     /* clock ticks in kernel mode */
	uint64_t starttime; /* clock ticks after boot */
	uint64_t vsize;     /* bytes */
	uint64_t rss;       /* pages */
} tw_proc_stat;

/* Parses the text of /proc/<pid>/stat (buf need not be NUL-terminated; the
 * command name may hold spaces and parentheses). Returns 0 or -EINVAL. */
int tw_process_parse_stat(const char *buf, size_t len, tw_proc_stat *out);

/* Finds the "btime <seconds>" line in the text of /proc/stat. Returns 0
 * or -EINVAL. */
int tw_process_parse_btime(const char *buf, size_t len, uint64_t *out);

/* tw_collector_fn emitting the six families (arg unused). Families whose
 * source cannot be read are left out. Returns 0 or the output's error. */
int tw_process_collect(void *arg, tw_prom_collect *out);

#endif /* TW_PROCESS_H */
