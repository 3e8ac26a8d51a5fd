/*
 * util: the small pieces every syncpipe program shares.
 *
 * Rules of the house:
 * - A library function reports what went wrong with sp_err() (or sp_syserr()
 *   when errno tells the reason) and returns an exit status from
 *   <sysexits.h> (EX_DATAERR, EX_TEMPFAIL, ...); 0 means success.  Only main()
 *   decides to exit.  The table of statuses and what they mean for a retry
 *   lives in exitcodes.h.
 * - Messages read "program: where: what went wrong", lowercase, no full stop.
 * - Memory exhaustion is the one error that exits on the spot (EX_OSERR).
 */
#ifndef SP_UTIL_H
#define SP_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "exitcodes.h"

#ifndef SYNCPIPE_VERSION
#define SYNCPIPE_VERSION "0.1.0"
#endif

extern const char *sp_progname;
extern int sp_verbosity;		/* 0 = -q, 1 = default, 2+ = -v */

void	sp_init(const char *argv0);
void	sp_use_syslog(void);
void	sp_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	sp_syserr(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	sp_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	sp_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	sp_print_version(void);

/* Retry-class of an errno from a failed system call: EX_TEMPFAIL for ENOSPC,
 * EINTR, EAGAIN, ENOMEM, EIO, ...; EX_NOPERM for EACCES/EPERM/EROFS;
 * EX_IOERR otherwise. */
int	sp_errno_status(int err);

void	*xmalloc(size_t n);
void	*xcalloc(size_t n, size_t size);
void	*xrealloc(void *p, size_t n);
void	*xreallocarray(void *p, size_t n, size_t size);
char	*xstrdup(const char *s);
char	*xstrndup(const char *s, size_t n);
char	*xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A growable byte string, always NUL-terminated. */
struct strbuf {
	char	*s;
	size_t	 len;
	size_t	 cap;
};
#define STRBUF_INIT { NULL, 0, 0 }
void	sb_grow(struct strbuf *sb, size_t extra);
void	sb_add(struct strbuf *sb, const void *p, size_t n);
void	sb_adds(struct strbuf *sb, const char *s);
void	sb_addc(struct strbuf *sb, int c);
void	sb_addf(struct strbuf *sb, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	sb_reset(struct strbuf *sb);
void	sb_free(struct strbuf *sb);
char	*sb_detach(struct strbuf *sb);

/* A growable array of owned strings. */
struct strvec {
	char	**v;
	size_t	  n;
	size_t	  cap;
};
#define STRVEC_INIT { NULL, 0, 0 }
void	sv_push(struct strvec *sv, const char *s);	/* copies s */
void	sv_push_owned(struct strvec *sv, char *s);
void	sv_sort_uniq(struct strvec *sv);		/* strcmp order */
int	sv_contains(const struct strvec *sv, const char *s); /* sorted */
void	sv_free(struct strvec *sv);

/* I/O that loops over short writes and EINTR.  0 on success, -1 with errno. */
int	write_all(int fd, const void *p, size_t n);
/* Reads exactly n bytes; returns n, or fewer at end of file, -1 on error. */
ssize_t	read_full(int fd, void *p, size_t n);
/* Copies what is left of in into a new file at path (O_EXCL, no symlink
 * followed, mode 0600): its fd, or -1 with errno (the file may be left). */
int	copy_to_new(int in, const char *path);
/* 1 if the two files have the same bytes from here on, 0 if not, -1 on a
 * read error. */
int	same_content(int a, int b);
/* fsync the directory that holds path (or dir itself with fsync_dir). */
int	fsync_dir(const char *dir);
int	fsync_parent(const char *path);
/* mkdir -p with mode; 0 or -1 with errno. */
int	mkdir_p(const char *path, mode_t mode);
/* Writes data to path atomically: path.tmp.PID, fsync, rename, fsync dir.
 * 0 or an exit status (message already printed). */
int	write_file_atomic(const char *path, const void *data, size_t n,
	    mode_t mode);
/* Reads a whole (small) file.  0, or -1 with errno (ENOENT is normal). */
int	read_file(const char *path, struct strbuf *out);

/* Hex of n bytes into out (2n+1 bytes). */
void	hex_encode(const unsigned char *p, size_t n, char *out);

/* Signals: SIGTERM, SIGINT and SIGHUP set sp_stop; SIGPIPE is ignored so
 * that a closed pipe shows as EPIPE and is reported as a quiet stop. */
extern volatile int sp_stop;
void	sp_catch_signals(void);

/* Seconds since the epoch as a double, from CLOCK_MONOTONIC / REALTIME. */
double	now_mono(void);

#endif
