/*
 * synclog-writer: a test writer for the sync log protocol.
 *
 *   synclog-writer LOG ID COUNT [PER-WRITE]
 *
 * Appends COUNT entries "MAILBOX "user.wID.m N xxx"" (N from 1, a run of x
 * whose length varies with N, so that a torn or mixed line shows) to LOG,
 * PER-WRITE entries (default 1) to each synclog_append().  Exits with the
 * first failing status.
 */
#include <stdio.h>
#include <stdlib.h>

#include "synclog.h"
#include "util.h"

int
main(int argc, char **argv)
{
	struct strbuf sb = STRBUF_INIT;
	long	 count, per, i;
	int	 st;

	sp_init(argv[0]);
	if (argc < 4 || argc > 5) {
		fprintf(stderr, "usage: synclog-writer LOG ID COUNT "
		    "[PER-WRITE]\n");
		return EX_USAGE;
	}
	count = strtol(argv[3], NULL, 10);
	per = argc == 5 ? strtol(argv[4], NULL, 10) : 1;
	if (per < 1)
		per = 1;
	for (i = 1; i <= count; i++) {
		sb_addf(&sb, "MAILBOX \"user.w%s.m %ld %.*s\"\n", argv[2], i,
		    (int)(i % 61), "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		    "xxxxxxxxxxxxxxxxxxxxxxxx");
		if (i % per != 0 && i != count)
			continue;
		if ((st = synclog_append(argv[1], sb.s, sb.len)) != 0)
			return st;
		sb_reset(&sb);
	}
	sb_free(&sb);
	return 0;
}
