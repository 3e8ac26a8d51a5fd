/*
 * Fuzz target: the dovecot-uidlist and dovecot-keywords parsers, and the
 * flags of Maildir file names.  The whole input is read as a uidlist and
 * as a keywords file; each line is also taken as a file name.  A uidlist
 * that parses must come out of a rewrite the same.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store-int.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
rewrite(const struct uidlist *ul)
{
	struct strbuf sb = STRBUF_INIT;
	struct uidlist again;
	const char *why;
	size_t i, line;

	uidlist_header(ul, &sb);
	for (i = 0; i < ul->n; i++)
		uidlist_line(&sb, ul->recs[i].uid, ul->recs[i].ext,
		    ul->recs[i].base);
	memset(&again, 0, sizeof(again));
	if (ul->guid[0] != '\0' &&
	    uidlist_parse(sb.s, sb.len, &again, &line, &why) != 0)
		abort();
	if (ul->guid[0] != '\0' && (again.n != ul->n ||
	    again.nextuid != ul->nextuid || again.uidvalidity !=
	    ul->uidvalidity))
		abort();
	uidlist_free(&again);
	sb_free(&sb);
}

static void
names(const char *p, size_t n, const struct kwlist *kw)
{
	struct strvec v = STRVEC_INIT;
	const char *nl, *end = p + n, *prev = NULL;
	char flags[8], *name;

	for (; p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', end - p)) == NULL)
			nl = end;
		name = xstrndup(p, nl - p);
		fname_flags(name, kw, flags, &v);
		if (fname_baselen(name) > strlen(name))
			abort();
		if (prev != NULL && (fname_sort_cmp(prev, name) > 0) !=
		    (fname_sort_cmp(name, prev) < 0))
			abort();
		free((char *)prev);
		prev = name;
		sv_free(&v);
	}
	free((char *)prev);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct uidlist ul;
	struct kwlist kw;
	const char *why;
	size_t line, i;

	sp_verbosity = -1;
	memset(&ul, 0, sizeof(ul));
	if (uidlist_parse((const char *)data, size, &ul, &line, &why) == 0) {
		for (i = 1; i < ul.n; i++)
			if (ul.recs[i].uid <= ul.recs[i - 1].uid)
				abort();
		if (ul.n > 0 && ul.nextuid <= ul.recs[ul.n - 1].uid)
			abort();
		rewrite(&ul);
	}
	uidlist_free(&ul);
	memset(&kw, 0, sizeof(kw));
	kw_parse((const char *)data, size, &kw);
	names((const char *)data, size, &kw);
	kw_free(&kw);
	return 0;
}
