/*
 * store-rename: renaming a folder within one user's Maildir.
 *
 * A Maildir++ folder is one directory, so a rename is one rename(2) of that
 * directory under the folder's uidlist lock, after checking that it still
 * is the mailbox the caller means (GUID and UIDVALIDITY).  The folder's
 * children are directories of their own and are renamed by their own calls.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "store-int.h"

/* 1 if the mailbox at loc has this identity, 0 if not, or -status. */
static int
has_identity(struct mbloc *loc, const char *guid, uint32_t uidvalidity)
{
	struct uidlist ul;
	int r;

	if ((r = uidlist_read(loc->boxfd, loc->path, &ul)) != 0)
		return -r;
	r = strcmp(ul.guid, guid) == 0 && ul.uidvalidity == uidvalidity;
	uidlist_free(&ul);
	return r;
}

static int
rename_locked(struct mbloc *from, struct mbloc *to, const char *guid,
    uint32_t uidvalidity)
{
	struct dotlock lk;
	int r;

	r = dotlock_take(from->boxfd, from->path, UIDLIST_NAME, UIDLIST_STALE,
	    file_mode(from->boxfd), &lk);
	if (r != 0)
		return r;
	if ((r = has_identity(from, guid, uidvalidity)) <= 0) {
		if (r == 0)
			sp_err("%s: now holds another mailbox: not renamed",
			    from->name);
		dotlock_release(&lk);
		return r == 0 ? EX_TEMPFAIL : -r;
	}
	r = 0;
	if (renameat(from->mdfd, from->dirname, to->mdfd, to->dirname) < 0 ||
	    fsync(from->mdfd) < 0) {
		sp_syserr("%s: rename to %s", from->path, to->path);
		r = sp_errno_status(errno);
	}
	/* The lock file moved with the directory; boxfd still refers to it. */
	dotlock_release(&lk);
	return r;
}

int
store_rename_mailbox(struct store *st, const char *from, const char *to,
    const char *guid, uint32_t uidvalidity)
{
	struct mbloc a, b;
	int r, have;

	if (st->readonly) {
		sp_err("%s: store is read-only", st->root);
		return EX_SOFTWARE;
	}
	if ((r = mbloc_open(st, from, &a)) != 0 ||
	    (r = mbloc_open(st, to, &b)) != 0)
		goto out;
	if (a.dirname == NULL || b.dirname == NULL ||
	    strcmp(a.home, b.home) != 0) {
		sp_err("%s: cannot be renamed to %s: only folders of one user "
		    "are renamed", from, to);
		r = EX_DATAERR;
	} else if (b.boxfd >= 0) {
		/* Already renamed by an earlier run, or taken. */
		have = has_identity(&b, guid, uidvalidity);
		if (have == 0)
			sp_err("%s: already exists: %s not renamed", to, from);
		r = have > 0 ? 0 : have == 0 ? EX_TEMPFAIL : -have;
	} else if (a.boxfd < 0) {
		sp_err("%s: not on the replica: not renamed", from);
		r = EX_TEMPFAIL;
	} else
		r = rename_locked(&a, &b, guid, uidvalidity);
out:
	mbloc_close(&a);
	mbloc_close(&b);
	return r;
}
