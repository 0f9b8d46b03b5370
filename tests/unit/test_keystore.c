/*
 * test_keystore.c - pfs key files, Kubernetes-style Secret directories,
 * permission refusal, error texts (exact, and free of secret bytes), KeyID
 * field conversion and lookup.
 *
 * Key files are created in a fresh temporary directory by each test (git
 * does not keep file modes such as 0600, so committed fixtures would be
 * refused by the permission check).
 */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "crypto.h"
#include "keystore.h"
#include "pcap.h"
#include "testutil.h"

#define CAP_LINE "testuser 7477616d702d696e7465726f702d736563726574"
#define CAP_SECRET "twamp-interop-secret"

/* ---- temporary files ---- */

typedef struct tmpdir {
	char path[64];
} tmpdir;

static int setup_tmp(void **state)
{
	tmpdir *t = calloc(1, sizeof(*t));
	if (!t)
		return -1;
	snprintf(t->path, sizeof(t->path), "/tmp/tw-keystore-XXXXXX");
	if (!mkdtemp(t->path)) {
		free(t);
		return -1;
	}
	*state = t;
	return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int teardown_tmp(void **state)
{
	tmpdir *t = *state;
	int rc = nftw(t->path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(t);
	return rc;
}

/* Writes dir/name with exactly mode (fchmod: the umask does not apply). */
static void write_file(const char *dir, const char *name, const void *data, size_t len, mode_t mode, char *path,
		       size_t cap)
{
	snprintf(path, cap, "%s/%s", dir, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static void write_str(const char *dir, const char *name, const char *text, mode_t mode, char *path, size_t cap)
{
	write_file(dir, name, text, strlen(text), mode, path, cap);
}

static void assert_secret(const tw_keystore *ks, const char *id, const char *want)
{
	const uint8_t *s = NULL;
	size_t len = 0;
	assert_true(tw_keystore_lookup(ks, id, &s, &len));
	assert_int_equal(len, strlen(want));
	assert_memory_equal(s, want, len);
}

static tw_keystore *parse_ok(const char *text)
{
	tw_keystore *ks = NULL;
	char err[TW_KEYSTORE_ERR_LEN];
	int rc = tw_keystore_parse("keys.pfs", text, strlen(text), &ks, err, sizeof(err));
	if (rc != 0)
		print_error("unexpected error: %s\n", err);
	assert_int_equal(rc, 0);
	assert_string_equal(err, "");
	assert_non_null(ks);
	return ks;
}

/* ---- pfs content ---- */

static void test_pfs_capture_line(void **state)
{
	(void)state;
	tw_keystore *ks = parse_ok(CAP_LINE "\n");
	assert_int_equal(tw_keystore_count(ks), 1);
	assert_secret(ks, "testuser", CAP_SECRET);

	/* The passphrase feeds the KDF: K of the authenticated capture. */
	const uint8_t *s;
	size_t len;
	assert_true(tw_keystore_lookup(ks, "testuser", &s, &len));
	uint8_t salt[16], dk[16], want[16];
	assert_int_equal(tw_hex_decode("301477bc1c354f33eddef084089ff0b5", salt, 16), 16);
	assert_int_equal(tw_hex_decode("65db54d87ceba1abc163f40b3041a452", want, 16), 16);
	assert_int_equal(tw_kdf(s, len, salt, 2048, dk), 0);
	assert_memory_equal(dk, want, 16);
	tw_keystore_free(ks);
}

/* Hex secrets are binary-safe: CR, LF and NUL octets survive (raw TWAMP
 * Light / STAMP keys). */
static void test_pfs_binary_secret(void **state)
{
	(void)state;
	tw_keystore *ks = parse_ok("light 0a0d00ff0a\n");
	const uint8_t *s;
	size_t len;
	assert_true(tw_keystore_lookup(ks, "light", &s, &len));
	static const uint8_t want[] = { 0x0a, 0x0d, 0x00, 0xff, 0x0a };
	assert_int_equal(len, sizeof(want));
	assert_memory_equal(s, want, sizeof(want));
	tw_keystore_free(ks);
}

static void test_pfs_layout_tolerance(void **state)
{
	(void)state;
	static const char text[] = "# twamp-server.pfs\n"
				   "\n"
				   "   # indented comment\n"
				   "alice 736563726574\n"
				   "  bob\t\t50415353574F5244   \n" /* tabs, upper-case hex, trailing blanks */
				   "carol 6869\r\n"                 /* CRLF */
				   " \t \r\n"
				   "#dave 6869\n"
				   "x!~ 00ff"; /* last line without newline; punctuation identity */
	tw_keystore *ks = parse_ok(text);
	assert_int_equal(tw_keystore_count(ks), 4);
	assert_secret(ks, "alice", "secret");
	assert_secret(ks, "bob", "PASSWORD");
	assert_secret(ks, "carol", "hi");
	const uint8_t *s = NULL;
	size_t len = 0;
	assert_true(tw_keystore_lookup(ks, "x!~", &s, &len)); /* a NUL is just an octet of the passphrase */
	assert_int_equal(len, 2);
	assert_memory_equal(s, "\x00\xff", 2);
	s = (const uint8_t *)"untouched";
	len = 99;
	assert_false(tw_keystore_lookup(ks, "dave", &s, &len));
	assert_false(tw_keystore_lookup(ks, "#dave", &s, &len));
	assert_false(tw_keystore_lookup(ks, "Alice", &s, &len)); /* identities are case-sensitive */
	assert_false(tw_keystore_lookup(ks, "", &s, &len));
	assert_int_equal(len, 99);
	tw_keystore_free(ks);
}

typedef struct bad_case {
	const char *text;
	size_t len; /* 0: strlen(text) */
	const char *err;
} bad_case;

static void expect_parse_error(const char *text, size_t len, const char *want)
{
	tw_keystore *ks = (tw_keystore *)(uintptr_t)1;
	char err[TW_KEYSTORE_ERR_LEN];
	int rc = tw_keystore_parse("keys.pfs", text, len, &ks, err, sizeof(err));
	assert_int_equal(rc, -EINVAL);
	assert_null(ks);
	assert_string_equal(err, want);
}

static void test_pfs_malformed_lines(void **state)
{
	(void)state;
	static char long_id[128], long_secret[2 * (TW_KEYSTORE_SECRET_MAX + 1) + 16];
	memset(long_id, 'k', 81);
	memcpy(long_id + 81, " 61\n", 5);
	memcpy(long_secret, "a ", 2);
	memset(long_secret + 2, 'b', 2 * (TW_KEYSTORE_SECRET_MAX + 1));
	const bad_case cases[] = {
		{ "alice\n", 0, "keys.pfs:1: missing secret (expected 'IDENTITY HEX-SECRET')" },
		{ "# c\n\nalice   \t\n", 0, "keys.pfs:3: missing secret (expected 'IDENTITY HEX-SECRET')" },
		{ "alice 616\n", 0, "keys.pfs:1: secret has an odd number of hex digits (expected two per octet)" },
		{ "alice 61zz\n", 0,
		  "keys.pfs:1: secret is not hexadecimal (expected the passphrase as hex digits 0-9, a-f)" },
		{ "alice 0x61\n", 0,
		  "keys.pfs:1: secret is not hexadecimal (expected the passphrase as hex digits 0-9, a-f)" },
		{ "alice 6162 6364\n", 0,
		  "keys.pfs:1: unexpected text after the secret (expected 'IDENTITY HEX-SECRET'; comments take a line of their own, starting with '#')" },
		{ "alice 6162 # note\n", 0,
		  "keys.pfs:1: unexpected text after the secret (expected 'IDENTITY HEX-SECRET'; comments take a line of their own, starting with '#')" },
		{ long_id, 0, "keys.pfs:1: identity is 81 octets long (expected at most 80)" },
		{ "  al\x01ice 6162\n", 0,
		  "keys.pfs:1: identity has a non-printable octet at column 5 (expected printable ASCII without spaces)" },
		{ "a\0b 6162\n", 9,
		  "keys.pfs:1: identity has a non-printable octet at column 2 (expected printable ASCII without spaces)" },
		{ "\xc3\xa9t\xc3\xa9 6162\n", 0,
		  "keys.pfs:1: identity has a non-printable octet at column 1 (expected printable ASCII without spaces)" },
		{ long_secret, 0, "keys.pfs:1: secret is longer than 1024 octets" },
		{ "", 0, "keys.pfs: no keys (expected lines 'IDENTITY HEX-SECRET')" },
		{ "# nothing here\n\n   \n", 0, "keys.pfs: no keys (expected lines 'IDENTITY HEX-SECRET')" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = cases[i].len ? cases[i].len : strlen(cases[i].text);
		expect_parse_error(cases[i].text, len, cases[i].err);
	}
	/* exactly the limits is fine */
	long_id[80] = ' ';
	tw_keystore *ks = parse_ok(long_id + 0);
	tw_keystore_free(ks);
	long_secret[2 + 2 * TW_KEYSTORE_SECRET_MAX] = '\0';
	ks = parse_ok(long_secret);
	const uint8_t *s;
	size_t len;
	assert_true(tw_keystore_lookup(ks, "a", &s, &len));
	assert_int_equal(len, TW_KEYSTORE_SECRET_MAX);
	assert_int_equal(s[0], 0xbb);
	tw_keystore_free(ks);
}

static void test_pfs_duplicate(void **state)
{
	(void)state;
	static const char text[] = "alice 61\nbob 62\n\nalice 63\nbob 64\nalice 65\n";
	expect_parse_error(text, strlen(text),
			   "keys.pfs:4: duplicate identity 'alice' (first defined on line 1; each identity may appear once)");
	static const char text2[] = "zed 61\nbob 62\nzed 63\nbob 64\n";
	expect_parse_error(text2, strlen(text2),
			   "keys.pfs:3: duplicate identity 'zed' (first defined on line 1; each identity may appear once)");
}

/* No 4-octet window of a secret may appear in an error message. */
static void assert_no_part_of(const char *err, const char *secret)
{
	size_t n = strlen(secret);
	for (size_t i = 0; i + 4 <= n; i++) {
		char win[5];
		memcpy(win, secret + i, 4);
		win[4] = '\0';
		if (strstr(err, win)) {
			print_error("error \"%s\" contains \"%s\" of the secret\n", err, win);
			fail();
		}
	}
}

static void test_secrets_absent_from_errors(void **state)
{
	(void)state;
	/* Each line is malformed because of (or around) its secret. */
	static const struct {
		const char *line, *secret;
	} cases[] = {
		{ "alice Zq9xWv7Kp3Hm\n", "Zq9xWv7Kp3Hm" },                                 /* raw passphrase */
		{ "alice 7477616d702d696e7465726f702d736563726g\n", "7477616d702d696e7465726f702d736563726g" },
		{ "alice 747761G6d702d696e746572\n", "747761G6d702d696e746572" },           /* one bad digit */
		{ "alice 747761d0a702d69\n", "747761d0a702d69" },                           /* odd length */
		{ "alice 74776d70 Zq9xWv7Kp3Hm\n", "Zq9xWv7Kp3Hm" },                        /* trailing text */
		{ "7477616d702d696e7465726f702d736563726574\n", "7477616d702d696e7465726f702d736563726574" },
		{ "Zq9xWv7Kp3HmZq9xWv7Kp3HmZq9xWv7Kp3HmZq9xWv7Kp3HmZq9xWv7Kp3HmZq9xWv7Kp3HmZq9xWv7Kp3Hm 61\n",
		  "Zq9xWv7Kp3Hm" }, /* a pasted secret taken for an over-long identity */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		tw_keystore *ks = NULL;
		char err[TW_KEYSTORE_ERR_LEN];
		int rc = tw_keystore_parse("keys.pfs", cases[i].line, strlen(cases[i].line), &ks, err, sizeof(err));
		assert_int_equal(rc, -EINVAL);
		assert_true(strlen(err) > 10);
		assert_no_part_of(err, cases[i].secret);
	}
}

static void test_error_buffer_edges(void **state)
{
	(void)state;
	tw_keystore *ks = NULL;
	char err[12];
	memset(err, 'x', sizeof(err));
	assert_int_equal(tw_keystore_parse("keys.pfs", "alice\n", 6, &ks, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "keys.pfs:1:");
	assert_int_equal(tw_keystore_parse("keys.pfs", "alice\n", 6, &ks, NULL, 0), -EINVAL);
	assert_int_equal(tw_keystore_parse(NULL, "alice 61", 8, &ks, NULL, 100), 0); /* NULL err ignored */
	tw_keystore_free(ks);
	assert_int_equal(tw_keystore_parse("keys.pfs", NULL, 4, &ks, NULL, 0), -EINVAL);
	assert_int_equal(tw_keystore_parse("keys.pfs", "a 61", 4, NULL, NULL, 0), -EINVAL);
}

static void test_many_keys(void **state)
{
	(void)state;
	/* Enough secret bytes to move the arena several times while loading. */
	enum { N = 300 };
	static char text[N * 80];
	size_t off = 0;
	for (int i = 0; i < N; i++)
		off += (size_t)snprintf(text + off, sizeof(text) - off,
					"id%03d 00112233445566778899aabbccddeeff%02x%02x00112233445566778899aabbccdd\n",
					i, 0x20 + i % 200, 0x20 + i / 200);
	tw_keystore *ks = parse_ok(text);
	assert_int_equal(tw_keystore_count(ks), N);
	for (int i = 0; i < N; i++) {
		char id[16];
		snprintf(id, sizeof(id), "id%03d", i);
		const uint8_t *s;
		size_t len;
		assert_true(tw_keystore_lookup(ks, id, &s, &len));
		assert_int_equal(len, 32);
		assert_int_equal(s[0], 0x00);
		assert_int_equal(s[16], 0x20 + i % 200);
		assert_int_equal(s[17], 0x20 + i / 200);
		assert_int_equal(s[31], 0xdd);
	}
	tw_keystore_free(ks);
}

/* ---- files ---- */

static void test_file_load_and_permissions(void **state)
{
	tmpdir *t = *state;
	char path[256], err[TW_KEYSTORE_ERR_LEN], want[1024];
	static const struct {
		mode_t mode;
		bool ok;
	} modes[] = {
		{ 0600, true }, { 0400, true }, { 0640, true }, { 0660, true },
		{ 0644, false }, { 0604, false }, { 0602, false }, { 0601, false }, { 0666, false },
	};
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		write_str(t->path, "twamp-server.pfs", "# perfSONAR key file\n" CAP_LINE "\n", modes[i].mode, path,
			  sizeof(path));
		tw_keystore *ks = NULL;
		int rc = tw_keystore_load(path, &ks, err, sizeof(err));
		if (modes[i].ok) {
			assert_int_equal(rc, 0);
			assert_secret(ks, "testuser", CAP_SECRET);
			tw_keystore_free(ks);
			continue;
		}
		assert_int_equal(rc, -EPERM);
		assert_null(ks);
		snprintf(want, sizeof(want),
			 "%s: key file has mode %04o, readable or writable by other users; refusing it (fix: chmod 600 %s)",
			 path, (unsigned)modes[i].mode, path);
		assert_string_equal(err, want);
		assert_no_part_of(err, "7477616d702d696e7465726f702d736563726574");
		unlink(path);
	}
}

static void test_file_errors(void **state)
{
	tmpdir *t = *state;
	char path[256], err[TW_KEYSTORE_ERR_LEN], want[1024];
	tw_keystore *ks = NULL;

	snprintf(path, sizeof(path), "%s/missing.pfs", t->path);
	assert_int_equal(tw_keystore_load(path, &ks, err, sizeof(err)), -ENOENT);
	snprintf(want, sizeof(want), "%s: cannot open key file: No such file or directory", path);
	assert_string_equal(err, want);

	/* A parse error in a file names the file and the line. */
	write_str(t->path, "bad.pfs", "alice 6162\nbob 123\n", 0600, path, sizeof(path));
	assert_int_equal(tw_keystore_load(path, &ks, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want), "%s:2: secret has an odd number of hex digits (expected two per octet)", path);
	assert_string_equal(err, want);

	snprintf(path, sizeof(path), "%s/fifo", t->path);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(tw_keystore_load(path, &ks, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want), "%s: not a regular file or a directory", path);
	assert_string_equal(err, want);

	/* Over 1 MiB (sparse, so the test stays cheap). */
	write_str(t->path, "huge.pfs", "", 0600, path, sizeof(path));
	assert_int_equal(truncate(path, (1 << 20) + 1), 0);
	assert_int_equal(tw_keystore_load(path, &ks, err, sizeof(err)), -EFBIG);
	snprintf(want, sizeof(want), "%s: larger than 1048576 octets (expected a short key file)", path);
	assert_string_equal(err, want);
	assert_null(ks);

	assert_int_equal(tw_keystore_load(NULL, &ks, err, sizeof(err)), -EINVAL);
	assert_int_equal(tw_keystore_load(path, NULL, NULL, 0), -EINVAL);
}

/* ---- directories (Kubernetes Secret volumes) ---- */

/* Lays out dir like the kubelet does: the files live in a timestamped dot
 * directory, "..data" links to it, and each key is a symlink through
 * "..data". Returns the timestamped directory's path in data. */
static void make_secret_dir(const char *dir, char *data, size_t cap)
{
	assert_int_equal(mkdir(dir, 0755), 0);
	snprintf(data, cap, "%s/..2026_11_22_19_05_52.1234567", dir);
	assert_int_equal(mkdir(data, 0755), 0);
	char link[512];
	snprintf(link, sizeof(link), "%s/..data", dir);
	assert_int_equal(symlink("..2026_11_22_19_05_52.1234567", link), 0);
}

static void add_secret_key(const char *dir, const char *data, const char *name, const void *content, size_t len,
			   mode_t mode)
{
	char path[512], link[512], target[512];
	write_file(data, name, content, len, mode, path, sizeof(path));
	snprintf(link, sizeof(link), "%s/%s", dir, name);
	snprintf(target, sizeof(target), "..data/%s", name);
	assert_int_equal(symlink(target, link), 0);
}

static void test_dir_kubernetes_layout(void **state)
{
	tmpdir *t = *state;
	char dir[256], data[512], path[512], err[TW_KEYSTORE_ERR_LEN];
	snprintf(dir, sizeof(dir), "%s/secret", t->path);
	make_secret_dir(dir, data, sizeof(data));
	add_secret_key(dir, data, "testuser", CAP_SECRET "\n", strlen(CAP_SECRET) + 1, 0440);
	add_secret_key(dir, data, "alice", "secret", 6, 0400); /* no trailing newline */
	add_secret_key(dir, data, "bin", "\x00\x01\x02", 3, 0400);
	/* Skipped: a dot file (even world-readable), a subdirectory. */
	write_str(dir, ".hidden", "not a key", 0644, path, sizeof(path));
	snprintf(path, sizeof(path), "%s/subdir", dir);
	assert_int_equal(mkdir(path, 0755), 0);

	tw_keystore *ks = NULL;
	int rc = tw_keystore_load(dir, &ks, err, sizeof(err));
	if (rc)
		print_error("%s\n", err);
	assert_int_equal(rc, 0);
	assert_int_equal(tw_keystore_count(ks), 3);
	assert_secret(ks, "testuser", CAP_SECRET);
	assert_secret(ks, "alice", "secret");
	const uint8_t *s;
	size_t len;
	assert_true(tw_keystore_lookup(ks, "bin", &s, &len));
	assert_int_equal(len, 3);
	assert_memory_equal(s, "\x00\x01\x02", 3);
	assert_false(tw_keystore_lookup(ks, ".hidden", &s, &len));
	assert_false(tw_keystore_lookup(ks, "..data", &s, &len));
	assert_false(tw_keystore_lookup(ks, "subdir", &s, &len));
	tw_keystore_free(ks);
}

/* A one-key Secret directory holding content under name with mode. */
static int load_one_key_dir(tmpdir *t, const char *sub, const char *name, const void *content, size_t clen,
			    mode_t mode, char *dir, size_t dcap, char *err)
{
	char data[512];
	snprintf(dir, dcap, "%s/%s", t->path, sub);
	make_secret_dir(dir, data, sizeof(data));
	add_secret_key(dir, data, name, content, clen, mode);
	tw_keystore *ks = (tw_keystore *)(uintptr_t)1;
	int rc = tw_keystore_load(dir, &ks, err, TW_KEYSTORE_ERR_LEN);
	if (rc == 0)
		tw_keystore_free(ks);
	else
		assert_null(ks);
	return rc;
}

static void test_dir_refusals(void **state)
{
	tmpdir *t = *state;
	char dir[256], err[TW_KEYSTORE_ERR_LEN], want[1024];

	/* Kubernetes' default 0644 is refused, with both fixes named. */
	assert_int_equal(load_one_key_dir(t, "d1", "alice", "Zq9xWv7Kp3Hm\n", 13, 0644, dir, sizeof(dir), err), -EPERM);
	snprintf(want, sizeof(want),
		 "%s/alice: key file has mode 0644, readable or writable by other users; refusing it (fix: chmod 600 %s/alice; for a Kubernetes Secret volume set defaultMode: 0400 or 0440)",
		 dir, dir);
	assert_string_equal(err, want);

	assert_int_equal(load_one_key_dir(t, "d2", "alice", "Zq9x\r\n", 6, 0400, dir, sizeof(dir), err), -EINVAL);
	snprintf(want, sizeof(want),
		 "%s/alice: passphrase contains CR or LF (not allowed in TWAMP; only one trailing newline is dropped)", dir);
	assert_string_equal(err, want);
	assert_no_part_of(err, "Zq9x");

	assert_int_equal(load_one_key_dir(t, "d3", "alice", "Zq9xWv7K\n\n", 10, 0400, dir, sizeof(dir), err), -EINVAL);
	snprintf(want, sizeof(want),
		 "%s/alice: passphrase contains CR or LF (not allowed in TWAMP; only one trailing newline is dropped)", dir);
	assert_string_equal(err, want);
	assert_no_part_of(err, "Zq9xWv7K");

	assert_int_equal(load_one_key_dir(t, "d4", "alice", "\n", 1, 0400, dir, sizeof(dir), err), -EINVAL);
	snprintf(want, sizeof(want), "%s/alice: key file is empty (expected the passphrase)", dir);
	assert_string_equal(err, want);

	static char big[TW_KEYSTORE_SECRET_MAX + 2];
	memset(big, 'Q', sizeof(big));
	assert_int_equal(load_one_key_dir(t, "d5", "alice", big, sizeof(big), 0400, dir, sizeof(dir), err), -EINVAL);
	snprintf(want, sizeof(want), "%s/alice: passphrase is longer than 1024 octets", dir);
	assert_string_equal(err, want);
	big[TW_KEYSTORE_SECRET_MAX] = '\n'; /* exactly the limit plus its newline */
	assert_int_equal(load_one_key_dir(t, "d6", "alice", big, sizeof(big) - 1, 0400, dir, sizeof(dir), err), 0);

	assert_int_equal(load_one_key_dir(t, "d7", "bad\tname", "x", 1, 0400, dir, sizeof(dir), err), -EINVAL);
	snprintf(want, sizeof(want),
		 "%s/bad?name: file name is not a valid identity (expected 1-80 printable ASCII characters without spaces)",
		 dir);
	assert_string_equal(err, want);
}

static void test_dir_other_errors(void **state)
{
	tmpdir *t = *state;
	char dir[256], data[512], path[512], err[TW_KEYSTORE_ERR_LEN], want[1024];
	tw_keystore *ks = NULL;

	/* Only dot entries: no keys. */
	snprintf(dir, sizeof(dir), "%s/empty", t->path);
	make_secret_dir(dir, data, sizeof(data));
	assert_int_equal(tw_keystore_load(dir, &ks, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want), "%s: no key files (expected one file per identity holding its passphrase)", dir);
	assert_string_equal(err, want);

	/* A key symlink whose target vanished. */
	snprintf(path, sizeof(path), "%s/ghost", dir);
	assert_int_equal(symlink("..data/ghost", path), 0);
	assert_int_equal(tw_keystore_load(dir, &ks, err, sizeof(err)), -ENOENT);
	snprintf(want, sizeof(want), "%s/ghost: cannot open: No such file or directory", dir);
	assert_string_equal(err, want);
	assert_null(ks);

	/* The first failing entry in name order is the one reported. */
	snprintf(dir, sizeof(dir), "%s/order", t->path);
	make_secret_dir(dir, data, sizeof(data));
	add_secret_key(dir, data, "zed", "z", 1, 0644);
	add_secret_key(dir, data, "bob", "", 0, 0400);
	add_secret_key(dir, data, "amy", "a", 1, 0400);
	assert_int_equal(tw_keystore_load(dir, &ks, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want), "%s/bob: key file is empty (expected the passphrase)", dir);
	assert_string_equal(err, want);
}

/* ---- KeyID fields ---- */

static void test_keyid_conversion(void **state)
{
	(void)state;
	uint8_t f[TW_KEYID_LEN];
	char s[TW_KEYID_LEN + 1];

	assert_int_equal(tw_keystore_str_to_keyid("alice", f), 0);
	assert_memory_equal(f, "alice", 5);
	for (size_t i = 5; i < TW_KEYID_LEN; i++)
		assert_int_equal(f[i], 0);
	assert_int_equal(tw_keystore_keyid_to_str(f, s), 5);
	assert_string_equal(s, "alice");

	memset(f, 'k', sizeof(f)); /* 80 octets: no terminator on the wire */
	assert_int_equal(tw_keystore_keyid_to_str(f, s), 80);
	assert_int_equal(strlen(s), 80);

	static const struct {
		const char *raw;
		size_t len;
	} bad[] = {
		{ "", 0 },              /* empty: unauthenticated-style KeyID */
		{ "al\x01ice", 6 },     /* control octet */
		{ "al ice", 6 },        /* space */
		{ "\xc3\xa9", 2 },      /* non-ASCII */
		{ "alice\0x", 7 },      /* junk inside the padding */
		{ "alice\0\0\0\x7f", 9 },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(f, 0, sizeof(f));
		memcpy(f, bad[i].raw, bad[i].len);
		memset(s, 'z', sizeof(s));
		assert_int_equal(tw_keystore_keyid_to_str(f, s), -EINVAL);
		assert_string_equal(s, "");
	}

	char long_id[TW_KEYID_LEN + 2];
	memset(long_id, 'k', TW_KEYID_LEN + 1);
	long_id[TW_KEYID_LEN + 1] = '\0';
	memset(f, 0xee, sizeof(f));
	assert_int_equal(tw_keystore_str_to_keyid(long_id, f), -EINVAL);
	for (size_t i = 0; i < TW_KEYID_LEN; i++)
		assert_int_equal(f[i], 0);
	assert_int_equal(tw_keystore_str_to_keyid("", f), -EINVAL);
	assert_int_equal(tw_keystore_str_to_keyid("a b", f), -EINVAL);
	assert_int_equal(tw_keystore_str_to_keyid(NULL, f), -EINVAL);
	long_id[TW_KEYID_LEN] = '\0';
	assert_int_equal(tw_keystore_str_to_keyid(long_id, f), 0);
	assert_memory_equal(f, long_id, TW_KEYID_LEN);
}

/* The KeyID of the authenticated capture's Set-Up-Response finds the
 * captures' pfs line, whose passphrase gives the README's K. */
static void test_lookup_by_captured_keyid(void **state)
{
	(void)state;
	char path[512];
	snprintf(path, sizeof(path), "%s/twping-twampd-authenticated.pcap", TW_CAPTURES_DIR);
	tw_pcap p;
	assert_int_equal(tw_pcap_load(path, &p), 0);
	assert_true(p.to_server_len >= 164 && p.to_client_len >= 64);
	tw_keystore *ks = parse_ok("other 6f74686572\n" CAP_LINE "\n");

	const uint8_t *keyid = p.to_server + 4, *s = NULL;
	size_t len = 0;
	char id[TW_KEYID_LEN + 1];
	assert_int_equal(tw_keystore_keyid_to_str(keyid, id), 8);
	assert_string_equal(id, "testuser");
	assert_true(tw_keystore_lookup_keyid(ks, keyid, &s, &len));
	assert_int_equal(len, 20);
	uint8_t dk[16], want[16];
	const uint8_t *greeting = p.to_client;
	uint32_t count = (uint32_t)greeting[48] << 24 | (uint32_t)greeting[49] << 16 | (uint32_t)greeting[50] << 8 |
			 greeting[51];
	assert_int_equal(tw_kdf(s, len, greeting + 32, count, dk), 0);
	assert_int_equal(tw_hex_decode("65db54d87ceba1abc163f40b3041a452", want, 16), 16);
	assert_memory_equal(dk, want, 16);

	uint8_t other[TW_KEYID_LEN] = "nobody";
	assert_false(tw_keystore_lookup_keyid(ks, other, &s, &len));
	other[70] = 1;
	assert_false(tw_keystore_lookup_keyid(ks, other, &s, &len));
	tw_keystore_free(ks);
	tw_pcap_free(&p);
}

static void test_null_safety(void **state)
{
	(void)state;
	const uint8_t *s;
	size_t len;
	tw_keystore_free(NULL);
	assert_int_equal(tw_keystore_count(NULL), 0);
	assert_false(tw_keystore_lookup(NULL, "a", &s, &len));
	assert_false(tw_keystore_lookup_keyid(NULL, NULL, &s, &len));
	tw_keystore *ks = parse_ok("a 61");
	assert_false(tw_keystore_lookup(ks, NULL, &s, &len));
	assert_false(tw_keystore_lookup(ks, "a", NULL, &len));
	assert_false(tw_keystore_lookup(ks, "a", &s, NULL));
	tw_keystore_free(ks);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pfs_capture_line),
		cmocka_unit_test(test_pfs_binary_secret),
		cmocka_unit_test(test_pfs_layout_tolerance),
		cmocka_unit_test(test_pfs_malformed_lines),
		cmocka_unit_test(test_pfs_duplicate),
		cmocka_unit_test(test_secrets_absent_from_errors),
		cmocka_unit_test(test_error_buffer_edges),
		cmocka_unit_test(test_many_keys),
		cmocka_unit_test_setup_teardown(test_file_load_and_permissions, setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_file_errors, setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_dir_kubernetes_layout, setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_dir_refusals, setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_dir_other_errors, setup_tmp, teardown_tmp),
		cmocka_unit_test(test_keyid_conversion),
		cmocka_unit_test(test_lookup_by_captured_keyid),
		cmocka_unit_test(test_null_safety),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
