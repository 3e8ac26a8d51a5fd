/*
 * store-mailbox: reading one mailbox: its uidlist, its keywords and the
 * files in cur/ and new/, matched by base name.
 *
 * Files whose name starts with '.', holds CR or LF, or that are not
 * regular files (a symlink among the messages is never followed) are not
 * messages; Dovecot skips the same names.  A base name seen twice keeps the
 * copy in cur/.  Uidlist records without a file are kept aside and written
 * back when the uidlist is rewritten, as Dovecot keeps them until its index
 * says they were expunged: a file being renamed while we scan must not lose
 * its UID.
 *
 * New messages (files not in the uidlist) get UIDs as Dovecot gives them
 * (maildir_uidlist_assign_uids): sorted by the time at the start of the
 * file name, then the microseconds of "M<usecs>", then the rest of the base
 * name (maildir_filename_sort_cmp), numbered from the next UID.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store-int.h"

void
msg_free_fields(struct msg *m)
{
	free(m->base);
	free(m->file);
	sv_free(&m->keywords);
	memset(m, 0, sizeof(*m));
}

int
msg_cmp(const void *a, const void *b)
{
	const struct msg *x = a, *y = b;

	if (x->uid != y->uid) {
		if (x->uid == 0 || y->uid == 0)
			return x->uid == 0 ? 1 : -1;
		return x->uid < y->uid ? -1 : 1;
	}
	return strcmp(x->base, y->base);
}

static int
cmp_base_file(const void *a, const void *b)
{
	const struct msg *x = a, *y = b;
	int c = strcmp(x->base, y->base);

	return c != 0 ? c : strcmp(x->file, y->file);
}

static void
add_msg(struct msg **msgs, size_t *n, size_t *cap, const char *dir,
    const char *name, const struct stat *sb, const struct kwlist *kw)
{
	struct msg *m;

	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 256;
		*msgs = xreallocarray(*msgs, *cap, sizeof(**msgs));
	}
	m = &(*msgs)[(*n)++];
	memset(m, 0, sizeof(*m));
	m->base = xstrndup(name, fname_baselen(name));
	m->file = xasprintf("%s/%s", dir, name);
	m->mtime = (int64_t)sb->st_mtime;
	m->size = (uint64_t)sb->st_size;
	fname_flags(name, kw, m->flags, &m->keywords);
}

static int
scan_dir(int fd, const char *dir, const char *path, const struct kwlist *kw,
    struct msg **msgs, size_t *n, size_t *cap)
{
	struct dirent *de;
	struct stat sb;
	DIR *d;
	int dfd;

	if ((dfd = dup(fd)) < 0 || (d = fdopendir(dfd)) == NULL) {
		sp_syserr("%s/%s", path, dir);
		if (dfd >= 0)
			close(dfd);
		return sp_errno_status(errno);
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' || strpbrk(de->d_name, "\r\n"))
			continue;
		if (fstatat(fd, de->d_name, &sb, AT_SYMLINK_NOFOLLOW) < 0)
			continue;	/* renamed or expunged meanwhile */
		if (!S_ISREG(sb.st_mode)) {
			sp_info("%s/%s/%s: not a regular file: skipped", path,
			    dir, de->d_name);
			continue;
		}
		if (fname_baselen(de->d_name) == 0)
			continue;
		add_msg(msgs, n, cap, dir, de->d_name, &sb, kw);
	}
	closedir(d);
	return 0;
}

int
scan_messages(int cur_fd, int new_fd, const char *path,
    const struct kwlist *kw, struct msg **msgs, size_t *n)
{
	size_t cap = 0, i, j;
	int st = 0;

	*msgs = NULL;
	*n = 0;
	if (cur_fd >= 0)
		st = scan_dir(cur_fd, "cur", path, kw, msgs, n, &cap);
	if (st == 0 && new_fd >= 0)
		st = scan_dir(new_fd, "new", path, kw, msgs, n, &cap);
	if (*n > 1)
		qsort(*msgs, *n, sizeof(**msgs), cmp_base_file);
	for (i = j = 0; i < *n; i++) {
		if (j > 0 && strcmp((*msgs)[j - 1].base,
		    (*msgs)[i].base) == 0) {
			sp_info("%s: %s: also seen as %s: ignored", path,
			    (*msgs)[j - 1].file, (*msgs)[i].file);
			msg_free_fields(&(*msgs)[i]);
			continue;
		}
		(*msgs)[j++] = (*msgs)[i];
	}
	*n = j;
	return st;
}

static int
cmp_rec_base(const void *a, const void *b)
{
	const struct ulrec *x = a, *y = b;
	int c = strcmp(x->base, y->base);

	if (c != 0)
		return c;
	return x->uid > y->uid ? -1 : x->uid < y->uid;	/* later first */
}

static int
cmp_rec_uid(const void *a, const void *b)
{
	const struct ulrec *x = a, *y = b;

	return x->uid < y->uid ? -1 : x->uid > y->uid;
}

static void
push_rec(struct ulrec **v, size_t *n, size_t *cap, struct ulrec r)
{
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 64;
		*v = xreallocarray(*v, *cap, sizeof(**v));
	}
	(*v)[(*n)++] = r;
}

/* A file listed twice keeps its latest UID, as in Dovecot. */
static size_t
drop_older(struct ulrec *recs, size_t n)
{
	size_t i, j;

	for (i = j = 0; i < n; i++) {
		if (j > 0 && strcmp(recs[j - 1].base, recs[i].base) == 0) {
			free(recs[i].base);
			free(recs[i].ext);
			continue;
		}
		recs[j++] = recs[i];
	}
	return j;
}

/* Gives each file its uidlist UID; the records left are kept aside. */
static void
match_uids(struct mbstate *s)
{
	struct ulrec *recs = s->ul.recs, *ghosts = NULL;
	size_t nr = s->ul.n, i = 0, j = 0, ng = 0, gcap = 0, ecap = 0;
	struct msg *m = s->mb.msgs;
	int c;

	if (nr > 1)
		qsort(recs, nr, sizeof(*recs), cmp_rec_base);
	nr = drop_older(recs, nr);
	while (i < nr) {
		c = j < s->mb.nmsgs ? strcmp(recs[i].base, m[j].base) : -1;
		if (c > 0) {
			j++;
			continue;
		}
		if (c == 0) {
			m[j++].uid = recs[i].uid;
			free(recs[i].base);
			recs[i].base = NULL;
			if (recs[i].ext != NULL)
				push_rec(&s->exts, &s->nexts, &ecap, recs[i]);
		} else
			push_rec(&ghosts, &ng, &gcap, recs[i]);
		i++;
	}
	free(recs);
	s->ul.recs = ghosts;
	s->ul.n = ng;
	s->ul.cap = gcap;
	if (ng > 1)
		qsort(ghosts, ng, sizeof(*ghosts), cmp_rec_uid);
	if (s->nexts > 1)
		qsort(s->exts, s->nexts, sizeof(*s->exts), cmp_rec_uid);
}

static void
set_identity(struct mbstate *s)
{
	memcpy(s->mb.guid, s->ul.guid, sizeof(s->mb.guid));
	s->mb.uidvalidity = s->ul.uidvalidity;
	s->mb.uidnext = s->ul.nextuid ? s->ul.nextuid : 1;
}

int
mbstate_load(struct mbloc *loc, struct mbstate *s)
{
	char *what;
	int st;

	memset(s, 0, sizeof(*s));
	s->cur_fd = s->new_fd = -1;
	s->mb.name = xstrdup(loc->name);
	if (loc->boxfd < 0)
		return 0;
	s->mb.exists = 1;
	if ((st = uidlist_read(loc->boxfd, loc->path, &s->ul)) != 0 ||
	    (st = kw_read(loc->boxfd, loc->path, &s->kw)) != 0)
		return st;
	what = xasprintf("%s/cur", loc->path);
	st = open_subdir(loc->boxfd, "cur", what, &s->cur_fd);
	free(what);
	if (st != 0)
		return st;
	what = xasprintf("%s/new", loc->path);
	st = open_subdir(loc->boxfd, "new", what, &s->new_fd);
	free(what);
	if (st != 0)
		return st;
	st = scan_messages(s->cur_fd, s->new_fd, loc->path, &s->kw,
	    &s->mb.msgs, &s->mb.nmsgs);
	if (st != 0)
		return st;
	/* a Maildir without cur/ (only folders below it) is no INBOX yet */
	s->mb.exists = s->cur_fd >= 0 || s->ul.exists;
	match_uids(s);
	if (s->mb.nmsgs > 1)
		qsort(s->mb.msgs, s->mb.nmsgs, sizeof(*s->mb.msgs), msg_cmp);
	set_identity(s);
	return 0;
}

void
mbstate_free(struct mbstate *s)
{
	size_t i;

	mailbox_free(&s->mb);
	uidlist_free(&s->ul);
	kw_free(&s->kw);
	for (i = 0; i < s->nexts; i++)
		free(s->exts[i].ext);
	free(s->exts);
	if (s->cur_fd >= 0)
		close(s->cur_fd);
	if (s->new_fd >= 0)
		close(s->new_fd);
	memset(s, 0, sizeof(*s));
	s->cur_fd = s->new_fd = -1;
}

static int
cmp_new_msg(const void *a, const void *b)
{
	const struct msg *x = a, *y = b;

	/* "cur/" and "new/" are not part of the name Dovecot compares */
	return fname_sort_cmp(x->file + 4, y->file + 4);
}

int
mbstate_assign(struct mbstate *s, int *changed)
{
	size_t first, i;
	int st;

	*changed = 0;
	for (first = s->mb.nmsgs; first > 0; first--)
		if (s->mb.msgs[first - 1].uid != 0)
			break;
	if (first == s->mb.nmsgs && s->ul.exists && s->ul.guid[0] != '\0')
		return 0;
	if ((st = uidlist_new_identity(&s->ul)) != 0)
		return st;
	if (s->mb.nmsgs > first)
		qsort(s->mb.msgs + first, s->mb.nmsgs - first,
		    sizeof(*s->mb.msgs), cmp_new_msg);
	for (i = first; i < s->mb.nmsgs; i++) {
		if (s->ul.nextuid == UINT32_MAX) {
			sp_err("%s: out of UIDs", s->mb.name);
			return EX_DATAERR;
		}
		s->mb.msgs[i].uid = s->ul.nextuid++;
	}
	s->ul.exists = 1;
	set_identity(s);
	*changed = 1;
	return 0;
}

static const char *
ext_of(const struct mbstate *s, uint32_t uid)
{
	struct ulrec key, *r;

	if (s->nexts == 0)
		return NULL;
	key.uid = uid;
	r = bsearch(&key, s->exts, s->nexts, sizeof(*s->exts), cmp_rec_uid);
	return r != NULL ? r->ext : NULL;
}

void
mbstate_uidlist(const struct mbstate *s, struct strbuf *sb)
{
	const struct msg *m = s->mb.msgs;
	const struct ulrec *g = s->ul.recs;
	size_t i = 0, j = 0;
	struct uidlist hdr = s->ul;

	hdr.uidvalidity = s->mb.uidvalidity;
	hdr.nextuid = s->mb.uidnext;
	memcpy(hdr.guid, s->mb.guid, sizeof(hdr.guid));
	uidlist_header(&hdr, sb);
	for (;;) {
		while (i < s->mb.nmsgs && (m[i].uid == 0 || m[i].file == NULL))
			i++;
		while (j < s->ul.n && g[j].base == NULL)
			j++;
		if (i >= s->mb.nmsgs && j >= s->ul.n)
			break;
		if (j >= s->ul.n || (i < s->mb.nmsgs && m[i].uid < g[j].uid)) {
			uidlist_line(sb, m[i].uid, ext_of(s, m[i].uid),
			    m[i].base);
			i++;
		} else {
			uidlist_line(sb, g[j].uid, g[j].ext, g[j].base);
			j++;
		}
	}
}

/* The public reader. */

void
mailbox_free(struct mailbox *mb)
{
	size_t i;

	for (i = 0; i < mb->nmsgs; i++)
		msg_free_fields(&mb->msgs[i]);
	free(mb->msgs);
	free(mb->name);
	memset(mb, 0, sizeof(*mb));
}

const struct msg *
mailbox_find_uid(const struct mailbox *mb, uint32_t uid)
{
	size_t lo = 0, hi = mb->nmsgs, mid;
	uint32_t u;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		u = mb->msgs[mid].uid;
		if (u == uid && uid != 0)
			return mb->msgs[mid].file != NULL ? &mb->msgs[mid] :
			    NULL;
		if (u == 0 || u > uid)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

static int
read_locked(struct mbloc *loc, struct mbstate *s, int assign)
{
	struct strbuf sb = STRBUF_INIT;
	struct dotlock lk;
	int r, changed = 0;

	r = dotlock_take(loc->boxfd, loc->path, UIDLIST_NAME, UIDLIST_STALE,
	    file_mode(loc->boxfd), &lk);
	if (r != 0)
		return r;
	r = mbstate_load(loc, s);
	if (r == 0 && assign)
		r = mbstate_assign(s, &changed);
	if (r == 0 && changed) {
		mbstate_uidlist(s, &sb);
		r = dotlock_replace(&lk, sb.s, sb.len,
		    s->ul.mtime.tv_sec ? &s->ul.mtime : NULL);
		sb_free(&sb);
	} else
		dotlock_release(&lk);
	return r;
}

int
store_read_mailbox(struct store *st, const char *name, struct mailbox *mb,
    int assign_uids)
{
	struct mbloc loc;
	struct mbstate s;
	int r;

	memset(mb, 0, sizeof(*mb));
	memset(&s, 0, sizeof(s));
	s.cur_fd = s.new_fd = -1;
	r = mbloc_open(st, name, &loc);
	if (r == 0 && loc.boxfd >= 0 && !st->readonly)
		r = read_locked(&loc, &s, assign_uids);
	else if (r == 0)
		r = mbstate_load(&loc, &s);
	mbloc_close(&loc);
	if (r != 0) {
		mbstate_free(&s);
		return r;
	}
	*mb = s.mb;
	memset(&s.mb, 0, sizeof(s.mb));
	if (mb->name == NULL)
		mb->name = xstrdup(name);
	mbstate_free(&s);
	return 0;
}
