/*
 * cli.h - command-line entry point: parses the global flags and the
 * subcommand (run, reflect, ping) and runs it. Returns the process exit
 * status (documented in the README and in --help).
 */
#ifndef TW_CLI_H
#define TW_CLI_H

int tw_cli_main(int argc, char **argv);

#endif
