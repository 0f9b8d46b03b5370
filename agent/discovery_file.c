/*
 * discovery_file.c - the file_sd source: glob the configured patterns, read
 * and parse each file (JSON or YAML by extension), keep each file's last
 * good contents when it stops parsing, and re-read soon after anything
 * changes in a watched directory. Watching the directory, not the files,
 * is what sees a Kubernetes ConfigMap update: the kubelet writes a new
 * timestamped directory and renames the "..data" symlink over the old one,
 * so the files' own inodes never change (IN_MOVED_TO of "..data").
 */
#include "discovery_int.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "text.h"

#define DEBOUNCE_DEFAULT_NS (100 * INT64_C(1000000))
#define WATCH_MASK (IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_CLOSE_WRITE | IN_DELETE | \
		    IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)

typedef struct sd_file {
	char *path;
	tw_sd_doc *doc; /* the last good contents, or NULL */
} sd_file;

typedef struct watch {
	char *dir;
	int wd; /* -1 when not watched (yet, or any more) */
} watch;

typedef struct file_src {
	int ifd;
	tw_io io;
	tw_timer debounce;
	tw_timer rewatch; /* retries directories that do not exist yet */
	watch *w;
	size_t nw;
	sd_file *files; /* sorted by path */
	size_t nfiles;
} file_src;

/* ---- reading ---- */

static int read_file(const char *path, char **data, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	struct stat st;
	int rc = fstat(fd, &st) < 0 ? -errno : !S_ISREG(st.st_mode) ? -EINVAL :
		st.st_size > TW_SD_MAX_SIZE ? -EFBIG : 0;
	size_t cap = rc == 0 ? (size_t)st.st_size : 0, n = 0;
	char *buf = rc == 0 ? malloc(cap + 1) : NULL;
	if (rc == 0 && !buf)
		rc = -ENOMEM;
	while (rc == 0 && n < cap) {
		ssize_t r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			rc = -errno;
		if (r <= 0)
			break; /* shrank while reading: parse what is there */
		n += (size_t)r;
	}
	close(fd);
	if (rc < 0) {
		free(buf);
		return rc;
	}
	*data = buf;
	*len = n;
	return 0;
}

/* Parses path into *doc, or describes the failure in msg. */
static int load_file(const char *path, tw_sd_doc **doc, char *msg, size_t cap)
{
	char *data = NULL;
	size_t len = 0;
	int rc = read_file(path, &data, &len);
	if (rc < 0) {
		snprintf(msg, cap, "%s: %s", path, rc == -EINVAL ? "not a regular file" :
			 rc == -EFBIG ? "file too large" : strerror(-rc));
		return rc;
	}
	tw_sd_error err;
	rc = tw_sd_parse_named(path, data, len, doc, &err);
	free(data);
	if (rc < 0)
		snprintf(msg, cap, "%s:%s", path, rc == -ENOMEM ? " out of memory" : err.msg);
	return rc;
}

/* ---- matching ---- */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every path matching any pattern, sorted, without repeats. */
static int match_all(const tw_config_paths *pats, char ***out, size_t *nout)
{
	char **v = NULL;
	size_t n = 0;
	int rc = 0;
	for (size_t i = 0; i < pats->n && rc == 0; i++) {
		glob_t gl;
		int g = glob(pats->v[i], 0, NULL, &gl);
		if (g == GLOB_NOMATCH)
			continue;
		if (g != 0) {
			rc = g == GLOB_NOSPACE ? -ENOMEM : -EIO;
			break;
		}
		char **nv = realloc(v, (n + gl.gl_pathc + 1) * sizeof(*v));
		if (!nv) {
			globfree(&gl);
			rc = -ENOMEM;
			break;
		}
		v = nv;
		for (size_t j = 0; j < gl.gl_pathc && rc == 0; j++) {
			if (!(v[n] = strdup(gl.gl_pathv[j])))
				rc = -ENOMEM;
			else
				n++;
		}
		globfree(&gl);
	}
	if (n)
		qsort(v, n, sizeof(*v), cmp_str);
	size_t w = 0;
	for (size_t i = 0; i < n; i++) {
		if (w && strcmp(v[w - 1], v[i]) == 0)
			free(v[i]);
		else
			v[w++] = v[i];
	}
	*out = v;
	*nout = w;
	return rc;
}

static void files_free(sd_file *f, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(f[i].path);
		tw_sd_doc_free(f[i].doc);
	}
	free(f);
}

/* The old entry for path (moved out of old), or NULL. */
static tw_sd_doc *take_old(file_src *s, const char *path)
{
	for (size_t i = 0; i < s->nfiles; i++) {
		if (strcmp(s->files[i].path, path) == 0) {
			tw_sd_doc *d = s->files[i].doc;
			s->files[i].doc = NULL;
			return d;
		}
	}
	return NULL;
}

/* ---- watching ---- */

#define REWATCH_NS (2 * INT64_C(1000000000))

/* Watches every directory that exists; returns how many are watched. A
 * directory that does not exist yet (a ConfigMap mounted later, a path
 * created after start-up) is retried every REWATCH_NS. */
static size_t add_watches(tw_discovery *d, file_src *s)
{
	size_t watched = 0;
	for (size_t i = 0; i < s->nw; i++) {
		if (s->w[i].wd < 0)
			s->w[i].wd = inotify_add_watch(s->ifd, s->w[i].dir, WATCH_MASK);
		if (s->w[i].wd >= 0)
			watched++;
		else
			tw_debug("cannot watch directory yet", "group=%s dir=%s error=%d", disc_group_name(d),
				 s->w[i].dir, errno);
	}
	if (watched < s->nw && !tw_timer_armed(&s->rewatch))
		tw_timer_in(d->loop, &s->rewatch, REWATCH_NS);
	return watched;
}

static void file_refresh(tw_discovery *d);

static void on_rewatch(void *arg)
{
	tw_discovery *d = arg;
	file_src *s = d->src;
	size_t before = 0;
	for (size_t i = 0; i < s->nw; i++)
		before += s->w[i].wd >= 0;
	if (add_watches(d, s) > before)
		file_refresh(d); /* a directory appeared: read what it holds */
}

/* ---- refresh ---- */

static void report(tw_discovery *d, file_src *s, sd_file *next, size_t n, const char *first, size_t nerr)
{
	disc_cands c = { 0 };
	for (size_t i = 0; i < n; i++)
		if (next[i].doc)
			disc_cands_add_doc(&c, next[i].doc);
	files_free(s->files, s->nfiles);
	s->files = next;
	s->nfiles = n;
	char msg[600];
	if (nerr > 1)
		snprintf(msg, sizeof(msg), "%s (and %zu more files)", first, nerr - 1);
	else
		snprintf(msg, sizeof(msg), "%s", first);
	disc_result(d, &c, nerr ? msg : NULL);
}

static void file_refresh(tw_discovery *d)
{
	file_src *s = d->src;
	char **paths = NULL, first[512] = "";
	size_t n = 0, nerr = 0;
	tw_timer_stop(d->loop, &s->debounce);
	add_watches(d, s);
	int rc = match_all(&d->g->discovery->files, &paths, &n);
	sd_file *next = calloc(n ? n : 1, sizeof(*next));
	if (rc < 0 || !next) {
		for (size_t i = 0; i < n; i++)
			free(paths[i]);
		free(paths);
		free(next);
		disc_result(d, NULL, rc == -EIO ? "cannot read a directory of the patterns" : "out of memory");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		char msg[512];
		next[i].path = paths[i];
		if (load_file(paths[i], &next[i].doc, msg, sizeof(msg)) == 0) {
			tw_sd_doc_free(take_old(s, paths[i]));
			continue;
		}
		next[i].doc = take_old(s, paths[i]); /* the last good contents */
		if (nerr++ == 0)
			snprintf(first, sizeof(first), "%s", msg);
	}
	free(paths);
	report(d, s, next, n, first, nerr);
}

static void on_debounce(void *arg)
{
	file_refresh(arg);
}

static void on_inotify(void *arg, uint32_t events)
{
	tw_discovery *d = arg;
	file_src *s = d->src;
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	(void)events;
	for (;;) {
		ssize_t r = read(s->ifd, buf, sizeof(buf));
		if (r <= 0)
			break;
		for (size_t off = 0; off + sizeof(struct inotify_event) <= (size_t)r;) {
			struct inotify_event ev;
			memcpy(&ev, buf + off, sizeof(ev));
			for (size_t i = 0; (ev.mask & IN_IGNORED) && i < s->nw; i++)
				if (s->w[i].wd == ev.wd)
					s->w[i].wd = -1; /* the directory went away: re-add later */
			off += sizeof(ev) + ev.len;
		}
	}
	if (!tw_timer_armed(&s->debounce)) {
		int64_t wait = d->opts.file_debounce_ns > 0 ? d->opts.file_debounce_ns : DEBOUNCE_DEFAULT_NS;
		tw_timer_in(d->loop, &s->debounce, wait);
	}
}

/* ---- life cycle ---- */

static int add_dir(file_src *s, const char *pattern)
{
	char *dir = tw_text_dirname(pattern);
	if (!dir)
		return -ENOMEM;
	for (size_t i = 0; i < s->nw; i++) {
		if (strcmp(s->w[i].dir, dir) == 0) {
			free(dir);
			return 0;
		}
	}
	s->w[s->nw++] = (watch){ dir, -1 };
	return 0;
}

static void file_fini(tw_discovery *d)
{
	file_src *s = d->src;
	if (!s)
		return;
	tw_timer_stop(d->loop, &s->debounce);
	tw_timer_stop(d->loop, &s->rewatch);
	tw_io_del(d->loop, &s->io);
	if (s->ifd >= 0)
		close(s->ifd);
	for (size_t i = 0; i < s->nw; i++)
		free(s->w[i].dir);
	free(s->w);
	files_free(s->files, s->nfiles);
	free(s);
	d->src = NULL;
}

static int file_init(tw_discovery *d)
{
	const tw_config_paths *pats = &d->g->discovery->files;
	file_src *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	d->src = s;
	tw_io_init(&s->io);
	tw_timer_init(&s->debounce, on_debounce, d);
	tw_timer_init(&s->rewatch, on_rewatch, d);
	s->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	s->w = calloc(pats->n ? pats->n : 1, sizeof(*s->w));
	if (s->ifd < 0 || !s->w) {
		int rc = s->ifd < 0 ? -errno : -ENOMEM;
		file_fini(d);
		return rc;
	}
	int rc = 0;
	for (size_t i = 0; i < pats->n && rc == 0; i++)
		rc = add_dir(s, pats->v[i]);
	if (rc == 0)
		rc = tw_io_add(d->loop, &s->io, s->ifd, EPOLLIN, on_inotify, d);
	if (rc < 0)
		file_fini(d);
	else
		add_watches(d, s);
	return rc;
}

const disc_ops disc_file_ops = { file_init, file_refresh, file_fini };
