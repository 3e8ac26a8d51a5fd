/*
 * store-uidlist: the dovecot-uidlist file of a Maildir mailbox.
 *
 * Version 3, as Dovecot 2.3 writes it (maildir-uidlist.c):
 *
 *   3 V<uidvalidity> N<next uid> G<mailbox GUID: 32 hex> [<key><value> ...]
 *   <uid> [<key><value> ...] :<base name>
 *
 * UIDs grow line by line; N is not raised when lines are appended, so the
 * next UID is max(N, last UID + 1).  Header fields and per-message fields
 * other than V, N and G are kept as they are.  Version 1 files
 * ("1 <uidvalidity> <next uid>", "<uid> <file name>") are read too; we
 * always write version 3.
 * A last line without its LF is one being appended: it is not read.
 * Older writers stored whole file names; the base name is the part before
 * the first ':'.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#include "store-int.h"

void
uidlist_free(struct uidlist *ul)
{
	size_t i;

	for (i = 0; i < ul->n; i++) {
		free(ul->recs[i].base);
		free(ul->recs[i].ext);
	}
	free(ul->recs);
	free(ul->hdr_ext);
	memset(ul, 0, sizeof(*ul));
}

static int
parse_u32(const char *p, const char **end, uint32_t *v)
{
	unsigned long long x = 0;
	const char *s = p;

	for (; *p >= '0' && *p <= '9'; p++) {
		x = x * 10 + (unsigned)(*p - '0');
		if (x > UINT32_MAX)
			return -1;
	}
	if (p == s)
		return -1;
	*v = (uint32_t)x;
	*end = p;
	return 0;
}

static int
parse_guid(const char *v, size_t n, char *out)
{
	size_t i;

	if (n != GUID_HEX_LEN)
		return -1;
	for (i = 0; i < n; i++) {
		char c = v[i];

		if (c >= 'A' && c <= 'F')
			c = (char)(c - 'A' + 'a');
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return -1;
		out[i] = c;
	}
	out[n] = '\0';
	return 0;
}

static void
add_field(char **list, const char *f, size_t n)
{
	char *s;

	if (*list == NULL)
		s = xstrndup(f, n);
	else {
		s = xasprintf("%s %.*s", *list, (int)n, f);
		free(*list);
	}
	*list = s;
}

static int
parse_v3_header(const char *p, struct uidlist *ul, const char **why)
{
	const char *f, *e;
	uint32_t v;

	while (*p != '\0') {
		f = p;
		e = strchr(f, ' ');
		if (e == NULL)
			e = f + strlen(f);
		if (*f == 'V' || *f == 'N') {
			if (parse_u32(f + 1, &p, &v) != 0 || p != e) {
				*why = "bad number in header";
				return -1;
			}
			if (*f == 'V')
				ul->uidvalidity = v;
			else
				ul->nextuid = v;
		} else if (*f == 'G') {
			if (parse_guid(f + 1, e - f - 1, ul->guid) != 0) {
				*why = "bad mailbox GUID in header";
				return -1;
			}
		} else if (e > f)
			add_field(&ul->hdr_ext, f, e - f);
		for (p = e; *p == ' '; p++)
			;
	}
	return 0;
}

static int
parse_header(const char *line, struct uidlist *ul, int *version,
    const char **why)
{
	const char *p;

	if (line[0] < '0' || line[0] > '9' || line[1] != ' ') {
		*why = "bad version number";
		return -1;
	}
	*version = line[0] - '0';
	if (*version == 3) {
		if (parse_v3_header(line + 2, ul, why) != 0)
			return -1;
	} else if (*version == 1) {
		if (parse_u32(line + 2, &p, &ul->uidvalidity) != 0 ||
		    *p != ' ' || parse_u32(p + 1, &p, &ul->nextuid) != 0 ||
		    *p != '\0') {
			*why = "bad version 1 header";
			return -1;
		}
	} else {
		*why = "unsupported version";
		return -1;
	}
	if (ul->uidvalidity == 0 || ul->nextuid == 0) {
		*why = "header without UIDVALIDITY or next UID";
		return -1;
	}
	return 0;
}

/* Extension fields "Kvalue" up to ':'; fields with an invalid key are
 * dropped, as Dovecot does. */
static const char *
parse_ext(const char *p, char **ext)
{
	const char *f;

	while (*p != '\0' && *p != ':') {
		for (f = p; *p != ' ' && *p != '\0'; p++)
			;
		if (*f >= 'A' && *f <= 'Z' && p > f)
			add_field(ext, f, p - f);
		while (*p == ' ')
			p++;
	}
	return p;
}

static int
parse_record(const char *line, int version, struct uidlist *ul,
    uint32_t *prev, const char **why)
{
	struct ulrec r;
	const char *p;

	memset(&r, 0, sizeof(r));
	if (parse_u32(line, &p, &r.uid) != 0 || *p != ' ' || r.uid == 0 ||
	    r.uid == UINT32_MAX) {
		*why = "bad UID";
		return -1;
	}
	if (r.uid <= *prev) {
		*why = "UIDs not in order";
		return -1;
	}
	while (*p == ' ')
		p++;
	if (version == 3) {
		p = parse_ext(p, &r.ext);
		if (*p == ':')
			p++;
	}
	if (*p == '\0' || *p == ':' || strchr(p, '/') != NULL) {
		free(r.ext);
		*why = "bad file name";
		return -1;
	}
	r.base = xstrndup(p, fname_baselen(p));
	*prev = r.uid;
	if (ul->n == ul->cap) {
		ul->cap = ul->cap ? ul->cap * 2 : 64;
		ul->recs = xreallocarray(ul->recs, ul->cap, sizeof(*ul->recs));
	}
	ul->recs[ul->n++] = r;
	return 0;
}

int
uidlist_parse(const char *buf, size_t len, struct uidlist *ul, size_t *line,
    const char **why)
{
	const char *p = buf, *end = buf + len, *nl;
	struct strbuf sb = STRBUF_INIT;
	uint32_t prev = 0;
	int version = 0, r = 0;

	*line = 0;
	for (; p < end && r == 0; p = nl + 1) {
		if ((nl = memchr(p, '\n', end - p)) == NULL)
			break;		/* being appended: not there yet */
		(*line)++;
		if (memchr(p, '\0', nl - p) != NULL) {
			*why = "NUL byte";
			r = -1;
			break;
		}
		sb_reset(&sb);
		sb_add(&sb, p, nl - p);
		if (*line == 1)
			r = parse_header(sb.s, ul, &version, why);
		else
			r = parse_record(sb.s, version, ul, &prev, why);
	}
	sb_free(&sb);
	if (r == 0 && *line == 0) {
		*why = "empty file";
		r = -1;
	}
	if (r == 0 && prev >= ul->nextuid)
		ul->nextuid = prev + 1;
	if (r == 0)
		ul->exists = 1;
	return r;
}

int
uidlist_read(int dirfd, const char *dirpath, struct uidlist *ul)
{
	struct strbuf sb = STRBUF_INIT;
	const char *why;
	size_t line;

	memset(ul, 0, sizeof(*ul));
	if (read_at(dirfd, UIDLIST_NAME, &sb, &ul->mtime) < 0) {
		if (errno == ENOENT)
			return 0;
		sp_syserr("%s/%s", dirpath, UIDLIST_NAME);
		return errno == ELOOP ? EX_NOPERM : sp_errno_status(errno);
	}
	if (sb.len == 0) {
		/* an empty file is what a crashed writer may leave */
		sb_free(&sb);
		return 0;
	}
	if (uidlist_parse(sb.s, sb.len, ul, &line, &why) != 0) {
		sp_err("%s/%s:%zu: %s", dirpath, UIDLIST_NAME, line, why);
		sb_free(&sb);
		uidlist_free(ul);
		return EX_DATAERR;
	}
	sb_free(&sb);
	return 0;
}

int
uidlist_new_identity(struct uidlist *ul)
{
	unsigned char g[GUID_HEX_LEN / 2];

	/* XXX: Dovecot would reuse its index's UIDVALIDITY if one exists. */
	if (ul->uidvalidity == 0)
		ul->uidvalidity = (uint32_t)time(NULL);
	if (ul->nextuid == 0)
		ul->nextuid = 1;
	if (ul->guid[0] == '\0') {
		if (RAND_bytes(g, sizeof(g)) != 1) {
			sp_err("cannot get random bytes for a mailbox GUID");
			return EX_OSERR;
		}
		hex_encode(g, sizeof(g), ul->guid);
	}
	return 0;
}

void
uidlist_header(const struct uidlist *ul, struct strbuf *sb)
{
	sb_addf(sb, "3 V%u N%u G%s", (unsigned)ul->uidvalidity,
	    (unsigned)ul->nextuid, ul->guid);
	if (ul->hdr_ext != NULL)
		sb_addf(sb, " %s", ul->hdr_ext);
	sb_addc(sb, '\n');
}

void
uidlist_line(struct strbuf *sb, uint32_t uid, const char *ext,
    const char *base)
{
	sb_addf(sb, "%u", (unsigned)uid);
	if (ext != NULL)
		sb_addf(sb, " %s", ext);
	sb_addf(sb, " :%s\n", base);
}
