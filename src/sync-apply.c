/*
 * sync-apply: apply a bundle read on stdin to a replica store and print the
 * applied entries (see apply.h for the guarantees).
 */
#include <getopt.h>
#include <stdio.h>

#include "apply.h"
#include "util.h"

static void
usage(FILE *fp)
{
	fprintf(fp, "usage: sync-apply [-qvV] [--syslog] store\n");
}

static void
help(void)
{
	usage(stdout);
	printf("\n"
	    "Reads a bundle on stdin, applies it to the store, and prints the\n"
	    "applied entries (sync log lines) on stdout.\n"
	    "\n"
	    "  -v, --verbose   say more; -q, --quiet: errors only\n"
	    "      --syslog    log to syslog instead of stderr\n"
	    "  -h, --help      this text; -V, --version: the version\n");
}

int
main(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "verbose",	no_argument,	NULL, 'v' },
		{ "quiet",	no_argument,	NULL, 'q' },
		{ "syslog",	no_argument,	NULL, 'S' },
		{ "help",	no_argument,	NULL, 'h' },
		{ "version",	no_argument,	NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	int c;

	sp_init(argv[0]);
	while ((c = getopt_long(argc, argv, "vqhV", opts, NULL)) != -1) {
		switch (c) {
		case 'v': sp_verbosity++; break;
		case 'q': sp_verbosity = 0; break;
		case 'S': sp_use_syslog(); break;
		case 'h': help(); return 0;
		case 'V': sp_print_version(); return 0;
		default: usage(stderr); return EX_USAGE;
		}
	}
	if (argc - optind != 1) {
		usage(stderr);
		return EX_USAGE;
	}
	sp_catch_signals();
	return apply_bundle(argv[optind], stdin, "stdin", stdout);
}
