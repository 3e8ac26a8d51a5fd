/*
 * store-mbtx: a transaction on one mailbox (see store.h).
 *
 * begin takes dovecot-uidlist.lock and reads the mailbox; every change is
 * made on disk at once, and only by adding a file under a new name,
 * renaming or unlinking one: a staged body gets its mtime and is renamed
 * into cur/ as BASE:2,FLAGS; new flags rename the file (a file in new/
 * moves to cur/, as Dovecot does when it changes flags); an expunge
 * unlinks it.  A new keyword is written to dovecot-keywords before any file
 * name uses its letter.  commit fsyncs cur/ and new/, writes the uidlist
 * into the lock file, fsyncs it and renames it over dovecot-uidlist.
 *
 * When a message gets a UID below the mailbox's old next UID, or the
 * mailbox gets a new identity, Dovecot's index files of the mailbox are
 * removed at commit: Dovecot takes a listed UID below what its index
 * handed out for an expunged message and would renumber it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <search.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store-int.h"

struct bent {
	const char	*base;
	uint32_t	 uid;
	int		 ghost;
};

struct mbtx {
	struct store	*st;
	struct mbloc	 loc;
	struct mbstate	 s;
	struct dotlock	 lk;
	void		*bybase;	/* tsearch tree of struct bent */
	size_t		 cap;		/* of s.mb.msgs */
	size_t		 ngone;
	uint32_t	 old_uidnext;
	int		 dirty_cur, dirty_new, changed, drop_index;
	char		*hidden;	/* new folder, built in Maildir/tmp */
	int		 tmpfd;		/* Maildir/tmp, while hidden */
};

static int
cmp_bent(const void *a, const void *b)
{
	return strcmp(((const struct bent *)a)->base,
	    ((const struct bent *)b)->base);
}

static void
tree_add(struct mbtx *tx, const char *base, uint32_t uid, int ghost)
{
	struct bent *e = xmalloc(sizeof(*e)), **found;

	e->base = base;
	e->uid = uid;
	e->ghost = ghost;
	found = tsearch(e, &tx->bybase, cmp_bent);
	if (found == NULL) {
		sp_err("out of memory");
		exit(EX_OSERR);
	}
	if (*found != e) {	/* already there: replace */
		**found = *e;
		free(e);
	}
}

static struct bent *
tree_find(struct mbtx *tx, const char *base)
{
	struct bent key, **found;

	key.base = base;
	found = tfind(&key, &tx->bybase, cmp_bent);
	return found != NULL ? *found : NULL;
}

static void
tree_del(struct mbtx *tx, const char *base)
{
	struct bent *e = tree_find(tx, base);

	if (e != NULL) {
		tdelete(e, &tx->bybase, cmp_bent);
		free(e);
	}
}

static void
tree_build(struct mbtx *tx)
{
	size_t i;

	for (i = 0; i < tx->s.mb.nmsgs; i++)
		tree_add(tx, tx->s.mb.msgs[i].base, tx->s.mb.msgs[i].uid, 0);
	for (i = 0; i < tx->s.ul.n; i++)
		tree_add(tx, tx->s.ul.recs[i].base, tx->s.ul.recs[i].uid, 1);
	tx->cap = tx->s.mb.nmsgs;
}

static void
tree_free(struct mbtx *tx)
{
	while (tx->bybase != NULL) {
		struct bent *e = *(struct bent **)tx->bybase;

		tdelete(e, &tx->bybase, cmp_bent);
		free(e);
	}
}

/* Index of the message with this UID (possibly expunged), or -1. */
static ssize_t
find_uid(const struct mbtx *tx, uint32_t uid)
{
	const struct msg *m = tx->s.mb.msgs;
	size_t lo = 0, hi = tx->s.mb.nmsgs, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (m[mid].uid == uid && uid != 0)
			return (ssize_t)mid;
		if (m[mid].uid == 0 || m[mid].uid > uid)
			hi = mid;
		else
			lo = mid + 1;
	}
	return -1;
}

static ssize_t
find_base(const struct mbtx *tx, const struct bent *e)
{
	size_t i;

	if (e->uid != 0)
		return find_uid(tx, e->uid);
	for (i = tx->s.mb.nmsgs; i > 0; i--) {
		const struct msg *m = &tx->s.mb.msgs[i - 1];

		if (m->uid != 0)
			break;
		if (m->base != NULL && strcmp(m->base, e->base) == 0)
			return (ssize_t)(i - 1);
	}
	return -1;
}

static void
drop_ghost(struct mbtx *tx, uint32_t uid, const char *base)
{
	size_t i;

	for (i = 0; i < tx->s.ul.n; i++) {
		struct ulrec *g = &tx->s.ul.recs[i];

		if (g->base == NULL || (g->uid != uid &&
		    strcmp(g->base, base) != 0))
			continue;
		tree_del(tx, g->base);
		free(g->base);
		g->base = NULL;
		tx->changed = 1;
	}
}

/* The uidlist fields of a UID's old record don't belong to a new one. */
static void
drop_ext(struct mbtx *tx, uint32_t uid)
{
	size_t lo = 0, hi = tx->s.nexts, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (tx->s.exts[mid].uid == uid) {
			free(tx->s.exts[mid].ext);
			tx->s.exts[mid].ext = NULL;
			return;
		}
		if (tx->s.exts[mid].uid > uid)
			hi = mid;
		else
			lo = mid + 1;
	}
}

static void
compact(struct mbtx *tx)
{
	size_t i, j;

	if (tx->ngone == 0)
		return;
	for (i = j = 0; i < tx->s.mb.nmsgs; i++) {
		if (tx->s.mb.msgs[i].file == NULL) {
			msg_free_fields(&tx->s.mb.msgs[i]);
			continue;
		}
		tx->s.mb.msgs[j++] = tx->s.mb.msgs[i];
	}
	tx->s.mb.nmsgs = j;
	tx->ngone = 0;
}

static void
tx_free(struct mbtx *tx)
{
	tree_free(tx);
	dotlock_release(&tx->lk);
	if (tx->hidden != NULL)
		remove_tree(tx->tmpfd, tx->hidden, tx->loc.path);
	if (tx->tmpfd >= 0)
		close(tx->tmpfd);
	free(tx->hidden);
	mbstate_free(&tx->s);
	mbloc_close(&tx->loc);
	free(tx);
}

static int
tx_reload(struct mbtx *tx)
{
	int st;

	tree_free(tx);
	mbstate_free(&tx->s);
	if ((st = mbstate_load(&tx->loc, &tx->s)) != 0)
		return st;
	tree_build(tx);
	tx->old_uidnext = tx->s.mb.uidnext;
	return 0;
}

static int
tx_lock_load(struct mbtx *tx)
{
	int st;

	st = dotlock_take(tx->loc.boxfd, tx->loc.path, UIDLIST_NAME,
	    UIDLIST_STALE, file_mode(tx->loc.boxfd), &tx->lk);
	return st != 0 ? st : tx_reload(tx);
}

int
mbtx_begin(struct store *st, const char *name, struct mbtx **txp)
{
	struct mbtx *tx;
	int r;

	*txp = NULL;
	if (st->readonly) {
		sp_err("%s: store is read-only", st->root);
		return EX_SOFTWARE;
	}
	tx = xcalloc(1, sizeof(*tx));
	tx->st = st;
	tx->lk.fd = -1;
	tx->tmpfd = -1;
	tx->s.cur_fd = tx->s.new_fd = -1;
	if ((r = mbloc_open(st, name, &tx->loc)) == 0) {
		if (tx->loc.boxfd >= 0)
			r = tx_lock_load(tx);
		else
			r = mbstate_load(&tx->loc, &tx->s);
	}
	if (r != 0) {
		tx_free(tx);
		return r;
	}
	*txp = tx;
	return 0;
}

/* Expunged messages stay in the array (file NULL, which mailbox_find_uid
 * skips) until enough of them pile up: compacting on every call would make
 * a run of expunges quadratic. */
const struct mailbox *
mbtx_mailbox(struct mbtx *tx)
{
	if (tx->ngone * 8 >= tx->s.mb.nmsgs)
		compact(tx);
	return &tx->s.mb;
}

static int
guid_ok(const char *g)
{
	size_t i;

	for (i = 0; g[i] != '\0'; i++)
		if (!((g[i] >= '0' && g[i] <= '9') ||
		    (g[i] >= 'a' && g[i] <= 'f')))
			return 0;
	return i == GUID_HEX_LEN;
}

static void
set_identity(struct mbtx *tx, const char *guid, uint32_t uidvalidity,
    uint32_t uidnext)
{
	struct mailbox *mb = &tx->s.mb;

	if (mb->uidvalidity != 0 && (mb->uidvalidity != uidvalidity ||
	    strcmp(mb->guid, guid) != 0))
		tx->drop_index = 1;
	memcpy(mb->guid, guid, GUID_HEX_LEN + 1);
	mb->uidvalidity = uidvalidity;
	if (uidnext > mb->uidnext)
		mb->uidnext = uidnext;
	tx->s.ul.exists = 1;
	tx->changed = 1;
}

/*
 * A new mailbox is built where no reader looks and renamed into place when
 * it commits, so that a reader never sees it half filled and a crash leaves
 * only a directory nobody reads: a folder as Maildir/tmp/syncpipe.PID.NAME,
 * the INBOX of a user without a Maildir as HOME/Maildir.syncpipe.PID.
 */
static int
create_hidden(struct mbtx *tx)
{
	struct mbloc *loc = &tx->loc;
	char *what;
	int st, inbox = loc->dirname == NULL;

	st = loc->homefd >= 0 ? 0 : make_home(loc, loc->root);
	what = xasprintf("%s/%s/Maildir", loc->root, loc->home);
	if (st == 0 && !inbox && loc->mdfd < 0)
		st = make_subdir(loc->homefd, "Maildir", what, &loc->mdfd);
	free(what);
	what = xasprintf("%s/%s/Maildir/tmp", loc->root, loc->home);
	if (st == 0 && !inbox)
		st = make_subdir(loc->mdfd, "tmp", what, &tx->tmpfd);
	else if (st == 0 && (tx->tmpfd = dup(loc->homefd)) < 0)
		st = sp_errno_status(errno);
	free(what);
	if (st != 0)
		return st;
	tx->hidden = inbox ? xasprintf("Maildir.syncpipe.%ld",
	    (long)getpid()) : xasprintf("syncpipe.%ld%s", (long)getpid(),
	    loc->dirname);
	st = make_subdir(tx->tmpfd, tx->hidden, loc->path,
	    inbox ? &loc->mdfd : &loc->boxfd);
	if (st == 0 && inbox && (loc->boxfd = dup(loc->mdfd)) < 0)
		st = sp_errno_status(errno);
	if (st != 0) {
		free(tx->hidden);
		tx->hidden = NULL;
	}
	return st;
}

/* XXX: a hidden mailbox left by a crash stays until removed by hand; the
 * next run builds a new one. */

/* Puts a mailbox built hidden in its place. */
static int
reveal(struct mbtx *tx)
{
	int inbox = tx->loc.dirname == NULL;
	int dirfd = inbox ? tx->tmpfd : tx->loc.mdfd;

	if (renameat(tx->tmpfd, tx->hidden, dirfd,
	    inbox ? "Maildir" : tx->loc.dirname) < 0 || fsync(dirfd) < 0) {
		sp_syserr("%s", tx->loc.path);
		return errno == EEXIST || errno == ENOTEMPTY ? EX_TEMPFAIL :
		    sp_errno_status(errno);
	}
	free(tx->hidden);
	tx->hidden = NULL;
	return 0;
}

int
mbtx_create(struct mbtx *tx, const char *guid, uint32_t uidvalidity,
    uint32_t uidnext)
{
	int st;

	if (!guid_ok(guid) || uidvalidity == 0) {
		sp_err("%s: bad mailbox identity %s %u", tx->loc.name, guid,
		    (unsigned)uidvalidity);
		return EX_DATAERR;
	}
	if (tx->loc.boxfd < 0 && (tx->loc.dirname != NULL ||
	    tx->loc.mdfd < 0) && (st = create_hidden(tx)) != 0)
		return st;
	if (tx->loc.boxfd < 0 || tx->s.cur_fd < 0 || tx->s.new_fd < 0) {
		if ((st = mbloc_create(&tx->loc)) != 0)
			return st;
		st = tx->lk.fd >= 0 ? tx_reload(tx) : tx_lock_load(tx);
		if (st != 0)
			return st;
	}
	set_identity(tx, guid, uidvalidity, uidnext);
	return 0;
}

int
mbtx_replace(struct mbtx *tx, const char *guid, uint32_t uidvalidity,
    uint32_t uidnext)
{
	int st;

	if (!guid_ok(guid) || uidvalidity == 0) {
		sp_err("%s: bad mailbox identity %s %u", tx->loc.name, guid,
		    (unsigned)uidvalidity);
		return EX_DATAERR;
	}
	if (tx->loc.boxfd < 0)
		return mbtx_create(tx, guid, uidvalidity, uidnext);
	if ((st = mailbox_move_aside(&tx->loc, tx->s.mb.uidvalidity)) != 0)
		return st;
	if (tx->loc.dirname != NULL) {
		/* the lock went with the directory */
		dotlock_release(&tx->lk);
		close(tx->loc.boxfd);
		tx->loc.boxfd = -1;
	}
	tree_free(tx);
	mbstate_free(&tx->s);
	if ((st = mbloc_create(&tx->loc)) != 0)
		return st;
	st = tx->lk.fd >= 0 ? tx_reload(tx) : tx_lock_load(tx);
	if (st != 0)
		return st;
	tx->old_uidnext = 1;	/* the index files went aside too */
	return mbtx_create(tx, guid, uidvalidity, uidnext);
}

/* Letters for keyword names (added to dovecot-keywords when new, which is
 * written before any file name uses them); the names as stored go to kw. */
static int
kw_letters(struct mbtx *tx, const struct strvec *keywords, char *letters,
    struct strvec *kw)
{
	size_t i, n = 0;
	const char *p;
	int idx;

	for (i = 0; keywords != NULL && i < keywords->n; i++) {
		for (p = keywords->v[i]; *p > ' ' && *p != 0x7f; p++)
			;
		if (*p != '\0' || p == keywords->v[i]) {
			sp_info("%s: keyword \"%s\" cannot be stored: dropped",
			    tx->loc.name, keywords->v[i]);
			continue;
		}
		idx = kw_index(&tx->s.kw, keywords->v[i], 1);
		if (idx < 0) {
			sp_info("%s: no keyword letter left for %s: dropped",
			    tx->loc.name, keywords->v[i]);
			continue;
		}
		if (memchr(letters, 'a' + idx, n) == NULL) {
			letters[n++] = (char)('a' + idx);
			sv_push(kw, tx->s.kw.name[idx]);
		}
	}
	letters[n] = '\0';
	sv_sort_uniq(kw);
	if (tx->s.kw.changed)
		return kw_write(tx->loc.boxfd, tx->loc.path, &tx->s.kw);
	return 0;
}

static int
need_box(struct mbtx *tx)
{
	if (tx->loc.boxfd >= 0 && tx->lk.fd >= 0)
		return 0;
	sp_err("%s: mailbox does not exist", tx->loc.name);
	return EX_SOFTWARE;
}

/* Finds the current file of a base name in cur/ or new/ (it may have been
 * renamed by someone else): 0 with *dirfd and *name, -1 if gone. */
static int
relocate(struct mbtx *tx, const char *base, int *dirfd, char **name)
{
	int fds[2] = { tx->s.cur_fd, tx->s.new_fd }, i, fd;
	size_t n = strlen(base);
	struct dirent *de;
	DIR *d;

	for (i = 0; i < 2; i++) {
		if (fds[i] < 0 || (fd = dup(fds[i])) < 0)
			continue;
		if ((d = fdopendir(fd)) == NULL) {
			close(fd);
			continue;
		}
		while ((de = readdir(d)) != NULL)
			if (strncmp(de->d_name, base, n) == 0 &&
			    (de->d_name[n] == ':' || de->d_name[n] == '\0')) {
				*dirfd = fds[i];
				*name = xstrdup(de->d_name);
				closedir(d);
				return 0;
			}
		closedir(d);
	}
	return -1;
}

/* Renames message m to cur/NEWNAME. */
static int
rename_msg(struct mbtx *tx, struct msg *m, const char *newname)
{
	int dfd, isnew = strncmp(m->file, "new/", 4) == 0;
	char *old = NULL;

	dfd = isnew ? tx->s.new_fd : tx->s.cur_fd;
	if (renameat(dfd, m->file + 4, tx->s.cur_fd, newname) < 0) {
		if (errno != ENOENT || relocate(tx, m->base, &dfd, &old) < 0 ||
		    renameat(dfd, old, tx->s.cur_fd, newname) < 0) {
			sp_syserr("%s/%s", tx->loc.path, m->file);
			free(old);
			return errno == ENOENT ? EX_TEMPFAIL :
			    sp_errno_status(errno);
		}
		isnew = dfd == tx->s.new_fd;
		free(old);
	}
	tx->dirty_cur = 1;
	tx->dirty_new |= isnew;
	free(m->file);
	m->file = xasprintf("cur/%s", newname);
	return 0;
}

static int
check_args(struct mbtx *tx, const char *flags, char out[8])
{
	if (flags_normalize(flags, out) != 0) {
		sp_err("%s: bad flags \"%s\"", tx->loc.name, flags);
		return EX_DATAERR;
	}
	return 0;
}

int
mbtx_set_flags(struct mbtx *tx, uint32_t uid, const char *flags,
    const struct strvec *keywords)
{
	struct strvec kw = STRVEC_INIT;
	char fl[8], letters[KW_MAX + 1], *name;
	struct msg *m;
	ssize_t i;
	int st;

	if ((st = need_box(tx)) != 0 || (st = check_args(tx, flags, fl)) != 0)
		return st;
	if ((i = find_uid(tx, uid)) < 0 || tx->s.mb.msgs[i].file == NULL) {
		sp_err("%s: no message with UID %u", tx->loc.name,
		    (unsigned)uid);
		return EX_TEMPFAIL;
	}
	if ((st = kw_letters(tx, keywords, letters, &kw)) != 0) {
		sv_free(&kw);
		return st;
	}
	m = &tx->s.mb.msgs[i];
	name = fname_make(m->base, fl, letters);
	if (strcmp(m->file + 4, name) != 0 || strncmp(m->file, "cur/", 4))
		st = rename_msg(tx, m, name);
	free(name);
	if (st == 0) {
		memcpy(m->flags, fl, sizeof(fl));
		sv_free(&m->keywords);
		m->keywords = kw;
	} else
		sv_free(&kw);
	dotlock_touch(&tx->lk);
	return st;
}

/* Makes room for a message with this UID, in UID order; returns it. */
static struct msg *
insert_slot(struct mbtx *tx, uint32_t uid)
{
	struct mailbox *mb = &tx->s.mb;
	size_t lo = 0, hi = mb->nmsgs, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (mb->msgs[mid].uid == 0 || mb->msgs[mid].uid > uid)
			hi = mid;
		else
			lo = mid + 1;
	}
	if (mb->nmsgs == tx->cap) {
		tx->cap = tx->cap ? tx->cap * 2 : 64;
		mb->msgs = xreallocarray(mb->msgs, tx->cap, sizeof(*mb->msgs));
	}
	memmove(&mb->msgs[lo + 1], &mb->msgs[lo],
	    (mb->nmsgs - lo) * sizeof(*mb->msgs));
	mb->nmsgs++;
	memset(&mb->msgs[lo], 0, sizeof(*mb->msgs));
	mb->msgs[lo].uid = uid;
	return &mb->msgs[lo];
}

static void
note_uid(struct mbtx *tx, uint32_t uid)
{
	if (uid >= tx->s.mb.uidnext)
		tx->s.mb.uidnext = uid + 1;
	if (uid < tx->old_uidnext)
		tx->drop_index = 1;
	drop_ext(tx, uid);
	tx->changed = 1;
}

/* A message with the same base is already here (a crash left it, or the
 * same change is applied twice): it takes the UID if it has none, and the
 * flags. */
static int
adopt(struct mbtx *tx, struct bent *e, uint32_t uid, const char *flags,
    const struct strvec *keywords)
{
	ssize_t i = find_base(tx, e);
	struct msg m, *slot;

	if (i < 0 || tx->s.mb.msgs[i].file == NULL)
		return -1;
	if (e->uid != 0 && e->uid != uid) {
		sp_err("%s: %s is already there with UID %u", tx->loc.name,
		    e->base, (unsigned)e->uid);
		return EX_TEMPFAIL;
	}
	if (e->uid == 0) {
		if (find_uid(tx, uid) >= 0) {
			sp_err("%s: UID %u already holds another message",
			    tx->loc.name, (unsigned)uid);
			return EX_TEMPFAIL;
		}
		m = tx->s.mb.msgs[i];
		memmove(&tx->s.mb.msgs[i], &tx->s.mb.msgs[i + 1],
		    (tx->s.mb.nmsgs - i - 1) * sizeof(m));
		tx->s.mb.nmsgs--;
		slot = insert_slot(tx, uid);
		*slot = m;
		slot->uid = uid;
		e->uid = uid;
		note_uid(tx, uid);
	}
	return mbtx_set_flags(tx, uid, flags, keywords);
}

static int
place_body(struct mbtx *tx, const char *staged, const char *name,
    int64_t mtime, uint64_t *size)
{
	struct timespec ts[2];
	struct stat sb;

	ts[0].tv_sec = 0;
	ts[0].tv_nsec = UTIME_OMIT;
	ts[1].tv_sec = (time_t)mtime;
	ts[1].tv_nsec = 0;
	/* A body staged by sync-apply has its mtime already. */
	if (lstat(staged, &sb) < 0 || (sb.st_mtime != (time_t)mtime &&
	    utimensat(AT_FDCWD, staged, ts, AT_SYMLINK_NOFOLLOW) < 0)) {
		sp_syserr("%s", staged);
		return sp_errno_status(errno);
	}
	if (!S_ISREG(sb.st_mode)) {
		sp_err("%s: staged body is not a regular file", staged);
		return EX_SOFTWARE;
	}
	if (renameat(AT_FDCWD, staged, tx->s.cur_fd, name) < 0) {
		sp_syserr("%s/cur/%s", tx->loc.path, name);
		return sp_errno_status(errno);
	}
	*size = (uint64_t)sb.st_size;
	tx->dirty_cur = 1;
	return 0;
}

static int
check_add(struct mbtx *tx, uint32_t uid, const char *base)
{
	const char *why;

	if (uid == 0 || uid == UINT32_MAX) {
		sp_err("%s: bad UID %u", tx->loc.name, (unsigned)uid);
		return EX_DATAERR;
	}
	if (!name_component_ok(base, &why) || strchr(base, ':') != NULL) {
		sp_err("%s: message %s: %s", tx->loc.name, base,
		    strchr(base, ':') ? "':' in base name" : why);
		return EX_DATAERR;
	}
	return need_box(tx);
}

int
mbtx_add(struct mbtx *tx, uint32_t uid, const char *base, const char *flags,
    const struct strvec *keywords, int64_t mtime, const char *staged)
{
	struct strvec kw = STRVEC_INIT;
	char fl[8], letters[KW_MAX + 1], *name;
	struct bent *e;
	struct msg *m;
	uint64_t size = 0;
	ssize_t i;
	int st;

	if ((st = check_add(tx, uid, base)) != 0 ||
	    (st = check_args(tx, flags, fl)) != 0)
		return st;
	if ((e = tree_find(tx, base)) != NULL && !e->ghost &&
	    (st = adopt(tx, e, uid, flags, keywords)) >= 0)
		return st;
	if ((i = find_uid(tx, uid)) >= 0 && tx->s.mb.msgs[i].file != NULL) {
		sp_err("%s: UID %u already holds %s", tx->loc.name,
		    (unsigned)uid, tx->s.mb.msgs[i].base);
		return EX_TEMPFAIL;
	}
	if ((st = kw_letters(tx, keywords, letters, &kw)) != 0) {
		sv_free(&kw);
		return st;
	}
	name = fname_make(base, fl, letters);
	if ((st = place_body(tx, staged, name, mtime, &size)) != 0) {
		free(name);
		sv_free(&kw);
		return st;
	}
	drop_ghost(tx, uid, base);
	if (i >= 0) {		/* an expunged message's slot */
		msg_free_fields(&tx->s.mb.msgs[i]);
		tx->ngone--;
		m = &tx->s.mb.msgs[i];
		m->uid = uid;
	} else
		m = insert_slot(tx, uid);
	m->base = xstrdup(base);
	m->file = xasprintf("cur/%s", name);
	memcpy(m->flags, fl, sizeof(fl));
	m->keywords = kw;
	m->mtime = mtime;
	m->size = size;
	free(name);
	tree_add(tx, m->base, uid, 0);
	note_uid(tx, uid);
	dotlock_touch(&tx->lk);
	return 0;
}

int
mbtx_expunge(struct mbtx *tx, uint32_t uid)
{
	struct msg *m;
	char *old = NULL;
	ssize_t i;
	int dfd, st;

	if ((st = need_box(tx)) != 0)
		return st;
	if ((i = find_uid(tx, uid)) < 0 || tx->s.mb.msgs[i].file == NULL) {
		drop_ghost(tx, uid, "");
		return 0;
	}
	m = &tx->s.mb.msgs[i];
	dfd = strncmp(m->file, "new/", 4) == 0 ? tx->s.new_fd : tx->s.cur_fd;
	if (unlinkat(dfd, m->file + 4, 0) < 0) {
		if (errno != ENOENT) {
			sp_syserr("%s/%s", tx->loc.path, m->file);
			return sp_errno_status(errno);
		}
		if (relocate(tx, m->base, &dfd, &old) == 0 &&
		    unlinkat(dfd, old, 0) < 0 && errno != ENOENT) {
			sp_syserr("%s/%s", tx->loc.path, old);
			free(old);
			return sp_errno_status(errno);
		}
		free(old);
	}
	if (dfd == tx->s.new_fd)
		tx->dirty_new = 1;
	else
		tx->dirty_cur = 1;
	tree_del(tx, m->base);
	free(m->file);
	m->file = NULL;
	tx->ngone++;
	tx->changed = 1;
	dotlock_touch(&tx->lk);
	return 0;
}

void
mbtx_set_uidnext(struct mbtx *tx, uint32_t uidnext)
{
	if (uidnext > tx->s.mb.uidnext) {
		tx->s.mb.uidnext = uidnext;
		tx->changed = 1;
	}
}

/* Removes Dovecot's index files of the mailbox (see the top). */
static void
drop_index(struct mbtx *tx)
{
	struct dirent *de;
	DIR *d;
	int fd;

	if ((fd = dup(tx->loc.boxfd)) < 0 || (d = fdopendir(fd)) == NULL) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((de = readdir(d)) != NULL)
		if (strncmp(de->d_name, "dovecot.index", 13) == 0 &&
		    unlinkat(tx->loc.boxfd, de->d_name, 0) == 0)
			sp_debug("%s/%s: removed", tx->loc.path, de->d_name);
	closedir(d);
}

static int
sync_dirs(struct mbtx *tx)
{
	if (tx->dirty_cur && tx->s.cur_fd >= 0 && fsync(tx->s.cur_fd) < 0) {
		sp_syserr("%s/cur: fsync", tx->loc.path);
		return sp_errno_status(errno);
	}
	if (tx->dirty_new && tx->s.new_fd >= 0 && fsync(tx->s.new_fd) < 0) {
		sp_syserr("%s/new: fsync", tx->loc.path);
		return sp_errno_status(errno);
	}
	return 0;
}

int
mbtx_commit(struct mbtx *tx)
{
	struct strbuf sb = STRBUF_INIT;
	int st = 0;

	if (tx->lk.fd < 0) {
		tx_free(tx);
		return 0;
	}
	compact(tx);
	if (tx->s.kw.changed)
		st = kw_write(tx->loc.boxfd, tx->loc.path, &tx->s.kw);
	if (st == 0)
		st = sync_dirs(tx);
	if (st == 0 && tx->changed) {
		if (tx->s.mb.guid[0] == '\0') {
			st = uidlist_new_identity(&tx->s.ul);
			memcpy(tx->s.mb.guid, tx->s.ul.guid,
			    sizeof(tx->s.mb.guid));
			if (tx->s.mb.uidvalidity == 0)
				tx->s.mb.uidvalidity = tx->s.ul.uidvalidity;
		}
		if (tx->drop_index)
			drop_index(tx);
		mbstate_uidlist(&tx->s, &sb);
		if (st == 0)
			st = dotlock_replace(&tx->lk, sb.s, sb.len,
			    tx->s.ul.mtime.tv_sec ? &tx->s.ul.mtime : NULL);
		sb_free(&sb);
	}
	if (st == 0 && tx->hidden != NULL)
		st = reveal(tx);
	tx_free(tx);
	return st;
}

void
mbtx_abort(struct mbtx *tx)
{
	if (tx != NULL)
		tx_free(tx);
}
