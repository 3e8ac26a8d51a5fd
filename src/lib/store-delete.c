/*
 * store-delete: mailboxes and users going away.
 *
 * A mailbox is first renamed out of the Maildir, in one step for a folder
 * (its directory), entry by entry for INBOX (cur, new, tmp, the uidlist, the
 * keywords and Dovecot's index files: the folders below the Maildir are not
 * INBOX's).  It goes to ROOT/.syncpipe/attic/HOME/NAME.UIDVALIDITY.TIME
 * when it is kept, else to ROOT/.syncpipe/trash/, where it is removed.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store-int.h"

/* The parts of INBOX inside the Maildir. */
static int
inbox_part(const char *name)
{
	return strcmp(name, "cur") == 0 || strcmp(name, "new") == 0 ||
	    strcmp(name, "tmp") == 0 || strcmp(name, UIDLIST_NAME) == 0 ||
	    strcmp(name, KEYWORDS_NAME) == 0 ||
	    strncmp(name, "dovecot.index", 13) == 0;
}

static int
move_inbox(struct mbloc *loc, int destfd, const char *name)
{
	struct dirent *de;
	DIR *d;
	int fd, dfd, r = 0;

	if (mkdirat(destfd, name, 0700) < 0)
		return -1;
	if ((fd = openat(destfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) < 0)
		return -1;
	if ((dfd = dup(loc->mdfd)) < 0 || (d = fdopendir(dfd)) == NULL) {
		close(fd);
		return -1;
	}
	while (r == 0 && (de = readdir(d)) != NULL)
		if (inbox_part(de->d_name) && renameat(loc->mdfd, de->d_name,
		    fd, de->d_name) < 0 && errno != ENOENT)
			r = -1;
	closedir(d);
	if (r == 0 && fsync(fd) < 0)
		r = -1;
	close(fd);
	return r;
}

/* Renames the mailbox into .syncpipe/attic (keep) or .syncpipe/trash;
 * *destfd and *name say where it went. */
static int
move_aside(struct mbloc *loc, uint32_t uidvalidity, int keep, int *destfd,
    char **name)
{
	char *sub;
	int r, i;

	sub = keep ? xasprintf("attic/%s", loc->home) : xstrdup("trash");
	r = sp_subdir(loc->rootfd, loc->root, sub, destfd);
	free(sub);
	if (r != 0)
		return r;
	for (i = 0; i < 100; i++) {
		if (keep)
			*name = xasprintf("%s.%u.%ld%s%.0d",
			    loc->mb.folder ? loc->mb.folder : "INBOX",
			    (unsigned)uidvalidity, (long)time(NULL),
			    i ? "." : "", i);
		else
			*name = xasprintf("%ld.%ld.%d", (long)getpid(),
			    (long)time(NULL), i);
		if (loc->dirname != NULL)
			r = renameat(loc->mdfd, loc->dirname, *destfd, *name);
		else
			r = move_inbox(loc, *destfd, *name);
		if (r == 0)
			break;
		free(*name);
		*name = NULL;
		if (errno != EEXIST && errno != ENOTEMPTY)
			break;
	}
	if (r != 0 || fsync(loc->mdfd) < 0 || fsync(*destfd) < 0) {
		sp_syserr("%s: moving it aside", loc->path);
		close(*destfd);
		*destfd = -1;
		return sp_errno_status(errno);
	}
	return 0;
}

int
mailbox_move_aside(struct mbloc *loc, uint32_t uidvalidity)
{
	char *name = NULL;
	int fd, r;

	if ((r = move_aside(loc, uidvalidity, 1, &fd, &name)) != 0)
		return r;
	sp_info("%s: kept as %s/%s/attic/%s/%s", loc->name, loc->root, SP_DIR,
	    loc->home, name);
	free(name);
	close(fd);
	return 0;
}

static int
same_identity(const struct uidlist *ul, const char *guid,
    uint32_t uidvalidity)
{
	const char *g = guid == NULL || strcmp(guid, "-") == 0 ? "" : guid;

	return strcmp(ul->guid, g) == 0 && ul->uidvalidity == uidvalidity;
}

static int
delete_locked(struct mbloc *loc, struct dotlock *lk, const char *guid,
    uint32_t uidvalidity, int keep)
{
	struct uidlist ul;
	char *name = NULL;
	int r, fd;

	if ((r = uidlist_read(loc->boxfd, loc->path, &ul)) != 0) {
		dotlock_release(lk);
		return r;
	}
	if (!same_identity(&ul, guid, uidvalidity)) {
		sp_err("%s: now holds another mailbox (GUID %s, UIDVALIDITY "
		    "%u): not deleted", loc->name, ul.guid[0] ? ul.guid : "-",
		    (unsigned)ul.uidvalidity);
		uidlist_free(&ul);
		dotlock_release(lk);
		return EX_TEMPFAIL;
	}
	uidlist_free(&ul);
	r = move_aside(loc, uidvalidity, keep, &fd, &name);
	dotlock_release(lk);
	if (r != 0)
		return r;
	if (keep)
		sp_info("%s: kept as %s/%s/attic/%s/%s", loc->name, loc->root,
		    SP_DIR, loc->home, name);
	else
		r = remove_tree(fd, name, loc->path);
	free(name);
	close(fd);
	return r;
}

int
store_delete_mailbox(struct store *st, const char *name, const char *guid,
    uint32_t uidvalidity, int keep)
{
	struct mbloc loc;
	struct dotlock lk;
	int r;

	if (st->readonly) {
		sp_err("%s: store is read-only", st->root);
		return EX_SOFTWARE;
	}
	r = mbloc_open(st, name, &loc);
	if (r == 0 && loc.boxfd >= 0) {
		r = dotlock_take(loc.boxfd, loc.path, UIDLIST_NAME,
		    UIDLIST_STALE, file_mode(loc.boxfd), &lk);
		if (r == 0)
			r = delete_locked(&loc, &lk, guid, uidvalidity, keep);
	}
	mbloc_close(&loc);
	return r;
}

/* Nonzero if the directory is a user's home (not, say, a domain's). */
static int
looks_like_home(int homefd)
{
	struct stat sb;

	return (fstatat(homefd, "Maildir", &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISDIR(sb.st_mode)) ||
	    (fstatat(homefd, "sieve", &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISDIR(sb.st_mode));
}

/*
 * A user deleted on the master leaves the replica's store, but nothing is
 * destroyed: the home moves to .syncpipe/attic/ as HOME.user.TIME.
 */
int
store_delete_user(struct store *st, const char *userid)
{
	int rootfd, homefd, parent, attic = -1, r;
	char *home = NULL, *slash, *name = NULL, *p;

	if (st->readonly) {
		sp_err("%s: store is read-only", st->root);
		return EX_SOFTWARE;
	}
	r = open_home(st, userid, &rootfd, &homefd, &home);
	if (r != 0 || homefd < 0)
		goto out;
	if (!looks_like_home(homefd)) {
		sp_err("%s/%s: not a user's home (no Maildir, no sieve): user "
		    "%s not deleted", st->root, home, userid);
		r = EX_DATAERR;
		goto out;
	}
	parent = rootfd;
	if ((slash = strchr(home, '/')) != NULL) {
		*slash = '\0';
		r = open_subdir(rootfd, home, st->root, &parent);
		*slash = '/';
		if (r != 0 || parent < 0)
			goto out;
	}
	if ((r = sp_subdir(rootfd, st->root, "attic", &attic)) == 0) {
		name = xasprintf("%s.user.%ld", home, (long)time(NULL));
		for (p = name; *p != '\0'; p++)
			if (*p == '/')
				*p = '!';
		if (renameat(parent, slash ? slash + 1 : home, attic,
		    name) < 0 || fsync(parent) < 0 || fsync(attic) < 0) {
			sp_syserr("%s/%s", st->root, home);
			r = sp_errno_status(errno);
		} else
			sp_info("user %s: kept as %s/%s/attic/%s", userid,
			    st->root, SP_DIR, name);
	}
	if (parent != rootfd)
		close(parent);
out:
	if (attic >= 0)
		close(attic);
	if (homefd >= 0)
		close(homefd);
	if (rootfd >= 0)
		close(rootfd);
	free(home);
	free(name);
	return r;
}
