/* keystore.c - pfs key files and Secret directories (see keystore.h). */
#include "keystore.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto.h"
#include "text.h"

#define KS_FILE_MAX ((size_t)1 << 20) /* a pfs file; real ones are a few lines */
#define KS_DIR_MAX_ENTRIES 4096
#define KS_PERM_OTHERS ((mode_t)0007)
#define KS_SHOWN_MAX 96 /* a file name as printed in messages */

typedef struct ks_entry {
	char id[TW_KEYID_LEN + 1];
	size_t line;     /* pfs line, for duplicate reports; 0 in a directory */
	size_t off, len; /* the secret, inside the arena */
} ks_entry;

/* Whole pages for secret bytes: excluded from core dumps, and locked (out
 * of swap) when RLIMIT_MEMLOCK allows. */
typedef struct ks_secure {
	uint8_t *p;
	size_t cap;
} ks_secure;

struct tw_keystore {
	ks_entry *e; /* sorted by id once loading is done */
	size_t n, ecap;
	ks_secure arena; /* all secrets, back to back */
	size_t used;
};

typedef struct ks_err {
	char *buf;
	size_t cap;
} ks_err;

typedef enum id_check { ID_OK, ID_EMPTY, ID_TOO_LONG, ID_BAD_OCTET } id_check;

/* ---- errors: built from names, line numbers and constants only ---- */

__attribute__((format(printf, 3, 4))) static int fail(ks_err *er, int rc, const char *fmt, ...)
{
	if (er->cap) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(er->buf, er->cap, fmt, ap);
		va_end(ap);
	}
	return rc;
}

/* A file name fit for a message: non-printable octets become '?'. */
static const char *shown(const char *name, char out[KS_SHOWN_MAX])
{
	size_t i = 0;
	for (; name[i] && i < KS_SHOWN_MAX - 4; i++)
		out[i] = (name[i] > 0x20 && name[i] < 0x7f) ? name[i] : '?';
	if (name[i]) {
		memcpy(out + i, "...", 3);
		i += 3;
	}
	out[i] = '\0';
	return out;
}

/* ---- secure memory ---- */

static int secure_alloc(ks_secure *s, size_t want)
{
	long pg = sysconf(_SC_PAGESIZE);
	size_t page = pg > 0 ? (size_t)pg : 4096;
	if (want == 0 || want > SIZE_MAX - page)
		return -ENOMEM;
	size_t cap = (want + page - 1) / page * page;
	void *p = mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -ENOMEM;
	(void)madvise(p, cap, MADV_DONTDUMP);
	(void)mlock(p, cap); /* best effort: RLIMIT_MEMLOCK may forbid it */
	s->p = p;
	s->cap = cap;
	return 0;
}

static void secure_free(ks_secure *s)
{
	if (!s->p)
		return;
	tw_wipe(s->p, s->cap);
	(void)munlock(s->p, s->cap);
	(void)munmap(s->p, s->cap);
	s->p = NULL;
	s->cap = 0;
}

/* Makes room for need more secret octets. Growing moves the arena, which is
 * why entries store offsets and lookups hand out pointers only at the end. */
static int arena_reserve(tw_keystore *ks, size_t need)
{
	if (ks->arena.cap - ks->used >= need)
		return 0;
	size_t want = ks->used + need;
	if (want < ks->arena.cap * 2)
		want = ks->arena.cap * 2;
	ks_secure n = { 0 };
	int rc = secure_alloc(&n, want);
	if (rc)
		return rc;
	if (ks->used)
		memcpy(n.p, ks->arena.p, ks->used);
	secure_free(&ks->arena);
	ks->arena = n;
	return 0;
}

/* ---- identities ---- */

static id_check check_identity(const void *id, size_t n, size_t *bad)
{
	const uint8_t *s = id;
	if (n == 0)
		return ID_EMPTY;
	if (n > TW_KEYID_LEN)
		return ID_TOO_LONG;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < 0x21 || s[i] > 0x7e) {
			*bad = i;
			return ID_BAD_OCTET;
		}
	}
	return ID_OK;
}

/* Appends an entry for a secret already in the arena at off. */
static int push_entry(tw_keystore *ks, const void *id, size_t id_len, size_t line, size_t off, size_t len)
{
	if (ks->n == ks->ecap) {
		size_t ncap = ks->ecap ? ks->ecap * 2 : 16;
		ks_entry *ne = realloc(ks->e, ncap * sizeof(*ne));
		if (!ne)
			return -ENOMEM;
		ks->e = ne;
		ks->ecap = ncap;
	}
	ks_entry *e = &ks->e[ks->n++];
	memset(e, 0, sizeof(*e));
	memcpy(e->id, id, id_len);
	e->line = line;
	e->off = off;
	e->len = len;
	ks->used = off + len;
	return 0;
}

static int cmp_entry(const void *a, const void *b)
{
	const ks_entry *x = a, *y = b;
	int c = strcmp(x->id, y->id);
	if (c)
		return c;
	return (x->line > y->line) - (x->line < y->line);
}

static int cmp_key(const void *key, const void *elem)
{
	const ks_entry *e = elem;
	return strcmp(key, e->id);
}

/* Sorts for lookup, then rejects an empty store and duplicates. The
 * duplicate reported is the earliest repeated line, as a reader expects. */
static int finish(tw_keystore *ks, const char *name, bool dir, ks_err *er)
{
	if (ks->n == 0)
		return dir ? fail(er, -EINVAL, "%s: no key files (expected one file per identity holding its passphrase)", name)
			   : fail(er, -EINVAL, "%s: no keys (expected lines 'IDENTITY HEX-SECRET')", name);
	qsort(ks->e, ks->n, sizeof(*ks->e), cmp_entry);
	const ks_entry *dup = NULL, *first = NULL;
	size_t group = 0;
	for (size_t i = 1; i < ks->n; i++) {
		if (strcmp(ks->e[i].id, ks->e[i - 1].id) != 0) {
			group = i;
			continue;
		}
		if (!dup || ks->e[i].line < dup->line) {
			dup = &ks->e[i];
			first = &ks->e[group];
		}
	}
	if (dup)
		return fail(er, -EINVAL, "%s:%zu: duplicate identity '%s' (first defined on line %zu; each identity may appear once)",
			    name, dup->line, dup->id, first->line);
	return 0;
}

/* ---- pfs text ---- */

typedef struct ks_parse {
	tw_keystore *ks;
	const char *name;
	ks_err *er;
	size_t line;
} ks_parse;

static bool is_blank(uint8_t c)
{
	return c == ' ' || c == '\t';
}

static size_t skip_blank(const uint8_t *s, size_t n, size_t i)
{
	while (i < n && is_blank(s[i]))
		i++;
	return i;
}

static size_t token_end(const uint8_t *s, size_t n, size_t i)
{
	while (i < n && !is_blank(s[i]))
		i++;
	return i;
}

/* Validates the identity token starting at column col (0-based). */
static int line_identity(ks_parse *ps, const uint8_t *id, size_t n, size_t col)
{
	size_t bad = 0;
	switch (check_identity(id, n, &bad)) {
	case ID_OK:
		return 0;
	case ID_TOO_LONG:
		return fail(ps->er, -EINVAL, "%s:%zu: identity is %zu octets long (expected at most %d)", ps->name,
			    ps->line, n, TW_KEYID_LEN);
	default:
		return fail(ps->er, -EINVAL,
			    "%s:%zu: identity has a non-printable octet at column %zu (expected printable ASCII without spaces)",
			    ps->name, ps->line, col + bad + 1);
	}
}

/* Checks the hex token's shape; says nothing about its digits in errors. */
static int check_hex(ks_parse *ps, const uint8_t *hex, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (tw_text_hex_digit(hex[i]) < 0)
			return fail(ps->er, -EINVAL,
				    "%s:%zu: secret is not hexadecimal (expected the passphrase as hex digits 0-9, a-f)",
				    ps->name, ps->line);
	if (n % 2)
		return fail(ps->er, -EINVAL, "%s:%zu: secret has an odd number of hex digits (expected two per octet)",
			    ps->name, ps->line);
	if (n / 2 > TW_KEYSTORE_SECRET_MAX)
		return fail(ps->er, -EINVAL, "%s:%zu: secret is longer than %d octets", ps->name, ps->line,
			    TW_KEYSTORE_SECRET_MAX);
	return 0;
}

/* Decodes the secret straight into the arena and records the entry. */
static int add_hex_secret(ks_parse *ps, const uint8_t *id, size_t id_len, const uint8_t *hex, size_t n)
{
	int rc = check_hex(ps, hex, n);
	if (rc)
		return rc;
	size_t len = n / 2;
	if ((rc = arena_reserve(ps->ks, len)) != 0)
		return fail(ps->er, rc, "%s: out of memory", ps->name);
	uint8_t *dst = ps->ks->arena.p + ps->ks->used;
	for (size_t i = 0; i < len; i++)
		dst[i] = (uint8_t)(tw_text_hex_digit(hex[2 * i]) << 4 | tw_text_hex_digit(hex[2 * i + 1]));
	/* Any octet is unambiguous in hex: binary keys (TWAMP Light's AES and
	 * HMAC keys, STAMP's HMAC key) may contain CR or LF. */
	if ((rc = push_entry(ps->ks, id, id_len, ps->line, ps->ks->used, len)) != 0) {
		tw_wipe(dst, len);
		return fail(ps->er, rc, "%s: out of memory", ps->name);
	}
	return 0;
}

static int parse_line(ks_parse *ps, const uint8_t *s, size_t n)
{
	size_t i = skip_blank(s, n, 0);
	while (n > i && (is_blank(s[n - 1]) || s[n - 1] == '\r'))
		n--;
	if (i == n || s[i] == '#')
		return 0;
	size_t id_end = token_end(s, n, i);
	int rc = line_identity(ps, s + i, id_end - i, i);
	if (rc)
		return rc;
	size_t sec = skip_blank(s, n, id_end);
	if (sec == n)
		return fail(ps->er, -EINVAL, "%s:%zu: missing secret (expected 'IDENTITY HEX-SECRET')", ps->name,
			    ps->line);
	size_t sec_end = token_end(s, n, sec);
	if (sec_end != n)
		return fail(ps->er, -EINVAL,
			    "%s:%zu: unexpected text after the secret (expected 'IDENTITY HEX-SECRET'; comments take a line of their own, starting with '#')",
			    ps->name, ps->line);
	return add_hex_secret(ps, s + i, id_end - i, s + sec, sec_end - sec);
}

static int parse_lines(ks_parse *ps, const uint8_t *p, size_t len)
{
	size_t pos = 0;
	while (pos < len) {
		const uint8_t *nl = memchr(p + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - p) : len;
		ps->line++;
		int rc = parse_line(ps, p + pos, end - pos);
		if (rc)
			return rc;
		pos = end + 1;
	}
	return 0;
}

int tw_keystore_parse(const char *name, const void *buf, size_t len, tw_keystore **out, char *err, size_t errcap)
{
	ks_err er = { err, err ? errcap : 0 };
	fail(&er, 0, "%s", "");
	if (!name)
		name = "(buffer)";
	if (!out || (!buf && len))
		return fail(&er, -EINVAL, "%s: invalid arguments", name);
	*out = NULL;
	if (len > KS_FILE_MAX)
		return fail(&er, -EFBIG, "%s: larger than %zu octets (expected a short key file)", name, KS_FILE_MAX);
	tw_keystore *ks = calloc(1, sizeof(*ks));
	if (!ks)
		return fail(&er, -ENOMEM, "%s: out of memory", name);
	ks_parse ps = { ks, name, &er, 0 };
	int rc = parse_lines(&ps, buf, len);
	if (rc == 0)
		rc = finish(ks, name, false, &er);
	if (rc) {
		tw_keystore_free(ks);
		return rc;
	}
	*out = ks;
	return 0;
}

/* ---- files and directories ---- */

static int check_perm(const struct stat *st, const char *path, const char *entry, ks_err *er)
{
	if ((st->st_mode & KS_PERM_OTHERS) == 0)
		return 0;
	unsigned mode = (unsigned)(st->st_mode & 07777);
	if (!entry)
		return fail(er, -EPERM,
			    "%s: key file has mode %04o, readable or writable by other users; refusing it (fix: chmod 600 %s)",
			    path, mode, path);
	return fail(er, -EPERM,
		    "%s/%s: key file has mode %04o, readable or writable by other users; refusing it (fix: chmod 600 %s/%s; for a Kubernetes Secret volume set defaultMode: 0400 or 0440)",
		    path, entry, mode, path, entry);
}

/* Reads a regular file of at most max octets into secure memory;
 * -EFBIG when it holds more. */
static int read_secure(int fd, size_t max, ks_secure *buf, size_t *len)
{
	int rc = secure_alloc(buf, max + 1);
	if (rc)
		return rc;
	size_t n = 0;
	while (n <= max) {
		ssize_t got = read(fd, buf->p + n, max + 1 - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			rc = -errno;
			goto fail;
		}
		if (got == 0)
			break;
		n += (size_t)got;
	}
	if (n > max) {
		rc = -EFBIG;
		goto fail;
	}
	*len = n;
	return 0;
fail:
	secure_free(buf);
	return rc;
}

static int load_file(int fd, const struct stat *st, const char *path, tw_keystore **out, ks_err *er)
{
	int rc = check_perm(st, path, NULL, er);
	if (rc)
		return rc;
	if (st->st_size < 0 || (size_t)st->st_size > KS_FILE_MAX)
		return fail(er, -EFBIG, "%s: larger than %zu octets (expected a short key file)", path, KS_FILE_MAX);
	ks_secure buf = { 0 };
	size_t len = 0;
	rc = read_secure(fd, (size_t)st->st_size, &buf, &len);
	if (rc == -EFBIG)
		return fail(er, -EAGAIN, "%s: file grew while it was read (try again)", path);
	if (rc)
		return fail(er, rc, "%s: cannot read: %s", path, strerror(-rc));
	rc = tw_keystore_parse(path, buf.p, len, out, er->buf, er->cap);
	secure_free(&buf);
	return rc;
}

/* Validates a Secret-file passphrase (after the trailing '\n' is dropped). */
static int check_raw_secret(const uint8_t *p, size_t len, const char *path, const char *name, ks_err *er)
{
	if (len == 0)
		return fail(er, -EINVAL, "%s/%s: key file is empty (expected the passphrase)", path, name);
	if (len > TW_KEYSTORE_SECRET_MAX)
		return fail(er, -EINVAL, "%s/%s: passphrase is longer than %d octets", path, name,
			    TW_KEYSTORE_SECRET_MAX);
	if (memchr(p, '\r', len) || memchr(p, '\n', len))
		return fail(er, -EINVAL,
			    "%s/%s: passphrase contains CR or LF (not allowed in TWAMP; only one trailing newline is dropped)",
			    path, name);
	return 0;
}

/* Reads an open Secret file into the store under identity name. */
static int add_raw_secret(tw_keystore *ks, int fd, const char *path, const char *name, ks_err *er)
{
	ks_secure buf = { 0 };
	size_t len = 0;
	int rc = read_secure(fd, TW_KEYSTORE_SECRET_MAX + 1, &buf, &len);
	if (rc == -EFBIG)
		return fail(er, -EINVAL, "%s/%s: passphrase is longer than %d octets", path, name,
			    TW_KEYSTORE_SECRET_MAX);
	if (rc)
		return fail(er, rc, "%s/%s: cannot read: %s", path, name, strerror(-rc));
	if (len && buf.p[len - 1] == '\n')
		len--;
	rc = check_raw_secret(buf.p, len, path, name, er);
	if (rc == 0 && (rc = arena_reserve(ks, len)) != 0)
		fail(er, rc, "%s: out of memory", path);
	if (rc == 0) {
		memcpy(ks->arena.p + ks->used, buf.p, len);
		rc = push_entry(ks, name, strlen(name), 0, ks->used, len);
		if (rc) {
			tw_wipe(ks->arena.p + ks->used, len);
			fail(er, rc, "%s: out of memory", path);
		}
	}
	secure_free(&buf);
	return rc;
}

/* One directory entry: regular files are keys, anything else is skipped. */
static int load_entry(tw_keystore *ks, int dfd, const char *path, const char *name, ks_err *er)
{
	char nm[KS_SHOWN_MAX];
	int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0) {
		int e = errno;
		return fail(er, -e, "%s/%s: cannot open: %s", path, shown(name, nm), strerror(e));
	}
	struct stat st;
	int rc = 0;
	size_t bad = 0;
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		fail(er, rc, "%s/%s: cannot stat: %s", path, shown(name, nm), strerror(-rc));
	} else if (!S_ISREG(st.st_mode)) {
		rc = 0;
	} else if (check_identity(name, strlen(name), &bad) != ID_OK) {
		rc = fail(er, -EINVAL,
			  "%s/%s: file name is not a valid identity (expected 1-%d printable ASCII characters without spaces)",
			  path, shown(name, nm), TW_KEYID_LEN);
	} else if ((rc = check_perm(&st, path, name, er)) == 0) {
		rc = add_raw_secret(ks, fd, path, name, er);
	}
	close(fd);
	return rc;
}

static int cmp_name(const void *a, const void *b)
{
	char *const *x = a, *const *y = b;
	return strcmp(*x, *y);
}

static void free_names(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* The visible entry names of d, sorted so that errors are reproducible. */
static int list_names(DIR *d, const char *path, char ***out, size_t *count, ks_err *er)
{
	char **names = NULL;
	size_t n = 0;
	for (;;) {
		errno = 0;
		struct dirent *de = readdir(d);
		if (!de)
			break;
		if (de->d_name[0] == '.') /* ., .., ..data and Kubernetes' timestamped dirs */
			continue;
		if (n == KS_DIR_MAX_ENTRIES) {
			free_names(names, n);
			return fail(er, -EFBIG, "%s: more than %d entries (expected a few key files)", path,
				    KS_DIR_MAX_ENTRIES);
		}
		char **nn = realloc(names, (n + 1) * sizeof(*nn));
		char *dup = strdup(de->d_name);
		if (nn)
			names = nn;
		if (!nn || !dup) {
			free(dup);
			free_names(names, n);
			return fail(er, -ENOMEM, "%s: out of memory", path);
		}
		names[n++] = dup;
	}
	if (errno) {
		int e = errno;
		free_names(names, n);
		return fail(er, -e, "%s: cannot read directory: %s", path, strerror(e));
	}
	if (n > 1)
		qsort(names, n, sizeof(*names), cmp_name);
	*out = names;
	*count = n;
	return 0;
}

/* Takes ownership of fd. */
static int load_dir(int fd, const char *path, tw_keystore **out, ks_err *er)
{
	DIR *d = fdopendir(fd);
	if (!d) {
		int e = errno;
		close(fd);
		return fail(er, -e, "%s: cannot read directory: %s", path, strerror(e));
	}
	char **names = NULL;
	size_t n = 0;
	tw_keystore *ks = NULL;
	int rc = list_names(d, path, &names, &n, er);
	if (rc)
		goto done;
	if (!(ks = calloc(1, sizeof(*ks)))) {
		rc = fail(er, -ENOMEM, "%s: out of memory", path);
		goto done;
	}
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = load_entry(ks, dirfd(d), path, names[i], er);
	if (rc == 0)
		rc = finish(ks, path, true, er);
done:
	if (rc == 0)
		*out = ks;
	else
		tw_keystore_free(ks);
	free_names(names, n);
	closedir(d);
	return rc;
}

int tw_keystore_load(const char *path, tw_keystore **out, char *err, size_t errcap)
{
	ks_err er = { err, err ? errcap : 0 };
	fail(&er, 0, "%s", "");
	if (!path || !out)
		return fail(&er, -EINVAL, "key store: invalid arguments");
	*out = NULL;
	/* O_NONBLOCK: opening a FIFO must not hang; it is refused below. */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0) {
		int e = errno;
		return fail(&er, -e, "%s: cannot open key file: %s", path, strerror(e));
	}
	struct stat st;
	int rc;
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		fail(&er, rc, "%s: cannot stat: %s", path, strerror(-rc));
	} else if (S_ISDIR(st.st_mode)) {
		return load_dir(fd, path, out, &er);
	} else if (S_ISREG(st.st_mode)) {
		rc = load_file(fd, &st, path, out, &er);
	} else {
		rc = fail(&er, -EINVAL, "%s: not a regular file or a directory", path);
	}
	close(fd);
	return rc;
}

/* ---- queries ---- */

void tw_keystore_free(tw_keystore *ks)
{
	if (!ks)
		return;
	secure_free(&ks->arena);
	free(ks->e);
	free(ks);
}

size_t tw_keystore_count(const tw_keystore *ks)
{
	return ks ? ks->n : 0;
}

bool tw_keystore_lookup(const tw_keystore *ks, const char *identity, const uint8_t **secret, size_t *len)
{
	if (!ks || !identity || !secret || !len || ks->n == 0)
		return false;
	const ks_entry *e = bsearch(identity, ks->e, ks->n, sizeof(*ks->e), cmp_key);
	if (!e)
		return false;
	*secret = ks->arena.p + e->off;
	*len = e->len;
	return true;
}

bool tw_keystore_lookup_keyid(const tw_keystore *ks, const uint8_t keyid[TW_KEYID_LEN], const uint8_t **secret,
			      size_t *len)
{
	char id[TW_KEYID_LEN + 1];
	if (!keyid || tw_keystore_keyid_to_str(keyid, id) < 0)
		return false;
	return tw_keystore_lookup(ks, id, secret, len);
}

int tw_keystore_keyid_to_str(const uint8_t keyid[TW_KEYID_LEN], char out[TW_KEYID_LEN + 1])
{
	out[0] = '\0';
	const uint8_t *nul = memchr(keyid, 0, TW_KEYID_LEN);
	size_t n = nul ? (size_t)(nul - keyid) : TW_KEYID_LEN;
	size_t bad = 0;
	if (check_identity(keyid, n, &bad) != ID_OK)
		return -EINVAL;
	for (size_t i = n; i < TW_KEYID_LEN; i++)
		if (keyid[i])
			return -EINVAL;
	memcpy(out, keyid, n);
	out[n] = '\0';
	return (int)n;
}

int tw_keystore_str_to_keyid(const char *identity, uint8_t keyid[TW_KEYID_LEN])
{
	memset(keyid, 0, TW_KEYID_LEN);
	size_t bad = 0;
	if (!identity)
		return -EINVAL;
	size_t n = strnlen(identity, TW_KEYID_LEN + 1);
	if (check_identity(identity, n, &bad) != ID_OK)
		return -EINVAL;
	memcpy(keyid, identity, n);
	return 0;
}
