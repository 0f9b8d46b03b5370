/* text.c - quoting user input for messages, numbers, files (see text.h). */
#include "text.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { MAX_SHOWN = 48 };

void tw_text_quote(const char *s, size_t n, char *buf, size_t cap)
{
	size_t w = 0;
	if (cap < 8) {
		if (cap)
			buf[0] = '\0';
		return;
	}
	buf[w++] = '"';
	for (size_t i = 0; i < n && i < MAX_SHOWN && w + 6 < cap; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\') {
			buf[w++] = '\\';
			buf[w++] = (char)c;
		} else if (c < 0x20 || c == 0x7f) {
			w += (size_t)snprintf(buf + w, cap - w, "\\x%02x", c);
		} else {
			buf[w++] = (char)c;
		}
	}
	if (n > MAX_SHOWN && w + 5 < cap) {
		memcpy(buf + w, "...", 3);
		w += 3;
	}
	buf[w++] = '"';
	buf[w] = '\0';
}

char *tw_text_dirname(const char *path)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	return strndup(path, (size_t)(slash - path));
}

int tw_text_decimal(const char *s, size_t n, size_t max_digits, unsigned max, unsigned *out)
{
	if (n == 0 || n > max_digits || max_digits > 9) /* 9 digits cannot overflow */
		return -EINVAL;
	unsigned v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

int tw_text_read_fd(int fd, size_t max, char **data, size_t *len)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	if (st.st_size < 0 || (uint64_t)st.st_size > max)
		return -EFBIG;
	size_t cap = (size_t)st.st_size, n = 0;
	char *buf = malloc(cap + 1);
	if (!buf)
		return -ENOMEM;
	while (n < cap) {
		ssize_t r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = -errno;
			free(buf);
			return e;
		}
		if (r == 0)
			break; /* shrank while reading: use what is there */
		n += (size_t)r;
	}
	*data = buf;
	*len = n;
	return 0;
}
