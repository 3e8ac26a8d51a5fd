/*
 * sync-relog: append the entries read on stdin to one or more sync logs,
 * with the writer protocol of synclog_append(), for chained replication and
 * fan-out channels.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "synclog.h"
#include "util.h"

/* Past this size the lines read so far are appended in one write. */
#define CHUNK	(1024 * 1024)

enum { OPT_SYSLOG = 256 };

static const struct option longopts[] = {
	{ "framed",	no_argument,	NULL, 'F' },
	{ "help",	no_argument,	NULL, 'h' },
	{ "quiet",	no_argument,	NULL, 'q' },
	{ "syslog",	no_argument,	NULL, OPT_SYSLOG },
	{ "verbose",	no_argument,	NULL, 'v' },
	{ "version",	no_argument,	NULL, 'V' },
	{ NULL,		0,		NULL, 0 }
};

static void
usage(FILE *fp)
{
	fprintf(fp, "usage: %s [-FqvV] [--syslog] LOG ...\n", sp_progname);
	if (fp == stdout)
		fputs("\n"
		    "Appends the entries read on stdin to every LOG.\n\n"
		    "  -F, --framed     insist on applied entries with head "
		    "and tail\n"
		    "  -q, --quiet      report errors only\n"
		    "  -v, --verbose    report more\n"
		    "      --syslog     report to syslog\n"
		    "  -h, --help       this text\n"
		    "  -V, --version    the version\n", fp);
}

/* Appends buf to every log; the worst status.  A log that failed once is
 * left alone afterwards (failed[i]) so that it never gets a hole. */
static int
flush_chunk(struct strbuf *buf, int nlogs, char **logs, int *failed)
{
	int	 i, st = 0, s;

	if (buf->len == 0)
		return 0;
	for (i = 0; i < nlogs; i++) {
		if (failed[i])
			continue;
		if ((s = synclog_append(logs[i], buf->s, buf->len)) != 0) {
			failed[i] = 1;
			st = sp_status_worst(st, s);
		}
	}
	sb_reset(buf);
	return st;
}

/* With --framed, input that is not a framed stream (e.g. nothing at all,
 * because the program before us failed to start) is an error. */
static int	 need_frame;

static int
relog(int nlogs, char **logs)
{
	struct strbuf buf = STRBUF_INIT;
	struct entry_reader r;
	struct entry e;
	int	*failed = xcalloc((size_t)nlogs, sizeof(*failed));
	int	 rc, st = 0, rst;

	entry_reader_init(&r, stdin, "stdin");
	while ((rc = entry_reader_next(&r, &e, &rst)) == 1) {
		entry_format(&buf, &e);
		entry_free(&e);
		if (buf.len >= CHUNK)
			st = sp_status_worst(st,
			    flush_chunk(&buf, nlogs, logs, failed));
	}
	st = sp_status_worst(st, flush_chunk(&buf, nlogs, logs, failed));
	if (rc == -1)
		st = sp_status_worst(st, rst);
	else if (r.framed && !r.ended) {
		sp_err("stdin: applied entries end without their %%end tail");
		st = sp_status_worst(st, EX_DATAERR);
	} else if (need_frame && !r.framed) {
		sp_err("stdin: no applied entries: the stream has no "
		    "%%syncpipe head");
		st = sp_status_worst(st, EX_DATAERR);
	}
	if (r.bad_lines > 0)
		st = sp_status_worst(st, EX_DATAERR);
	sp_debug("%lu entries appended, %lu bad lines", r.count, r.bad_lines);
	entry_reader_free(&r);
	sb_free(&buf);
	free(failed);
	return st;
}

int
main(int argc, char **argv)
{
	int	 ch;

	sp_init(argv[0]);
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "FhqvV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'F': need_frame = 1; break;
		case 'h': usage(stdout); return 0;
		case 'q': sp_verbosity = 0; break;
		case 'v': sp_verbosity++; break;
		case 'V': sp_print_version(); return 0;
		case OPT_SYSLOG: sp_use_syslog(); break;
		default:
			sp_err("bad option: %s", argv[optind - 1]);
			usage(stderr);
			return EX_USAGE;
		}
	}
	if (optind >= argc) {
		sp_err("no LOG given");
		usage(stderr);
		return EX_USAGE;
	}
	signal(SIGPIPE, SIG_IGN);
	return relog(argc - optind, argv + optind);
}
