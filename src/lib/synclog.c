/*
 * synclog: entries, the entry reader with its framed form, and the writer
 * and consumer sides of the sync log file protocol (see synclog.h).
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "synclog.h"
#include "words.h"

#define APPLIED_HEAD	"%syncpipe applied "
#define APPLIED_MAJOR	1
#define LINE_MAX_LEN	65536
#define APPEND_TRIES	20

static const struct {
	const char	*name;
	int		 nargs;
} types[E_NTYPES] = {
	[E_USER] = { "USER", 1 },
	[E_UNUSER] = { "UNUSER", 1 },
	[E_META] = { "META", 1 },
	[E_SIEVE] = { "SIEVE", 1 },
	[E_MAILBOX] = { "MAILBOX", 1 },
	[E_APPEND] = { "APPEND", 1 },
	[E_DOUBLEMAILBOX] = { "DOUBLEMAILBOX", 2 },
	[E_RENAME] = { "RENAME", 2 },
	[E_UNMAILBOX] = { "UNMAILBOX", 1 },
	[E_QUOTA] = { "QUOTA", 1 },
	[E_ANNOTATION] = { "ANNOTATION", 1 },
	[E_SEEN] = { "SEEN", 2 },
	[E_SUB] = { "SUB", 2 },
	[E_UNSUB] = { "UNSUB", 2 },
};

static const char why_unknown[] = "unknown entry type";

const char *
entry_type_name(enum entry_type t)
{
	if ((int)t < 0 || t >= E_NTYPES)
		return "?";
	return types[t].name;
}

int
entry_type_lookup(const char *name)
{
	int	 i;

	for (i = 0; i < E_NTYPES; i++)
		if (strcasecmp(name, types[i].name) == 0)
			return i;
	return -1;
}

int
entry_type_nargs(enum entry_type t)
{
	if ((int)t < 0 || t >= E_NTYPES)
		return 0;
	return types[t].nargs;
}

int
entry_parse(const char *line, size_t len, struct entry *e, const char **why)
{
	char	*copy, *w[4];
	int	 n, t;

	copy = xmalloc(len + 1);
	memcpy(copy, line, len);
	copy[len] = '\0';
	n = words_split(copy, len, w, 4, why);
	if (n == 0) {
		*why = "empty line";
		n = -1;
	}
	if (n == -1)
		goto fail;
	if ((t = entry_type_lookup(w[0])) == -1) {
		*why = why_unknown;
		goto fail;
	}
	if (n - 1 < types[t].nargs) {
		*why = "missing argument";
		goto fail;
	}
	if (n - 1 > types[t].nargs) {
		*why = "too many arguments";
		goto fail;
	}
	e->type = (enum entry_type)t;
	e->arg1 = xstrdup(w[1]);
	e->arg2 = types[t].nargs == 2 ? xstrdup(w[2]) : NULL;
	free(copy);
	return 0;
fail:
	free(copy);
	return -1;
}

void
entry_format(struct strbuf *sb, const struct entry *e)
{
	sb_adds(sb, entry_type_name(e->type));
	sb_addc(sb, ' ');
	word_add(sb, e->arg1);
	if (e->arg2 != NULL) {
		sb_addc(sb, ' ');
		word_add(sb, e->arg2);
	}
	sb_addc(sb, '\n');
}

void
entry_free(struct entry *e)
{
	free(e->arg1);
	free(e->arg2);
	e->arg1 = e->arg2 = NULL;
}

/* Entry reader */

void
entry_reader_init(struct entry_reader *r, FILE *fp, const char *name)
{
	memset(r, 0, sizeof(*r));
	r->fp = fp;
	r->name = name;
}

void
entry_reader_free(struct entry_reader *r)
{
	free(r->buf);
	r->buf = NULL;
	r->bufcap = 0;
}

/*
 * The first word of a bad line, made printable and short, for the message
 * about an unknown type.
 */
static void
type_word(const char *line, size_t len, char *out, size_t outsz)
{
	size_t	 i;

	for (i = 0; i < len && i + 1 < outsz; i++) {
		if (line[i] == ' ' || line[i] == '\t')
			break;
		out[i] = isprint((unsigned char)line[i]) ? line[i] : '?';
	}
	out[i] = '\0';
}

static int
parse_version(const char *s, unsigned long *major)
{
	char	*end;

	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	*major = strtoul(s, &end, 10);
	if (errno != 0)
		return -1;
	if (*end == '.') {
		end++;
		if (!isdigit((unsigned char)*end))
			return -1;
		while (isdigit((unsigned char)*end))
			end++;
	}
	return *end == '\0' ? 0 : -1;
}

/* Handles a "%syncpipe applied V" head.  0, or -1 with *status set. */
static int
reader_head(struct entry_reader *r, const char *line, int *status)
{
	unsigned long major;
	const char *v = line + strlen(APPLIED_HEAD);

	if (r->framed && !r->ended) {
		sp_err("%s:%lu: head line inside a frame", r->name, r->lineno);
		*status = EX_DATAERR;
		return -1;
	}
	if (!r->framed && r->count + r->bad_lines > 0) {
		sp_err("%s:%lu: head line after entries", r->name, r->lineno);
		*status = EX_DATAERR;
		return -1;
	}
	if (parse_version(v, &major) == -1 || major == 0) {
		sp_err("%s:%lu: unknown applied entries version \"%.20s\"",
		    r->name, r->lineno, v);
		*status = EX_DATAERR;
		return -1;
	}
	if (major > APPLIED_MAJOR) {
		sp_err("%s:%lu: applied entries version %.20s is newer than "
		    "this reader's version %d", r->name, r->lineno, v,
		    APPLIED_MAJOR);
		*status = EX_PROTOCOL;
		return -1;
	}
	r->framed = 1;
	r->ended = 0;
	r->frame_start = r->count + r->bad_lines;
	return 0;
}

/* Handles a "%end N" tail.  0, or -1 with *status set. */
static int
reader_tail(struct entry_reader *r, const char *line, int *status)
{
	const char *s = line + 5;
	unsigned long n, seen = r->count + r->bad_lines -
	    r->frame_start;
	char	*end;

	if (!r->framed || r->ended) {
		sp_err("%s:%lu: %%end without a head line", r->name, r->lineno);
		*status = EX_DATAERR;
		return -1;
	}
	errno = 0;
	n = strtoul(s, &end, 10);
	if (!isdigit((unsigned char)*s) || *end != '\0' || errno != 0) {
		sp_err("%s:%lu: bad %%end line", r->name, r->lineno);
		*status = EX_DATAERR;
		return -1;
	}
	if (n != seen) {
		sp_err("%s:%lu: %%end says %lu entries, %lu were read",
		    r->name, r->lineno, n, seen);
		*status = EX_DATAERR;
		return -1;
	}
	r->ended = 1;
	return 0;
}

/* A line starting with '%': 0 handled, 1 not a directive we know (a bad
 * line), -1 error with *status. */
static int
reader_directive(struct entry_reader *r, const char *line, int *status)
{
	if (strncmp(line, APPLIED_HEAD, strlen(APPLIED_HEAD)) == 0)
		return reader_head(r, line, status);
	if (strncmp(line, "%end ", 5) == 0)
		return reader_tail(r, line, status);
	if (strncmp(line, "%syncpipe ", 10) == 0) {
		sp_err("%s:%lu: not entries but \"%.40s\"", r->name,
		    r->lineno, line);
		*status = EX_DATAERR;
		return -1;
	}
	return 1;
}

/* Reads one line into r->buf without its LF; its length, or -1 at end of
 * input or on error (*status set to nonzero on error). */
static ssize_t
reader_line(struct entry_reader *r, int *status)
{
	ssize_t	 n;

	errno = 0;
	n = getline(&r->buf, &r->bufcap, r->fp);
	if (n == -1) {
		if (ferror(r->fp)) {
			sp_syserr("%s: read error", r->name);
			*status = sp_errno_status(errno);
		}
		return -1;
	}
	r->lineno++;
	if (n > 0 && r->buf[n - 1] == '\n')
		r->buf[--n] = '\0';
	if (n > 0 && r->buf[n - 1] == '\r' && memchr(r->buf, '\0', n) == NULL)
		r->buf[--n] = '\0';
	return n;
}

static void
reader_bad(struct entry_reader *r, size_t len, const char *why)
{
	char	 word[40];

	r->bad_lines++;
	if (why == why_unknown) {
		type_word(r->buf, len, word, sizeof(word));
		sp_err("%s:%lu: unknown entry type \"%s\"", r->name, r->lineno,
		    word);
	} else
		sp_err("%s:%lu: %s", r->name, r->lineno, why);
}

static int
blank_line(const char *s, size_t len)
{
	size_t	 i;

	for (i = 0; i < len; i++)
		if (s[i] != ' ' && s[i] != '\t')
			return 0;
	return 1;
}

int
entry_reader_next(struct entry_reader *r, struct entry *e, int *status)
{
	const char *why;
	ssize_t	 n;
	int	 d;

	*status = 0;
	while ((n = reader_line(r, status)) != -1) {
		if (blank_line(r->buf, (size_t)n))
			continue;
		if (r->buf[0] == '%' && memchr(r->buf, '\0', n) == NULL) {
			if ((d = reader_directive(r, r->buf, status)) == -1)
				return -1;
			if (d == 0)
				continue;
			reader_bad(r, n, "unknown directive");
			continue;
		}
		/* XXX: getline() holds an over-long line whole first. */
		if ((size_t)n > LINE_MAX_LEN) {
			reader_bad(r, n, "line too long");
			continue;
		}
		if (r->framed && r->ended) {
			sp_err("%s:%lu: entry after the %%end tail", r->name,
			    r->lineno);
			*status = EX_DATAERR;
			return -1;
		}
		if (entry_parse(r->buf, (size_t)n, e, &why) == -1) {
			reader_bad(r, n, why);
			continue;
		}
		r->count++;
		return 1;
	}
	return *status != 0 ? -1 : 0;
}

/* Writer side */

/* Locks fd for writing both ways, flock(2) then fcntl(2), so that a Cyrus
 * consumer (which may use either) waits for this writer too.  0, or -1. */
static int
lock_append(int fd, const char *path, int *status)
{
	struct flock fl;

	while (flock(fd, LOCK_EX) == -1) {
		if (errno == EINTR)
			continue;
		sp_syserr("%s: lock", path);
		*status = sp_errno_status(errno);
		return -1;
	}
	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	while (fcntl(fd, F_SETLKW, &fl) == -1) {
		if (errno == EINTR)
			continue;
		sp_syserr("%s: lock", path);
		*status = sp_errno_status(errno);
		return -1;
	}
	return 0;
}

/*
 * Opens path for appending and locks it, making sure the locked file is the
 * one at path now (a consumer may have renamed it meanwhile).  The fd, or -1
 * with the status in *status.
 */
static int
append_open(const char *path, int *status)
{
	struct stat a, b;
	int	 fd, tries;

	for (tries = 0; tries < APPEND_TRIES; tries++) {
		fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
		    0600);
		if (fd == -1) {
			sp_syserr("%s: open", path);
			*status = errno == ENOENT || errno == ENOTDIR ?
			    EX_CANTCREAT : sp_errno_status(errno);
			return -1;
		}
		if (lock_append(fd, path, status) == -1) {
			close(fd);
			return -1;
		}
		if (fstat(fd, &a) == 0 && stat(path, &b) == 0 &&
		    a.st_ino == b.st_ino && a.st_dev == b.st_dev)
			return fd;
		/* Renamed under us: this inode belongs to the consumer. */
		close(fd);
	}
	sp_err("%s: renamed again and again while being opened", path);
	*status = EX_TEMPFAIL;
	return -1;
}

int
synclog_append(const char *path, const char *data, size_t len)
{
	int	 fd, status = 0;

	if ((fd = append_open(path, &status)) == -1)
		return status;
	if (write_all(fd, data, len) == -1) {
		sp_syserr("%s: write", path);
		status = sp_errno_status(errno);
	} else if (fsync(fd) == -1) {
		sp_syserr("%s: fsync", path);
		status = sp_errno_status(errno);
	}
	/* Closing fd drops the fcntl(2) lock. */
	(void)flock(fd, LOCK_UN);
	if (close(fd) == -1 && status == 0) {
		sp_syserr("%s: close", path);
		status = sp_errno_status(errno);
	}
	return status;
}

/* Consumer side */

/* Reads the whole of fd into out.  0, or -1 with errno. */
static int
read_all(int fd, struct strbuf *out)
{
	ssize_t	 n;

	for (;;) {
		sb_grow(out, 65536);
		n = read(fd, out->s + out->len, out->cap - out->len - 1);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return -1;
		if (n == 0)
			return 0;
		out->len += (size_t)n;
		out->s[out->len] = '\0';
	}
}

/* Opens LOG-run, renaming LOG to it first when there is no leftover.
 * The fd, or -1: *status 0 when there is nothing to do. */
static int
take_open(const char *path, const char *run, int *status, int *leftover)
{
	int	 fd;

	*status = 0;
	*leftover = 1;
	if ((fd = open(run, O_RDONLY | O_CLOEXEC)) != -1)
		return fd;
	if (errno != ENOENT) {
		sp_syserr("%s: open", run);
		*status = sp_errno_status(errno);
		return -1;
	}
	*leftover = 0;
	if (rename(path, run) == -1) {
		if (errno == ENOENT)
			return -1;
		sp_syserr("%s: rename to %s", path, run);
		*status = sp_errno_status(errno);
		return -1;
	}
	if ((fd = open(run, O_RDONLY | O_CLOEXEC)) == -1) {
		sp_syserr("%s: open", run);
		*status = sp_errno_status(errno);
	}
	return fd;
}

/* Waits until no writer holds a lock on fd: one taken with flock(2), as
 * syncpipe's writers do, or with fcntl(2), as a Cyrus server may. */
static int
wait_writers(int fd, const char *run)
{
	struct flock fl;

	while (flock(fd, LOCK_EX) == -1) {
		if (errno != EINTR) {
			sp_syserr("%s: lock", run);
			return sp_errno_status(errno);
		}
	}
	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_RDLCK;
	fl.l_whence = SEEK_SET;
	while (fcntl(fd, F_SETLKW, &fl) == -1) {
		if (errno != EINTR) {
			sp_syserr("%s: lock", run);
			(void)flock(fd, LOCK_UN);
			return sp_errno_status(errno);
		}
	}
	fl.l_type = F_UNLCK;
	(void)fcntl(fd, F_SETLK, &fl);
	(void)flock(fd, LOCK_UN);
	return 0;
}

int
synclog_take_fd(const char *path, int *fdp, char **runpath, int *leftover)
{
	char	*run;
	int	 fd, status;

	*runpath = NULL;
	*fdp = -1;
	run = xasprintf("%s-run", path);
	if ((fd = take_open(path, run, &status, leftover)) == -1) {
		free(run);
		return status;
	}
	if ((status = wait_writers(fd, run)) != 0) {
		close(fd);
		free(run);
		return status;
	}
	*fdp = fd;
	*runpath = run;
	return 0;
}

int
synclog_take(const char *path, struct strbuf *data, char **runpath,
    int *leftover)
{
	int	 fd, status;

	sb_reset(data);
	if ((status = synclog_take_fd(path, &fd, runpath, leftover)) != 0 ||
	    *runpath == NULL)
		return status;
	if (read_all(fd, data) == -1) {
		sp_syserr("%s: read", *runpath);
		status = sp_errno_status(errno);
		free(*runpath);
		*runpath = NULL;
	}
	close(fd);
	return status;
}

int
synclog_done(const char *runpath)
{
	if (unlink(runpath) == -1) {
		sp_syserr("%s: unlink", runpath);
		return sp_errno_status(errno);
	}
	if (fsync_parent(runpath) == -1) {
		sp_syserr("%s: fsync of its directory", runpath);
		return sp_errno_status(errno);
	}
	return 0;
}
