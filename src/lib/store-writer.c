/*
 * store-writer: one writer of a store at a time.
 *
 * Two sync-apply runs on one store would each take the other's mailbox in
 * the making for a stranger and move it aside; a consumer killed hard may
 * leave its pipeline running while a new one starts.  So a writer holds an
 * exclusive lock on .syncpipe/lock/writer for its whole run, waiting for
 * it up to store_lock_timeout.  Holding it, the writer also clears what
 * writers that were killed left in the staging area.
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <grp.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store-int.h"

/* Removes staging directories whose process is gone. */
static void
clear_stale_stages(int rootfd, const char *root)
{
	struct dirent *de;
	char *end, *what;
	DIR *d;
	long pid;
	int fd;

	if (sp_subdir(rootfd, root, "stage", &fd) != 0)
		return;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		pid = strtol(de->d_name, &end, 10);
		if (end == de->d_name || *end != '.' || pid <= 0 ||
		    pid == (long)getpid() ||
		    kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		what = xasprintf("%s/%s/stage", root, SP_DIR);
		sp_debug("%s/%s: left by a process that is gone: removed",
		    what, de->d_name);
		remove_tree(dirfd(d), de->d_name, what);
		free(what);
	}
	closedir(d);
}

/*
 * Run as root, a writer becomes the owner of the store's root directory
 * (the mail user Dovecot serves it as), so that every file it makes can be
 * read by Dovecot.  A store owned by root is left to root.
 */
int
store_become_owner(struct store *st)
{
	struct stat sb;
	gid_t gid;

	if (geteuid() != 0 || st->absent)
		return 0;
	if (stat(st->root, &sb) != 0) {
		sp_syserr("%s", st->root);
		return sp_errno_status(errno);
	}
	if (sb.st_uid == 0)
		return 0;
	gid = sb.st_gid;
	if (setgroups(1, &gid) != 0 || setgid(sb.st_gid) != 0 ||
	    setuid(sb.st_uid) != 0) {
		sp_syserr("%s: cannot become its owner (uid %ld)", st->root,
		    (long)sb.st_uid);
		return EX_NOPERM;
	}
	sp_debug("%s: working as its owner, uid %ld gid %ld", st->root,
	    (long)sb.st_uid, (long)sb.st_gid);
	return 0;
}

int
store_lock_writer(struct store *st, int *lockfd)
{
	double deadline = now_mono() + store_lock_timeout;
	int rootfd, dfd, fd, r, said = 0;

	*lockfd = -1;
	if ((r = store_rootfd(st, &rootfd)) != 0)
		return r;
	if ((r = sp_subdir(rootfd, st->root, "lock", &dfd)) != 0) {
		close(rootfd);
		return r;
	}
	fd = openat(dfd, "writer", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	close(dfd);
	if (fd < 0) {
		sp_syserr("%s/%s/lock/writer", st->root, SP_DIR);
		close(rootfd);
		return sp_errno_status(errno);
	}
	while (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		if (errno != EWOULDBLOCK && errno != EINTR) {
			sp_syserr("%s: lock", st->root);
			r = sp_errno_status(errno);
		} else if (now_mono() > deadline || sp_stop) {
			sp_err("%s: another writer holds the store", st->root);
			r = EX_TEMPFAIL;
		}
		if (r != 0) {
			close(fd);
			close(rootfd);
			return r;
		}
		if (!said++)
			sp_info("%s: waiting for another writer", st->root);
		usleep(100000);
	}
	clear_stale_stages(rootfd, st->root);
	close(rootfd);
	*lockfd = fd;
	return 0;
}
