/*
 * fuzz-entry: any bytes as a sync log or applied-entries stream, read with
 * the entry reader and coalesced; each entry's canonical form must parse
 * back to the same line, and its arguments as JSON strings must be valid
 * UTF-8 without a raw control character.  The reader reports every bad line on stderr:
 * run libFuzzer with -close_fd_mask=2 to keep it quiet.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
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

static void
check_json(const char *arg)
{
	struct strbuf sb = STRBUF_INIT;
	const unsigned char *p;
	size_t	 n, len;

	json_add_string(&sb, arg);
	p = (const unsigned char *)sb.s;
	for (n = sb.len; n > 0; p += len, n -= len)
		if ((len = utf8_seqlen(p, n)) == 0 || *p < 0x20 || *p == 0x7f)
			abort();
	sb_free(&sb);
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
		check_json(e.arg1);
		if (e.arg2 != NULL)
			check_json(e.arg2);
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
