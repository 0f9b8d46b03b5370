/* text.c - quoting user input for messages, file paths (see text.h). */
#include "text.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
