/* text.c - quoting user input for messages (see text.h). */
#include "text.h"

#include <stdio.h>
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
