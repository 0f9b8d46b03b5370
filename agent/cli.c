/* cli.c - subcommand dispatch, --help and --version (see cli.h). */
#include "cli.h"

#include <stdio.h>
#include <string.h>

#include "version.h"

static void print_version(void)
{
	printf("twamp-agent %s (revision %s)\n", TW_VERSION, TW_REVISION);
}

static void print_usage(FILE *out)
{
	fputs("usage: twamp-agent [--help] [--version] <command> [options]\n"
	      "\n"
	      "commands:\n"
	      "  reflect   run the TWAMP server and session reflector only\n"
	      "  ping      run one TWAMP session against HOST[:PORT] and print a summary\n"
	      "\n"
	      "Run 'twamp-agent <command> --help' for the options of a command.\n",
	      out);
}

int tw_cli_main(int argc, char **argv)
{
	if (argc < 2) {
		print_usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "--version") == 0) {
		print_version();
		return 0;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		print_usage(stdout);
		return 0;
	}
	fprintf(stderr, "twamp-agent: unknown command '%s' (expected reflect or ping; see --help)\n", argv[1]);
	return 2;
}
