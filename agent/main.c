/* main.c - the twamp-agent binary: only wires the libraries together. */
#include "cli.h"

int main(int argc, char **argv)
{
	return tw_cli_main(argc, argv);
}
