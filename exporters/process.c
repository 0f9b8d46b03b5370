/* process.c - process_* metrics from /proc/self (see process.h). */
#include "process.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#define STAT_FIELD_FIRST 3 /* fields are numbered from 1; "state" follows ')' */
#define F_UTIME 14
#define F_STIME 15
#define F_STARTTIME 22
#define F_VSIZE 23
#define F_RSS 24
#define READ_MAX 4096      /* /proc/self/stat is a few hundred bytes */
#define STAT_READ_MAX (1 << 20)

/* Parses the decimal digits at [p, end) without sign. */
static int parse_u64(const char *p, const char *end, uint64_t *out)
{
	uint64_t v = 0;
	if (p == end)
		return -EINVAL;
	for (; p < end; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		unsigned d = (unsigned)(*p - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -EINVAL;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

static int store_field(tw_proc_stat *st, int field, const char *p, const char *end)
{
	uint64_t *dst = field == F_UTIME ? &st->utime : field == F_STIME ? &st->stime
		: field == F_STARTTIME ? &st->starttime : field == F_VSIZE ? &st->vsize
		: field == F_RSS ? &st->rss : NULL;
	return dst ? parse_u64(p, end, dst) : 0;
}

int tw_process_parse_stat(const char *buf, size_t len, tw_proc_stat *out)
{
	const char *end = buf + len;
	const char *p = memrchr(buf, ')', len);
	if (!p)
		return -EINVAL;
	tw_proc_stat st = { 0 };
	int field = STAT_FIELD_FIRST;
	for (p++; p < end && field <= F_RSS;) {
		while (p < end && (*p == ' ' || *p == '\n'))
			p++;
		const char *tok = p;
		while (p < end && *p != ' ' && *p != '\n')
			p++;
		if (tok == p)
			break;
		if (store_field(&st, field++, tok, p) < 0)
			return -EINVAL;
	}
	if (field <= F_RSS)
		return -EINVAL;
	*out = st;
	return 0;
}

int tw_process_parse_btime(const char *buf, size_t len, uint64_t *out)
{
	static const char key[] = "btime ";
	const char *end = buf + len;
	for (const char *p = buf; p < end;) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		if (!eol)
			eol = end;
		if ((size_t)(eol - p) > sizeof(key) - 1 && memcmp(p, key, sizeof(key) - 1) == 0)
			return parse_u64(p + sizeof(key) - 1, eol, out);
		p = eol + 1;
	}
	return -EINVAL;
}

/* Reads up to cap - 1 bytes of a /proc file; returns the length or -errno. */
static ssize_t read_file(const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	size_t n = 0;
	ssize_t r = 0;
	while (n < cap - 1 && (r = read(fd, buf + n, cap - 1 - n)) > 0)
		n += (size_t)r;
	int e = errno;
	close(fd);
	return r < 0 ? -e : (ssize_t)n;
}

/* /proc/stat can be long (one intr counter per IRQ): scan it in pieces,
 * keeping any partial last line for the next read. */
static int read_btime(uint64_t *out)
{
	char buf[READ_MAX];
	int fd = open("/proc/stat", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	size_t have = 0, total = 0;
	int rc = -EINVAL;
	ssize_t r;
	while (rc < 0 && total < STAT_READ_MAX && (r = read(fd, buf + have, sizeof(buf) - have)) > 0) {
		have += (size_t)r;
		total += (size_t)r;
		const char *last = memrchr(buf, '\n', have);
		size_t whole = last ? (size_t)(last - buf) + 1 : have;
		rc = tw_process_parse_btime(buf, whole, out);
		memmove(buf, buf + whole, have - whole);
		have -= whole;
	}
	close(fd);
	return rc;
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	if (!d)
		return -errno;
	int n = 0, self = dirfd(d);
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		char *endp;
		long fd = strtol(e->d_name, &endp, 10);
		if (*endp == '\0' && fd != self)
			n++;
	}
	closedir(d);
	return n;
}

static int emit(tw_prom_collect *out, const char *name, const char *help, tw_metric_type t,
	double v)
{
	int rc = tw_prom_collect_family(out, name, help, t);
	return rc < 0 ? rc : tw_prom_collect_sample(out, NULL, NULL, 0, v);
}

static int emit_stat(tw_prom_collect *out)
{
	char buf[READ_MAX];
	tw_proc_stat st;
	ssize_t n = read_file("/proc/self/stat", buf, sizeof(buf));
	if (n <= 0 || tw_process_parse_stat(buf, (size_t)n, &st) < 0)
		return 0;
	double ticks = (double)sysconf(_SC_CLK_TCK);
	double page = (double)sysconf(_SC_PAGESIZE);
	uint64_t btime;
	int rc = emit(out, "process_cpu_seconds_total", "Total user and system CPU time spent in seconds.",
		TW_METRIC_COUNTER, (double)(st.utime + st.stime) / ticks);
	if (rc == 0)
		rc = emit(out, "process_resident_memory_bytes", "Resident memory size in bytes.",
			TW_METRIC_GAUGE, (double)st.rss * page);
	if (rc == 0)
		rc = emit(out, "process_virtual_memory_bytes", "Virtual memory size in bytes.",
			TW_METRIC_GAUGE, (double)st.vsize);
	if (rc == 0 && read_btime(&btime) == 0)
		rc = emit(out, "process_start_time_seconds",
			"Start time of the process since unix epoch in seconds.", TW_METRIC_GAUGE,
			(double)btime + (double)st.starttime / ticks);
	return rc;
}

int tw_process_collect(void *arg, tw_prom_collect *out)
{
	(void)arg;
	int rc = emit_stat(out);
	int fds = count_fds();
	if (rc == 0 && fds >= 0)
		rc = emit(out, "process_open_fds", "Number of open file descriptors.",
			TW_METRIC_GAUGE, fds);
	struct rlimit rl;
	if (rc == 0 && getrlimit(RLIMIT_NOFILE, &rl) == 0)
		rc = emit(out, "process_max_fds", "Maximum number of open file descriptors.",
			TW_METRIC_GAUGE,
			rl.rlim_cur == RLIM_INFINITY ? (double)INFINITY : (double)rl.rlim_cur);
	return rc;
}
