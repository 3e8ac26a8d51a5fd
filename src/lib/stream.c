/*
 * stream: reading and writing change lists and bundles (see stream.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stream.h"

static const char *const kind_names[] = { "changes", "bundle" };

static const char *const rec_names[R_NTYPES] = {
	"MAILBOX", "ADD", "FLAGS", "EXPUNGE", "UNMAILBOX", "SUBS", "SIEVE",
	"UNSIEVE", "ACTIVE", "UNUSER", "CONFLICT", "RENAME", "COPY",
};

/* Fewest and most words (type word included) of each record type. */
static const struct { int min, max; } rec_arity[R_NTYPES] = {
	[R_MAILBOX] = { 8, 8 },		[R_ADD] = { 7, WORDS_MAX },
	[R_FLAGS] = { 5, WORDS_MAX },	[R_EXPUNGE] = { 4, 4 },
	[R_UNMAILBOX] = { 4, 4 },	[R_SUBS] = { 2, WORDS_MAX },
	[R_SIEVE] = { 5, 5 },		[R_UNSIEVE] = { 3, 3 },
	[R_ACTIVE] = { 2, 3 },		[R_UNUSER] = { 2, 2 },
	[R_CONFLICT] = { 4, 4 },	[R_RENAME] = { 5, 5 },
	[R_COPY] = { 10, WORDS_MAX },
};

const char *
rec_type_name(enum rec_type t)
{
	return (unsigned)t < R_NTYPES ? rec_names[t] : "?";
}

void
rec_word(struct strbuf *sb, const char *s)
{
	sb_addc(sb, ' ');
	word_add(sb, s);
}

static void
hash_hex(EVP_MD_CTX *md, char hex[65])
{
	unsigned char dig[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	EVP_DigestFinal_ex(md, dig, &n);
	hex_encode(dig, n, hex);
}

/* SHA-256, fetched from the provider once rather than at every body. */
static const EVP_MD *
sha256(void)
{
	static EVP_MD *md;

	if (md == NULL)
		md = EVP_MD_fetch(NULL, "SHA256", NULL);
	return md;
}

static EVP_MD_CTX *
hash_new(void)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();

	if (md == NULL || sha256() == NULL ||
	    EVP_DigestInit_ex(md, sha256(), NULL) != 1) {
		sp_err("cannot set up SHA-256");
		exit(EX_SOFTWARE);
	}
	return md;
}

/* Writing */

static int
sw_put(struct swriter *w, const void *p, size_t n)
{
	if (w->failed)
		return w->failed;
	EVP_DigestUpdate(w->md, p, n);
	if (fwrite(p, 1, n, w->fp) != n) {
		/* A reader that went away has its own story to tell. */
		if (errno != EPIPE)
			sp_syserr("output: write failed");
		w->failed = errno == EPIPE ? EX_IOERR : sp_errno_status(errno);
	}
	return w->failed;
}

int
sw_begin(struct swriter *w, FILE *fp, enum stream_kind kind)
{
	memset(w, 0, sizeof(*w));
	w->fp = fp;
	w->kind = kind;
	w->md = hash_new();
	sb_addf(&w->line, "%%syncpipe %s %d\n", kind_names[kind],
	    STREAM_VERSION);
	return sw_put(w, w->line.s, w->line.len);
}

struct strbuf *
sw_rec(struct swriter *w, enum rec_type t)
{
	sb_reset(&w->line);
	sb_adds(&w->line, rec_names[t]);
	return &w->line;
}

int
sw_rec_end(struct swriter *w)
{
	sb_addc(&w->line, '\n');
	w->count++;
	return sw_put(w, w->line.s, w->line.len);
}

int
sw_literal(struct swriter *w, int fd, uint64_t size, const char *what)
{
	char buf[65536], hex[65], end[80];
	EVP_MD_CTX *body = hash_new();
	uint64_t left = size;
	ssize_t n;

	while (left > 0 && w->failed == 0) {
		n = read(fd, buf, left < sizeof(buf) ? left : sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			sp_syserr("%s: read failed", what);
			w->failed = sp_errno_status(errno);
			break;
		}
		if (n == 0) {
			sp_err("%s: file shrank while it was read", what);
			w->failed = EX_TEMPFAIL;
			break;
		}
		EVP_DigestUpdate(body, buf, n);
		sw_put(w, buf, n);
		left -= n;
	}
	if (w->failed == 0 && read(fd, buf, 1) > 0) {
		sp_err("%s: file grew while it was read", what);
		w->failed = EX_TEMPFAIL;
	}
	hash_hex(body, hex);
	EVP_MD_CTX_free(body);
	if (w->failed)
		return w->failed;
	snprintf(end, sizeof(end), "\n=%s\n", hex);
	return sw_put(w, end, strlen(end));
}

int
sw_end(struct swriter *w)
{
	char hex[65];

	if (w->failed)
		return w->failed;
	hash_hex(w->md, hex);
	if (w->kind == SK_BUNDLE)
		fprintf(w->fp, "%%end %lu %s\n", w->count, hex);
	else
		fprintf(w->fp, "%%end %lu\n", w->count);
	if (fflush(w->fp) == EOF || ferror(w->fp)) {
		sp_syserr("output: write failed");
		w->failed = errno == EPIPE ? EX_IOERR : sp_errno_status(errno);
	}
	return w->failed;
}

void
sw_free(struct swriter *w)
{
	EVP_MD_CTX_free(w->md);
	sb_free(&w->line);
	w->md = NULL;
}

/* Reading */

int
sr_bad(struct sreader *r, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;

	sb_grow(&sb, 256);
	va_start(ap, fmt);
	vsnprintf(sb.s, sb.cap, fmt, ap);
	va_end(ap);
	sp_err("%s:%lu: %s (byte %" PRIu64 ")", r->name, r->lineno, sb.s,
	    r->offset);
	sb_free(&sb);
	r->status = EX_DATAERR;
	return EX_DATAERR;
}

/*
 * Reads one line into r->buf without its LF (a CR before it is dropped).
 * Returns its length, -1 at a clean end of input, -2 on error (reported).
 */
static long
sr_line(struct sreader *r)
{
	size_t len = 0;
	int c;

	for (;;) {
		c = getc(r->fp);
		if (c == EOF)
			break;
		if (len + 1 >= r->bufcap) {
			if (r->bufcap >= STREAM_LINE_MAX) {
				sr_bad(r, "line longer than %d bytes",
				    STREAM_LINE_MAX);
				return -2;
			}
			r->bufcap = r->bufcap ? r->bufcap * 2 : 256;
			r->buf = xrealloc(r->buf, r->bufcap);
		}
		r->buf[len++] = c;
		if (c == '\n')
			break;
	}
	if (ferror(r->fp)) {
		sp_syserr("%s: read failed", r->name);
		r->status = EX_IOERR;
		return -2;
	}
	if (len == 0)
		return -1;
	r->lineno++;
	r->offset += len;
	if (r->buf[len - 1] != '\n') {
		sr_bad(r, "input ends inside a line: cut short");
		return -2;
	}
	r->buf[len] = '\0';
	if (strncmp(r->buf, "%end ", 5) != 0 || r->kind == SK_CHANGES)
		EVP_DigestUpdate(r->md, r->buf, len);
	len--;
	if (len > 0 && r->buf[len - 1] == '\r')
		len--;
	r->buf[len] = '\0';
	return len;
}

int
sr_begin(struct sreader *r, FILE *fp, const char *name, enum stream_kind kind)
{
	char *w[WORDS_MAX];
	const char *why;
	long len;
	int nw, major;

	memset(r, 0, sizeof(*r));
	r->fp = fp;
	r->name = name;
	r->kind = kind;
	r->md = hash_new();
	len = sr_line(r);
	if (len == -1) {
		sp_err("%s: empty input: no %s", name, kind_names[kind]);
		return r->status = EX_DATAERR;
	}
	if (len < 0)
		return r->status;
	nw = words_split(r->buf, len, w, WORDS_MAX, &why);
	if (nw < 3 || strcmp(w[0], "%syncpipe") != 0)
		return sr_bad(r, "not a syncpipe %s: no head line",
		    kind_names[kind]);
	if (strcmp(w[1], kind_names[kind]) != 0)
		return sr_bad(r, "this is a %s, expected a %s", w[1],
		    kind_names[kind]);
	major = atoi(w[2]);
	if (major != STREAM_VERSION) {
		sp_err("%s:%lu: %s version %s; this program reads version %d",
		    name, r->lineno, w[1], w[2], STREAM_VERSION);
		return r->status = EX_PROTOCOL;
	}
	return 0;
}

static int
sr_tail(struct sreader *r, char **w, int nw)
{
	char hex[65];
	uint64_t n;

	if (nw < 2 || parse_u64(w[1], &n) != 0)
		return sr_bad(r, "malformed tail");
	if (n != r->count)
		return sr_bad(r, "tail counts %" PRIu64 " records, read %lu",
		    n, r->count);
	if (r->kind == SK_BUNDLE) {
		hash_hex(r->md, hex);
		if (nw != 3 || strcmp(w[2], hex) != 0)
			return sr_bad(r, "checksum mismatch: bundle damaged");
	}
	r->ended = 1;
	return 0;
}

int
sr_next(struct sreader *r, struct record *rec)
{
	const char *why;
	long len;
	int t;

	if (r->ended)
		return 0;
	do
		len = sr_line(r);
	while (len == 0);
	if (len == -1) {
		sp_err("%s: input ends after %lu records without its tail: "
		    "cut short", r->name, r->count);
		r->status = EX_DATAERR;
		return -1;
	}
	if (len < 0)
		return -1;
	rec->nw = words_split(r->buf, len, rec->w, WORDS_MAX, &why);
	if (rec->nw < 0)
		return sr_bad(r, "%s", why), -1;
	if (strcmp(rec->w[0], "%end") == 0)
		return sr_tail(r, rec->w, rec->nw) ? -1 : 0;
	for (t = 0; t < R_NTYPES; t++)
		if (strcmp(rec->w[0], rec_names[t]) == 0)
			break;
	if (t == R_NTYPES)
		return sr_bad(r, "unknown record \"%s\"", rec->w[0]), -1;
	if (rec->nw < rec_arity[t].min || rec->nw > rec_arity[t].max)
		return sr_bad(r, "%s record with %d fields", rec->w[0],
		    rec->nw - 1), -1;
	rec->type = t;
	r->count++;
	return 1;
}

/* Line numbers in messages count the lines of bodies too, so that they
 * match what an editor shows. */
static unsigned long
count_lines(const char *p, size_t n)
{
	const char *end = p + n;
	unsigned long lines = 0;

	while ((p = memchr(p, '\n', end - p)) != NULL) {
		lines++;
		p++;
	}
	return lines;
}

int
sr_literal(struct sreader *r, uint64_t size, int fd)
{
	char buf[65536], hex[65];
	EVP_MD_CTX *body = hash_new();
	uint64_t left = size;
	size_t want, got;
	long len;
	int st = 0;

	while (left > 0) {
		want = left < sizeof(buf) ? left : sizeof(buf);
		got = fread(buf, 1, want, r->fp);
		EVP_DigestUpdate(body, buf, got);
		EVP_DigestUpdate(r->md, buf, got);
		r->offset += got;
		r->lineno += count_lines(buf, got);
		left -= got;
		if (got < want) {
			st = ferror(r->fp) ? EX_IOERR : sr_bad(r,
			    "input ends inside a body: %" PRIu64
			    " of %" PRIu64 " bytes", size - left, size);
			break;
		}
		if (fd >= 0 && write_all(fd, buf, got) != 0) {
			sp_syserr("staging a body");
			st = sp_errno_status(errno);
			break;
		}
	}
	hash_hex(body, hex);
	EVP_MD_CTX_free(body);
	if (st != 0)
		return r->status = st;
	if (getc(r->fp) != '\n')
		return sr_bad(r, "body of %" PRIu64 " bytes not followed by LF",
		    size);
	EVP_DigestUpdate(r->md, "\n", 1);
	r->offset++;
	r->lineno++;
	len = sr_line(r);
	if (len < 0)
		return r->status ? r->status : sr_bad(r, "missing body hash");
	if (r->buf[0] != '=' || strcmp(r->buf + 1, hex) != 0)
		return sr_bad(r, "body hash mismatch: bundle damaged");
	return 0;
}

void
sr_free(struct sreader *r)
{
	EVP_MD_CTX_free(r->md);
	free(r->buf);
	r->md = NULL;
	r->buf = NULL;
}

/* Fields */

int
parse_u64(const char *s, uint64_t *out)
{
	uint64_t v = 0;

	if (*s == '\0')
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > (UINT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (*s - '0');
	}
	*out = v;
	return 0;
}

int
parse_u32(const char *s, uint32_t *out)
{
	uint64_t v;

	if (parse_u64(s, &v) != 0 || v > UINT32_MAX)
		return -1;
	*out = v;
	return 0;
}

int
parse_i64(const char *s, int64_t *out)
{
	uint64_t v;
	int neg = *s == '-';

	if (parse_u64(s + neg, &v) != 0 || v > INT64_MAX)
		return -1;
	*out = neg ? -(int64_t)v : (int64_t)v;
	return 0;
}
