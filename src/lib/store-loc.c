/*
 * store-loc: finding (and creating) a user's home and a mailbox's directory
 * without ever following a symlink, and Dovecot's dotlock.
 *
 * The dotlock is the one of Dovecot's file-dotlock.c as Maildir uses it:
 * NAME.lock created with O_EXCL, holding "pid:host".  A lock is stale when
 * it names a process of this host that is gone (checked only once the lock
 * is two seconds old), or when neither the lock nor the protected file
 * changed for the stale timeout (120 s for the uidlist).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store-int.h"

#define DIR_MODE	0700

int store_lock_timeout = UIDLIST_STALE + 2;

int
store_rootfd(struct store *st, int *fd)
{
	*fd = open(st->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (*fd < 0) {
		sp_syserr("%s", st->root);
		return sp_errno_status(errno);
	}
	return 0;
}

int
read_at(int dirfd, const char *name, struct strbuf *sb,
    struct timespec *mtime)
{
	char buf[8192];
	struct stat st;
	ssize_t r;
	int fd, saved;

	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0)
		goto fail;
	if (mtime != NULL)
		*mtime = st.st_mtim;
	for (;;) {
		r = read(fd, buf, sizeof(buf));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			goto fail;
		if (r == 0)
			break;
		sb_add(sb, buf, (size_t)r);
	}
	close(fd);
	if (sb->s == NULL)
		sb_grow(sb, 0);
	return 0;
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

mode_t
file_mode(int dirfd)
{
	struct stat st;

	if (fstat(dirfd, &st) < 0)
		return 0600;
	return (st.st_mode & 0666) | 0600;
}

int
open_subdir(int dirfd, const char *name, const char *what, int *fd)
{
	struct stat sb;

	*fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	if (*fd >= 0)
		return 0;
	if (errno == ENOENT)
		return 0;
	if (errno == ELOOP || errno == ENOTDIR) {
		if (fstatat(dirfd, name, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISLNK(sb.st_mode))
			sp_err("%s: is a symlink: refused", what);
		else
			sp_err("%s: not a directory", what);
		return EX_NOPERM;
	}
	sp_syserr("%s", what);
	return sp_errno_status(errno);
}

/* Opens ROOT/HOME one component at a time. */
int
open_home(struct store *st, const char *userid, int *rootfd, int *homefd,
    char **home)
{
	const char *why;
	char *path, *slash;
	int st_, dfd = -1;

	*rootfd = *homefd = -1;
	if ((*home = userid_home(userid, &why)) == NULL) {
		sp_err("user %s: %s", userid, why);
		return EX_NOPERM;
	}
	if (st->absent)
		return 0;
	if ((st_ = store_rootfd(st, rootfd)) != 0)
		return st_;
	slash = strchr(*home, '/');
	if (slash == NULL) {
		path = xasprintf("%s/%s", st->root, *home);
		st_ = open_subdir(*rootfd, *home, path, homefd);
		free(path);
		return st_;
	}
	*slash = '\0';
	path = xasprintf("%s/%s", st->root, *home);
	st_ = open_subdir(*rootfd, *home, path, &dfd);
	free(path);
	*slash = '/';
	if (st_ != 0 || dfd < 0)
		return st_;
	path = xasprintf("%s/%s", st->root, *home);
	st_ = open_subdir(dfd, slash + 1, path, homefd);
	free(path);
	close(dfd);
	return st_;
}

int
mbloc_open(struct store *st, const char *name, struct mbloc *loc)
{
	const char *why;
	char *userid, *what;
	int st_;

	memset(loc, 0, sizeof(*loc));
	loc->rootfd = loc->homefd = loc->mdfd = loc->boxfd = -1;
	loc->name = xstrdup(name);
	loc->root = st->root;
	if (mbname_parse(name, &loc->mb, &why) != 0) {
		sp_err("mailbox %s: %s", name, why);
		return EX_NOPERM;
	}
	userid = userid_make(loc->mb.user, loc->mb.domain);
	st_ = open_home(st, userid, &loc->rootfd, &loc->homefd, &loc->home);
	free(userid);
	if (loc->mb.folder != NULL)
		loc->dirname = xasprintf(".%s", loc->mb.folder);
	loc->path = xasprintf("%s/%s/Maildir%s%s", st->root, loc->home,
	    loc->dirname ? "/" : "", loc->dirname ? loc->dirname : "");
	if (st_ != 0 || loc->homefd < 0)
		return st_;
	what = xasprintf("%s/%s/Maildir", st->root, loc->home);
	st_ = open_subdir(loc->homefd, "Maildir", what, &loc->mdfd);
	free(what);
	if (st_ != 0 || loc->mdfd < 0)
		return st_;
	if (loc->dirname == NULL) {
		if ((loc->boxfd = dup(loc->mdfd)) < 0) {
			sp_syserr("%s", loc->path);
			return sp_errno_status(errno);
		}
		return 0;
	}
	return open_subdir(loc->mdfd, loc->dirname, loc->path, &loc->boxfd);
}

void
mbloc_close(struct mbloc *loc)
{
	if (loc->boxfd >= 0)
		close(loc->boxfd);
	if (loc->mdfd >= 0)
		close(loc->mdfd);
	if (loc->homefd >= 0)
		close(loc->homefd);
	if (loc->rootfd >= 0)
		close(loc->rootfd);
	mbname_free(&loc->mb);
	free(loc->name);
	free(loc->home);
	free(loc->path);
	free(loc->dirname);
	memset(loc, 0, sizeof(*loc));
	loc->rootfd = loc->homefd = loc->mdfd = loc->boxfd = -1;
}

/* mkdir NAME in dirfd if missing, fsync dirfd, open it. */
int
make_subdir(int dirfd, const char *name, const char *what, int *fd)
{
	int st;

	if ((st = open_subdir(dirfd, name, what, fd)) != 0 || *fd >= 0)
		return st;
	if (mkdirat(dirfd, name, DIR_MODE) < 0 && errno != EEXIST) {
		sp_syserr("%s", what);
		return sp_errno_status(errno);
	}
	if (fsync(dirfd) < 0) {
		sp_syserr("%s: fsync", what);
		return sp_errno_status(errno);
	}
	if ((st = open_subdir(dirfd, name, what, fd)) != 0)
		return st;
	if (*fd < 0) {
		sp_err("%s: vanished after mkdir", what);
		return EX_TEMPFAIL;
	}
	return 0;
}

int
make_home(struct mbloc *loc, const char *root)
{
	char *slash, *what;
	int st, dfd;

	slash = strchr(loc->home, '/');
	if (slash == NULL) {
		what = xasprintf("%s/%s", root, loc->home);
		st = make_subdir(loc->rootfd, loc->home, what, &loc->homefd);
		free(what);
		return st;
	}
	*slash = '\0';
	what = xasprintf("%s/%s", root, loc->home);
	st = make_subdir(loc->rootfd, loc->home, what, &dfd);
	*slash = '/';
	free(what);
	if (st != 0)
		return st;
	what = xasprintf("%s/%s", root, loc->home);
	st = make_subdir(dfd, slash + 1, what, &loc->homefd);
	free(what);
	close(dfd);
	return st;
}

static int
make_marker(int dirfd, const char *what)
{
	int fd;

	fd = openat(dirfd, "maildirfolder", O_WRONLY | O_CREAT | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
	if (fd < 0) {
		sp_syserr("%s/maildirfolder", what);
		return sp_errno_status(errno);
	}
	if (fsync(fd) < 0 || close(fd) < 0) {
		sp_syserr("%s/maildirfolder", what);
		return sp_errno_status(errno);
	}
	return 0;
}

int
mbloc_create(struct mbloc *loc)
{
	static const char *const sub[] = { "cur", "new", "tmp" };
	char *what;
	size_t i;
	int st, fd;

	st = loc->homefd >= 0 ? 0 : make_home(loc, loc->root);
	what = xasprintf("%s/%s/Maildir", loc->root, loc->home);
	if (st == 0 && loc->mdfd < 0)
		st = make_subdir(loc->homefd, "Maildir", what, &loc->mdfd);
	free(what);
	if (st == 0 && loc->boxfd < 0) {
		if (loc->dirname == NULL) {
			if ((loc->boxfd = dup(loc->mdfd)) < 0)
				st = sp_errno_status(errno);
		} else
			st = make_subdir(loc->mdfd, loc->dirname, loc->path,
			    &loc->boxfd);
	}
	for (i = 0; st == 0 && i < 3; i++) {
		what = xasprintf("%s/%s", loc->path, sub[i]);
		if ((st = make_subdir(loc->boxfd, sub[i], what, &fd)) == 0)
			close(fd);
		free(what);
	}
	if (st == 0 && loc->dirname != NULL)
		st = make_marker(loc->boxfd, loc->path);
	if (st == 0 && fsync(loc->boxfd) < 0) {
		sp_syserr("%s: fsync", loc->path);
		st = sp_errno_status(errno);
	}
	return st;
}

int
sp_subdir(int rootfd, const char *root, const char *sub, int *fd)
{
	char *what, *part, *p;
	int st, dfd, next;

	what = xasprintf("%s/%s", root, SP_DIR);
	st = make_subdir(rootfd, SP_DIR, what, &dfd);
	free(what);
	part = xstrdup(sub);
	for (p = strtok(part, "/"); st == 0 && p != NULL;
	    p = strtok(NULL, "/")) {
		what = xasprintf("%s/%s/%s", root, SP_DIR, sub);
		st = make_subdir(dfd, p, what, &next);
		free(what);
		close(dfd);
		dfd = next;
	}
	free(part);
	*fd = st == 0 ? dfd : -1;
	return st;
}

static int
remove_entries(int fd, const char *what)
{
	struct dirent *de;
	struct stat sb;
	DIR *d;
	char *sub;
	int st = 0, dfd;

	if ((dfd = dup(fd)) < 0 || (d = fdopendir(dfd)) == NULL) {
		sp_syserr("%s", what);
		return sp_errno_status(errno);
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (fstatat(fd, de->d_name, &sb, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISDIR(sb.st_mode)) {
			sub = xasprintf("%s/%s", what, de->d_name);
			st = sp_status_worst(st, remove_tree(fd, de->d_name,
			    sub));
			free(sub);
		} else if (unlinkat(fd, de->d_name, 0) < 0 &&
		    errno != ENOENT) {
			sp_syserr("%s/%s", what, de->d_name);
			st = sp_status_worst(st, sp_errno_status(errno));
		}
	}
	closedir(d);
	return st;
}

int
remove_tree(int dirfd, const char *name, const char *what)
{
	int fd, st;

	if ((st = open_subdir(dirfd, name, what, &fd)) != 0 || fd < 0)
		return st;
	st = remove_entries(fd, what);
	close(fd);
	if (st == 0 && unlinkat(dirfd, name, AT_REMOVEDIR) < 0 &&
	    errno != ENOENT) {
		sp_syserr("%s", what);
		st = sp_errno_status(errno);
	}
	return st;
}

/* Dotlock. */

struct lockwatch {
	int		 seen;
	time_t		 last_change;
	struct stat	 lock, file;
	int		 file_seen;
};

static int
stat_changed(const struct stat *a, const struct stat *b)
{
	return a->st_ino != b->st_ino || a->st_dev != b->st_dev ||
	    a->st_mtime != b->st_mtime || a->st_ctime != b->st_ctime ||
	    a->st_size != b->st_size;
}

/* 1 if the lock holder named in the file is a process of ours that is
 * gone. */
static int
holder_gone(int dirfd, const char *lockname)
{
	char buf[512], host[256], *colon, *end;
	ssize_t n;
	long pid;
	int fd;

	fd = openat(dirfd, lockname, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	if (buf[n - 1] == '\n')
		buf[n - 1] = '\0';
	if ((colon = strchr(buf, ':')) == NULL)
		return 0;
	*colon = '\0';
	if (gethostname(host, sizeof(host)) < 0)
		return 0;
	host[sizeof(host) - 1] = '\0';
	if (strcmp(colon + 1, host) != 0)
		return 0;
	errno = 0;
	pid = strtol(buf, &end, 10);
	if (errno != 0 || *end != '\0' || pid <= 0 || pid == getpid())
		return 0;
	return kill((pid_t)pid, 0) < 0 && errno == ESRCH;
}

/* 1 if the lock is stale and may be overridden, 0 to keep waiting. */
static int
lock_stale(int dirfd, const struct dotlock *lk, struct lockwatch *w,
    int stale)
{
	struct stat sb;
	time_t now = time(NULL);

	if (fstatat(dirfd, lk->lockname, &sb, AT_SYMLINK_NOFOLLOW) < 0)
		return 0;
	if (!w->seen) {
		w->last_change = sb.st_mtime <= now ? sb.st_mtime : now;
		w->seen = 1;
	} else if (stat_changed(&sb, &w->lock))
		w->last_change = now;
	w->lock = sb;
	if (sb.st_mtime < now - 2 && holder_gone(dirfd, lk->lockname))
		return 1;
	if (fstatat(dirfd, lk->name, &sb, AT_SYMLINK_NOFOLLOW) == 0) {
		if (w->file_seen && stat_changed(&sb, &w->file))
			w->last_change = now;
		w->file = sb;
		w->file_seen = 1;
	}
	return now > w->last_change + stale;
}

static int
lock_created(int fd, struct dotlock *lk)
{
	char host[256], *s;
	struct stat sb;
	int st = 0;

	if (gethostname(host, sizeof(host)) < 0)
		strcpy(host, "localhost");
	host[sizeof(host) - 1] = '\0';
	s = xasprintf("%ld:%s", (long)getpid(), host);
	if (write_all(fd, s, strlen(s)) < 0 || fstat(fd, &sb) < 0) {
		sp_syserr("%s", lk->what);
		st = sp_errno_status(errno);
		unlinkat(lk->dirfd, lk->lockname, 0);
		close(fd);
	} else {
		lk->fd = fd;
		lk->dev = sb.st_dev;
		lk->ino = sb.st_ino;
		lk->touched = time(NULL);
	}
	free(s);
	return st;
}

static void
lock_clear(struct dotlock *lk)
{
	free(lk->name);
	free(lk->lockname);
	free(lk->what);
	memset(lk, 0, sizeof(*lk));
	lk->fd = -1;
}

int
dotlock_take(int dirfd, const char *dirpath, const char *name, int stale,
    mode_t mode, struct dotlock *lk)
{
	struct lockwatch w;
	struct timespec pause;
	double deadline, wait = 0.05;
	int fd, st;

	memset(lk, 0, sizeof(*lk));
	memset(&w, 0, sizeof(w));
	lk->fd = -1;
	lk->dirfd = dirfd;
	lk->name = xstrdup(name);
	lk->lockname = xasprintf("%s.lock", name);
	lk->what = xasprintf("%s/%s", dirpath, lk->lockname);
	deadline = now_mono() + store_lock_timeout;
	for (;;) {
		fd = openat(dirfd, lk->lockname, O_RDWR | O_CREAT | O_EXCL |
		    O_NOFOLLOW | O_CLOEXEC, mode);
		if (fd >= 0) {
			if ((st = lock_created(fd, lk)) != 0)
				lock_clear(lk);
			return st;
		}
		if (errno != EEXIST) {
			sp_syserr("%s", lk->what);
			st = sp_errno_status(errno);
			lock_clear(lk);
			return st;
		}
		if (lock_stale(dirfd, lk, &w, stale)) {
			sp_info("%s: overriding a stale lock", lk->what);
			if (unlinkat(dirfd, lk->lockname, 0) == 0 ||
			    errno == ENOENT) {
				memset(&w, 0, sizeof(w));
				continue;
			}
		}
		if (now_mono() >= deadline) {
			sp_err("%s: mailbox busy (lock held for %d s)",
			    lk->what, store_lock_timeout);
			lock_clear(lk);
			return EX_TEMPFAIL;
		}
		pause.tv_sec = 0;
		pause.tv_nsec = (long)(wait * 1e9);
		nanosleep(&pause, NULL);
		if (wait < 1.0)
			wait *= 1.5;
	}
}

void
dotlock_touch(struct dotlock *lk)
{
	time_t now = time(NULL);

	if (lk->fd < 0 || now - lk->touched < 30)
		return;
	if (futimens(lk->fd, NULL) == 0)
		lk->touched = now;
}

/* Nonzero if the lock file at the path is still the one we created. */
static int
lock_is_ours(const struct dotlock *lk)
{
	struct stat sb;

	if (fstatat(lk->dirfd, lk->lockname, &sb, AT_SYMLINK_NOFOLLOW) < 0)
		return 0;
	return sb.st_dev == lk->dev && sb.st_ino == lk->ino;
}

static int
later_mtime(int fd, const struct timespec *old)
{
	struct timespec ts[2];
	struct stat sb;

	if (old == NULL || fstat(fd, &sb) < 0)
		return 0;
	if (sb.st_mtim.tv_sec > old->tv_sec ||
	    (sb.st_mtim.tv_sec == old->tv_sec &&
	    sb.st_mtim.tv_nsec > old->tv_nsec))
		return 0;
	ts[0].tv_sec = 0;
	ts[0].tv_nsec = UTIME_OMIT;
	ts[1].tv_sec = old->tv_sec + 1;
	ts[1].tv_nsec = 0;
	return futimens(fd, ts);
}

int
dotlock_replace(struct dotlock *lk, const void *data, size_t n,
    const struct timespec *old)
{
	int st = 0;

	if (!lock_is_ours(lk)) {
		sp_err("%s: our lock was taken over", lk->what);
		close(lk->fd);
		lock_clear(lk);
		return EX_TEMPFAIL;
	}
	if (ftruncate(lk->fd, 0) < 0 || lseek(lk->fd, 0, SEEK_SET) < 0 ||
	    write_all(lk->fd, data, n) < 0 || later_mtime(lk->fd, old) < 0 ||
	    fsync(lk->fd) < 0) {
		sp_syserr("%s", lk->what);
		st = sp_errno_status(errno);
		unlinkat(lk->dirfd, lk->lockname, 0);
	} else if (renameat(lk->dirfd, lk->lockname, lk->dirfd,
	    lk->name) < 0) {
		sp_syserr("%s: rename", lk->what);
		st = sp_errno_status(errno);
		unlinkat(lk->dirfd, lk->lockname, 0);
	} else if (fsync(lk->dirfd) < 0) {
		sp_syserr("%s: fsync directory", lk->what);
		st = sp_errno_status(errno);
	}
	close(lk->fd);
	lock_clear(lk);
	return st;
}

void
dotlock_release(struct dotlock *lk)
{
	if (lk->fd < 0)
		return;
	if (lock_is_ours(lk))
		unlinkat(lk->dirfd, lk->lockname, 0);
	else
		sp_info("%s: our lock was taken over", lk->what);
	close(lk->fd);
	lock_clear(lk);
}
