/*
 * locale_helper.h - finds or builds a locale whose decimal point is a comma,
 * so locale-independence tests of the exporters cannot pass vacuously.
 * Debian images usually ship only C and C.UTF-8; when no comma locale is
 * installed, de_DE.UTF-8 is compiled with localedef into a temporary
 * LOCPATH directory (glibc still searches the default path after it).
 */
#ifndef TW_TEST_LOCALE_HELPER_H
#define TW_TEST_LOCALE_HELPER_H

#include <locale.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char tw_test_locdir[64];

static inline bool tw_test_is_comma(const char *name)
{
	bool ok = setlocale(LC_ALL, name) && strcmp(localeconv()->decimal_point, ",") == 0;
	setlocale(LC_ALL, "C");
	return ok;
}

/* Returns a locale name with a decimal comma, or NULL when none can be had. */
static inline const char *tw_test_comma_locale(void)
{
	static const char *const installed[] = { "de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8",
		"nl_NL.UTF-8", "ru_RU.UTF-8" };
	for (size_t i = 0; i < sizeof(installed) / sizeof(installed[0]); i++)
		if (tw_test_is_comma(installed[i]))
			return installed[i];
	if (!tw_test_locdir[0]) {
		char dir[] = "/tmp/tw-locale-XXXXXX";
		if (!mkdtemp(dir))
			return NULL;
		snprintf(tw_test_locdir, sizeof(tw_test_locdir), "%s", dir);
		char cmd[256];
		snprintf(cmd, sizeof(cmd),
			"localedef -i de_DE -f UTF-8 %s/de_DE.UTF-8 >/dev/null 2>&1", dir);
		if (system(cmd) == -1)
			return NULL;
		setenv("LOCPATH", dir, 1);
	}
	return tw_test_is_comma("de_DE.UTF-8") ? "de_DE.UTF-8" : NULL;
}

static inline void tw_test_comma_locale_cleanup(void)
{
	if (!tw_test_locdir[0])
		return;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tw_test_locdir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tw_test_locdir);
	unsetenv("LOCPATH");
	tw_test_locdir[0] = '\0';
}

#endif /* TW_TEST_LOCALE_HELPER_H */
