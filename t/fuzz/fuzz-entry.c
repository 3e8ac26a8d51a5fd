/*
 * fuzz-entry: any bytes as a sync log or applied-entries stream, read with
 * the entry reader and coalesced; each entry's canonical form must parse
 * back to the same line.  The reader reports every bad line on stderr:
 * run libFuzzer with -close_fd_mask=2 to keep it quiet.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "synclog.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
reparse(const struct entry *e)
{
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT;
	struct entry e2;
	const char *why;

	entry_format(&a, e);
	if (entry_parse(a.s, a.len - 1, &e2, &why) == -1)
		abort();
	entry_format(&b, &e2);
	if (strcmp(a.s, b.s) != 0)
		abort();
	entry_free(&e2);
	sb_free(&a);
	sb_free(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct strbuf out = STRBUF_INIT;
	struct coalescer *c;
	struct entry_reader r;
	struct entry e;
	FILE	*fp;
	int	 st;

	if (size == 0)
		return 0;
	if ((fp = fmemopen((void *)data, size, "r")) == NULL)
		return 0;
	c = coalescer_new();
	entry_reader_init(&r, fp, "fuzz");
	while (entry_reader_next(&r, &e, &st) == 1) {
		reparse(&e);
		coalescer_add(c, &e);
		entry_free(&e);
	}
	coalescer_emit(c, &out);
	coalescer_free(c);
	entry_reader_free(&r);
	fclose(fp);
	sb_free(&out);
	return 0;
}
