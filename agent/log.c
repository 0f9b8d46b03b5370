/* log.c - logfmt / JSON logging to stderr (see log.h). */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "clock.h"

static tw_log_level min_level = TW_LOG_INFO;
static tw_log_format out_format = TW_LOG_LOGFMT;

static const char *const level_names[] = { "debug", "info", "warn", "error" };

void tw_log_setup(tw_log_level level, tw_log_format format)
{
	min_level = level;
	out_format = format;
}

int tw_log_parse_level(const char *s, tw_log_level *out)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (strcmp(s, level_names[i]) == 0) {
			*out = (tw_log_level)i;
			return 0;
		}
	}
	return -EINVAL;
}

int tw_log_parse_format(const char *s, tw_log_format *out)
{
	if (strcmp(s, "logfmt") == 0)
		*out = TW_LOG_LOGFMT;
	else if (strcmp(s, "json") == 0)
		*out = TW_LOG_JSON;
	else
		return -EINVAL;
	return 0;
}

static bool needs_quotes(const char *v)
{
	if (*v == '\0')
		return true;
	for (; *v; v++) {
		unsigned char ch = (unsigned char)*v;
		if (ch <= ' ' || ch == '"' || ch == '=' || ch == '\\' || ch == 0x7f)
			return true;
	}
	return false;
}

/* Appends v to buf[*pos..cap) with JSON/logfmt string escaping. */
static void put_escaped(char *buf, size_t cap, size_t *pos, const char *v)
{
	for (; *v && *pos + 7 < cap; v++) {
		unsigned char ch = (unsigned char)*v;
		if (ch == '"' || ch == '\\') {
			buf[(*pos)++] = '\\';
			buf[(*pos)++] = (char)ch;
		} else if (ch == '\n') {
			buf[(*pos)++] = '\\';
			buf[(*pos)++] = 'n';
		} else if (ch < 0x20 || ch == 0x7f) {
			*pos += (size_t)snprintf(buf + *pos, cap - *pos, "\\u%04x", ch);
		} else {
			buf[(*pos)++] = (char)ch;
		}
	}
	buf[*pos] = '\0';
}

const char *tw_log_quote(char *buf, size_t cap, const char *value)
{
	if (cap < 8)
		return "\"\"";
	if (!value)
		value = "";
	if (!needs_quotes(value)) {
		snprintf(buf, cap, "%s", value);
		return buf;
	}
	size_t pos = 0;
	buf[pos++] = '"';
	put_escaped(buf, cap - 1, &pos, value);
	buf[pos++] = '"';
	buf[pos] = '\0';
	return buf;
}

const char *tw_log_format_time(int64_t real_ns, char *buf, size_t cap)
{
	time_t t = (time_t)(real_ns / 1000000000);
	struct tm tm;
	gmtime_r(&t, &tm);
	size_t n = strftime(buf, cap, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, cap - n, ".%03dZ", (int)(real_ns % 1000000000 / 1000000));
	return buf;
}


/* Converts "k=v k2=\"v 2\"" into ,"k":"v","k2":"v 2" for JSON output. */
static void fields_to_json(const char *f, char *out, size_t cap)
{
	size_t pos = 0;
	char key[128], val[1024];
	out[0] = '\0';
	while (*f) {
		while (*f == ' ')
			f++;
		size_t k = 0;
		while (*f && *f != '=' && *f != ' ' && k + 1 < sizeof(key))
			key[k++] = *f++;
		key[k] = '\0';
		if (*f != '=' || k == 0)
			break;
		f++;
		size_t v = 0;
		if (*f == '"') {
			for (f++; *f && *f != '"' && v + 1 < sizeof(val); f++)
				val[v++] = (*f == '\\' && f[1]) ? *++f : *f;
			if (*f == '"')
				f++;
		} else {
			while (*f && *f != ' ' && v + 1 < sizeof(val))
				val[v++] = *f++;
		}
		val[v] = '\0';
		if (pos + 8 >= cap)
			break;
		pos += (size_t)snprintf(out + pos, cap - pos, ",\"");
		put_escaped(out, cap, &pos, key);
		pos += (size_t)snprintf(out + pos, cap - pos, "\":\"");
		put_escaped(out, cap, &pos, val);
		if (pos + 2 < cap)
			pos += (size_t)snprintf(out + pos, cap - pos, "\"");
	}
}

void tw_log(tw_log_level level, const char *msg, const char *fields_fmt, ...)
{
	if (level < min_level)
		return;
	char ts[40], fields[2048], qmsg[512];
	tw_log_format_time(tw_clock_real(&tw_clock_system), ts, sizeof(ts));
	va_list ap;
	va_start(ap, fields_fmt);
	vsnprintf(fields, sizeof(fields), fields_fmt, ap);
	va_end(ap);
	const char *lvl = level_names[level];
	if (out_format == TW_LOG_JSON) {
		char jf[4096];
		size_t pos = 0;
		fields_to_json(fields, jf, sizeof(jf));
		qmsg[0] = '\0';
		put_escaped(qmsg, sizeof(qmsg), &pos, msg);
		fprintf(stderr, "{\"ts\":\"%s\",\"level\":\"%s\",\"msg\":\"%s\"%s}\n", ts, lvl, qmsg, jf);
	} else {
		fprintf(stderr, "ts=%s level=%s msg=%s%s%s\n", ts, lvl, tw_log_quote(qmsg, sizeof(qmsg), msg),
			fields[0] ? " " : "", fields);
	}
}
