/*
 * sync-apply: apply a bundle read on stdin to a replica store and print the
 * applied entries (see apply.h for the guarantees).
 */
#include <getopt.h>
#include <stdio.h>

#include "apply.h"
#include "remote.h"
#include "serve.h"
#include "util.h"

static void
usage(FILE *fp)
{
	fprintf(fp, "usage: sync-apply [-qvV] [--syslog] store\n"
	    "       sync-apply --serve | --inetd | --listen addr:port "
	    "[options] store\n");
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
	    "  -h, --help      this text; -V, --version: the version\n"
	    "A bundle compressed with deflate is recognised and inflated.\n"
	    "As a server (see sync-apply(1)):\n%s", serve_help);
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
		SERVE_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	struct serve_opts so;
	enum serve_mode mode = SERVE_NONE;
	const char *addr = NULL;
	struct conn *zc;
	FILE *in;
	int c, st;

	sp_init(argv[0]);
	serve_opts_init(&so);
	while ((c = getopt_long(argc, argv, "vqhV", opts, NULL)) != -1) {
		switch (c) {
		case 'v': sp_verbosity++; break;
		case 'q': sp_verbosity = 0; break;
		case 'S': sp_use_syslog(); break;
		case 'h': help(); return 0;
		case 'V': sp_print_version(); return 0;
		default:
			if ((st = serve_option(&so, c, optarg, &mode, &addr)) == 0)
				break;
			if (st < 0)
				usage(stderr);
			return st < 0 ? EX_USAGE : st;
		}
	}
	if (argc - optind != 1 || argv[optind][0] == '\0') {
		usage(stderr);
		return EX_USAGE;
	}
	sp_catch_signals();
	if (mode != SERVE_NONE)
		return serve_run(&so, mode, addr, argv[optind]);
	if ((in = inflate_fopen(0, &zc)) == NULL)
		return EX_OSERR;
	st = apply_bundle(argv[optind], in, "stdin", stdout);
	fclose(in);
	conn_free(zc);
	return st;
}
