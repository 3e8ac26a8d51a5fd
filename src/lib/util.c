/*
 * util: messages, memory, strings and careful file I/O shared by every
 * program.  See util.h for the rules.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

const char	*sp_progname = "syncpipe";
int		 sp_verbosity = 1;
volatile int	 sp_stop;

static int	 use_syslog;

void
sp_init(const char *argv0)
{
	const char *slash;
	int fd;

	/* A descriptor 0, 1 or 2 closed by the caller would be handed to
	 * the next file we open, and our output would land in it.  Fill the
	 * hole with /dev/null opened for reading only: output to a closed
	 * stdout then fails (EBADF) instead of vanishing. */
	while ((fd = open("/dev/null", O_RDONLY)) >= 0 && fd <= 2)
		;
	if (fd > 2)
		close(fd);
	if (argv0 == NULL || *argv0 == '\0')
		return;
	slash = strrchr(argv0, '/');
	sp_progname = slash != NULL && slash[1] != '\0' ? slash + 1 : argv0;
}

void
sp_use_syslog(void)
{
	openlog(sp_progname, LOG_PID, LOG_MAIL);
	use_syslog = 1;
}

/* One message: "prog: text[: reason]" on stderr, or text at prio in syslog. */
static void
emit(int prio, const char *reason, const char *fmt, va_list ap)
{
	char buf[2048];

	vsnprintf(buf, sizeof(buf), fmt, ap);
	if (use_syslog) {
		if (reason != NULL)
			syslog(prio, "%s: %s", buf, reason);
		else
			syslog(prio, "%s", buf);
		return;
	}
	if (reason != NULL)
		fprintf(stderr, "%s: %s: %s\n", sp_progname, buf, reason);
	else
		fprintf(stderr, "%s: %s\n", sp_progname, buf);
}

void
sp_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emit(LOG_ERR, NULL, fmt, ap);
	va_end(ap);
}

void
sp_syserr(const char *fmt, ...)
{
	va_list ap;
	int saved = errno;

	va_start(ap, fmt);
	emit(LOG_ERR, strerror(saved), fmt, ap);
	va_end(ap);
	errno = saved;
}

void
sp_info(const char *fmt, ...)
{
	va_list ap;

	if (sp_verbosity < 1)
		return;
	va_start(ap, fmt);
	emit(LOG_INFO, NULL, fmt, ap);
	va_end(ap);
}

void
sp_debug(const char *fmt, ...)
{
	va_list ap;

	if (sp_verbosity < 2)
		return;
	va_start(ap, fmt);
	emit(LOG_DEBUG, NULL, fmt, ap);
	va_end(ap);
}

void
sp_print_version(void)
{
	printf("%s (syncpipe) %s\n", sp_progname, SYNCPIPE_VERSION);
}

int
sp_errno_status(int err)
{
	switch (err) {
	case ENOSPC:
	case EDQUOT:
	case EINTR:
	case EAGAIN:
	case ENOMEM:
	case EIO:
	case EBUSY:
	case ETIMEDOUT:
	case EMFILE:
	case ENFILE:
	case ECONNRESET:
	case ECONNREFUSED:
	case EHOSTUNREACH:
	case ENETUNREACH:
		return EX_TEMPFAIL;
	case EACCES:
	case EPERM:
	case EROFS:
		return EX_NOPERM;
	case EISDIR:
	case ENOTDIR:
	case ELOOP:
	case ENAMETOOLONG:
		return EX_CANTCREAT;
	default:
		return EX_IOERR;
	}
}

/* Rank of a status for sp_status_worst(): success, a difference found,
 * temporary failure, permanent failure. */
static int
status_rank(int st)
{
	if (st == 0)
		return 0;
	if (st == SP_EX_DIFF)
		return 1;
	if (sp_status_is_temporary(st))
		return 2;
	return 3;
}

int
sp_status_worst(int a, int b)
{
	return status_rank(b) > status_rank(a) ? b : a;
}

/* Memory: running out is the one failure that exits on the spot. */
static void
oom(void)
{
	sp_err("out of memory");
	exit(EX_OSERR);
}

void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		oom();
	return p;
}

void *
xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (p == NULL)
		oom();
	return p;
}

void *
xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (q == NULL)
		oom();
	return q;
}

void *
xreallocarray(void *p, size_t n, size_t size)
{
	if (size != 0 && n > SIZE_MAX / size)
		oom();
	return xrealloc(p, n * size);
}

char *
xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *
xstrndup(const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	char *p = xmalloc(len + 1);

	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

char *
xasprintf(const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		oom();
	sb_grow(&sb, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(sb.s, (size_t)n + 1, fmt, ap);
	va_end(ap);
	sb.len = (size_t)n;
	return sb_detach(&sb);
}

/* Growable strings. */
void
sb_grow(struct strbuf *sb, size_t extra)
{
	size_t need, cap;

	if (extra > SIZE_MAX - sb->len - 1)
		oom();
	need = sb->len + extra + 1;
	if (sb->s != NULL && need <= sb->cap)
		return;
	cap = sb->cap ? sb->cap : 64;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	sb->s = xrealloc(sb->s, cap);
	sb->cap = cap;
	sb->s[sb->len] = '\0';
}

void
sb_add(struct strbuf *sb, const void *p, size_t n)
{
	sb_grow(sb, n);
	if (n > 0)
		memcpy(sb->s + sb->len, p, n);
	sb->len += n;
	sb->s[sb->len] = '\0';
}

void
sb_adds(struct strbuf *sb, const char *s)
{
	sb_add(sb, s, strlen(s));
}

void
sb_addc(struct strbuf *sb, int c)
{
	char ch = (char)c;

	sb_add(sb, &ch, 1);
}

void
sb_addf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		oom();
	sb_grow(sb, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(sb->s + sb->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	sb->len += (size_t)n;
}

void
sb_reset(struct strbuf *sb)
{
	sb->len = 0;
	if (sb->s != NULL)
		sb->s[0] = '\0';
}

void
sb_free(struct strbuf *sb)
{
	free(sb->s);
	sb->s = NULL;
	sb->len = sb->cap = 0;
}

char *
sb_detach(struct strbuf *sb)
{
	char *s;

	if (sb->s == NULL)
		sb_grow(sb, 0);
	s = sb->s;
	sb->s = NULL;
	sb->len = sb->cap = 0;
	return s;
}

/* Arrays of strings. */
void
sv_push(struct strvec *sv, const char *s)
{
	sv_push_owned(sv, xstrdup(s));
}

void
sv_push_owned(struct strvec *sv, char *s)
{
	if (sv->n == sv->cap) {
		sv->cap = sv->cap ? sv->cap * 2 : 8;
		sv->v = xreallocarray(sv->v, sv->cap, sizeof(*sv->v));
	}
	sv->v[sv->n++] = s;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void
sv_sort_uniq(struct strvec *sv)
{
	size_t i, j;

	if (sv->n < 2)
		return;
	qsort(sv->v, sv->n, sizeof(*sv->v), cmp_str);
	for (i = 1, j = 0; i < sv->n; i++) {
		if (strcmp(sv->v[i], sv->v[j]) == 0)
			free(sv->v[i]);
		else
			sv->v[++j] = sv->v[i];
	}
	sv->n = j + 1;
}

int
sv_contains(const struct strvec *sv, const char *s)
{
	if (sv->n == 0)
		return 0;
	return bsearch(&s, sv->v, sv->n, sizeof(*sv->v), cmp_str) != NULL;
}

void
sv_free(struct strvec *sv)
{
	size_t i;

	for (i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	sv->v = NULL;
	sv->n = sv->cap = 0;
}

/* I/O. */
int
write_all(int fd, const void *p, size_t n)
{
	const char *c = p;
	ssize_t w;

	while (n > 0) {
		w = write(fd, c, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

ssize_t
read_full(int fd, void *p, size_t n)
{
	char *c = p;
	size_t got = 0;
	ssize_t r;

	while (got < n) {
		r = read(fd, c + got, n - got);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

int
fsync_dir(const char *dir)
{
	int fd, rc, saved;

	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	rc = fsync(fd);
	saved = errno;
	close(fd);
	/* Some file systems cannot fsync a directory; that is not an error. */
	if (rc < 0 && (saved == EINVAL || saved == ENOTSUP))
		rc = 0;
	errno = saved;
	return rc;
}

int
fsync_parent(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir;
	int rc, saved;

	if (slash == NULL)
		return fsync_dir(".");
	if (slash == path)
		return fsync_dir("/");
	dir = xstrndup(path, (size_t)(slash - path));
	rc = fsync_dir(dir);
	saved = errno;
	free(dir);
	errno = saved;
	return rc;
}

int
mkdir_p(const char *path, mode_t mode)
{
	char *p, *s, c;
	struct stat sb;
	int rc = 0;

	if (*path == '\0') {
		errno = ENOENT;
		return -1;
	}
	p = xstrdup(path);
	for (s = p + 1; rc == 0; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		c = *s;
		*s = '\0';
		if (mkdir(p, mode) < 0 && errno != EEXIST)
			rc = -1;
		else if (stat(p, &sb) < 0)
			rc = -1;
		else if (!S_ISDIR(sb.st_mode)) {
			errno = ENOTDIR;
			rc = -1;
		}
		*s = c;
		if (c == '\0')
			break;
	}
	free(p);
	return rc;
}

/* Writes, fsyncs and closes the temporary file; 0 or exit status. */
static int
write_tmp(const char *tmp, const void *data, size_t n, mode_t mode)
{
	int fd;

	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    mode);
	if (fd < 0 && errno == EEXIST) {
		/* Left by a dead process that had our pid. */
		if (unlink(tmp) == 0)
			fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL |
			    O_NOFOLLOW | O_CLOEXEC, mode);
		else
			errno = EEXIST;
	}
	if (fd < 0) {
		sp_syserr("%s: cannot create", tmp);
		return errno == EEXIST ? EX_TEMPFAIL : sp_errno_status(errno);
	}
	if (write_all(fd, data, n) < 0 || fsync(fd) < 0) {
		int st = sp_errno_status(errno);

		sp_syserr("%s: write", tmp);
		close(fd);
		unlink(tmp);
		return st;
	}
	if (close(fd) < 0) {
		int st = sp_errno_status(errno);

		sp_syserr("%s: close", tmp);
		unlink(tmp);
		return st;
	}
	return 0;
}

int
write_file_atomic(const char *path, const void *data, size_t n, mode_t mode)
{
	char *tmp;
	int st;

	tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
	st = write_tmp(tmp, data, n, mode);
	if (st != 0)
		goto out;
	if (rename(tmp, path) < 0) {
		st = sp_errno_status(errno);
		sp_syserr("%s: rename", path);
		unlink(tmp);
		goto out;
	}
	if (fsync_parent(path) < 0) {
		st = sp_errno_status(errno);
		sp_syserr("%s: fsync directory", path);
	}
out:
	free(tmp);
	return st;
}

int
read_file(const char *path, struct strbuf *out)
{
	char buf[8192];
	ssize_t r;
	int fd, saved;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	for (;;) {
		r = read(fd, buf, sizeof(buf));
		if (r < 0) {
			if (errno == EINTR)
				continue;
			saved = errno;
			close(fd);
			errno = saved;
			return -1;
		}
		if (r == 0)
			break;
		sb_add(out, buf, (size_t)r);
	}
	close(fd);
	if (out->s == NULL)
		sb_grow(out, 0);
	return 0;
}

void
hex_encode(const unsigned char *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 0xf];
	}
	out[2 * n] = '\0';
}

/* Signals. */
static void
on_stop_signal(int sig)
{
	(void)sig;
	sp_stop = 1;
}

void
sp_catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_stop_signal;
	sa.sa_flags = 0;	/* no SA_RESTART: a blocking read returns EINTR */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
}

double
now_mono(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) < 0)
		clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
copy_to_new(int in, const char *path)
{
	char buf[65536];
	ssize_t n;
	int out, saved;

	out = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (out < 0)
		return -1;
	while ((n = read_full(in, buf, sizeof(buf))) > 0)
		if (write_all(out, buf, n) != 0)
			break;
	if (n != 0) {
		saved = errno;
		close(out);
		errno = saved;
		return -1;
	}
	return out;
}

int
same_content(int a, int b)
{
	char x[16384], y[16384];
	ssize_t nx, ny;

	do {
		nx = read_full(a, x, sizeof(x));
		ny = read_full(b, y, sizeof(y));
		if (nx < 0 || ny < 0)
			return -1;
		if (nx != ny || memcmp(x, y, nx) != 0)
			return 0;
	} while (nx > 0);
	return 1;
}
