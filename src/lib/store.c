/*
 * store: opening a store, listing its users and mailboxes, deleting
 * mailboxes and users, the staging area, and finding a message's body by
 * its base name (see store.h).
 *
 * Users are ROOT/USER/ (a directory with Maildir/ or sieve/ in it) and
 * ROOT/DOMAIN/USER/ (a DOMAIN has a '.' in its name and no Maildir/ of its
 * own); names starting with '.' are never users (ROOT/.syncpipe is ours).
 *
 * Nothing is ever destroyed in place: a mailbox that goes away is renamed
 * out of the Maildir first (to ROOT/.syncpipe/attic/ when it is kept, to
 * ROOT/.syncpipe/trash/ when it is not, removed from there), so a reader
 * sees it whole or not at all.
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

struct msgcache {
	struct mbloc	 loc;
	int		 cur_fd, new_fd;
	struct kwlist	 kw;
	struct msg	*msgs;		/* sorted by base */
	size_t		 n;
	double		 when;
};

int
store_open(struct store *st, const char *root, int flags)
{
	struct stat sb;

	memset(st, 0, sizeof(*st));
	st->root = xstrdup(root);
	st->priv = xcalloc(1, sizeof(*st->priv));
	st->readonly = (flags & STORE_RDONLY) != 0;
	if (stat(root, &sb) < 0 && errno == ENOENT &&
	    (flags & STORE_CREATE) && !st->readonly) {
		if (mkdir_p(root, 0755) < 0) {
			sp_syserr("%s", root);
			return errno == EACCES ? EX_CANTCREAT :
			    sp_errno_status(errno);
		}
	}
	if (stat(root, &sb) < 0) {
		if (errno != ENOENT && errno != ENOTDIR) {
			sp_syserr("%s", root);
			return sp_errno_status(errno);
		}
		st->absent = st->readonly = 1;
	} else if (!S_ISDIR(sb.st_mode))
		st->absent = st->readonly = 1;
	return 0;
}

static void
cache_drop(struct store_priv *p)
{
	struct msgcache *c = p->cache;
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->n; i++)
		msg_free_fields(&c->msgs[i]);
	free(c->msgs);
	kw_free(&c->kw);
	if (c->cur_fd >= 0)
		close(c->cur_fd);
	if (c->new_fd >= 0)
		close(c->new_fd);
	mbloc_close(&c->loc);
	free(c);
	free(p->cache_name);
	p->cache = NULL;
	p->cache_name = NULL;
}

void
store_close(struct store *st)
{
	if (st->priv != NULL) {
		store_unstage(st);
		cache_drop(st->priv);
		free(st->priv);
	}
	free(st->root);
	memset(st, 0, sizeof(*st));
}

/* Nonzero if dirfd/name is a directory (not a symlink). */
static int
is_dir_at(int dirfd, const char *name)
{
	struct stat sb;

	return fstatat(dirfd, name, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISDIR(sb.st_mode);
}

static int
is_home(int dirfd, const char *name)
{
	char *m = xasprintf("%s/Maildir", name), *s = xasprintf("%s/sieve",
	    name);
	int yes = is_dir_at(dirfd, m) || is_dir_at(dirfd, s);

	free(m);
	free(s);
	return yes;
}

static void
add_user(struct strvec *users, const char *user, const char *domain,
    const char *root)
{
	char *id = userid_make(user, domain), *u, *d;
	const char *why;

	if (userid_parse(id, &u, &d, &why) != 0) {
		sp_info("%s/%s%s%s: not a usable user name (%s): skipped",
		    root, domain ? domain : "", domain ? "/" : "", user, why);
		free(id);
		return;
	}
	free(u);
	free(d);
	sv_push_owned(users, id);
}

static int
list_domain(int rootfd, const char *root, const char *domain,
    struct strvec *users)
{
	struct dirent *de;
	DIR *d;
	int fd;

	fd = openat(rootfd, domain, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	if (fd < 0 || (d = fdopendir(fd)) == NULL) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.' && is_dir_at(fd, de->d_name) &&
		    is_home(fd, de->d_name))
			add_user(users, de->d_name, domain, root);
	closedir(d);
	return 0;
}

int
store_list_users(struct store *st, struct strvec *users)
{
	struct dirent *de;
	DIR *d;
	int fd, dfd, r = 0;

	if (st->absent)
		return 0;
	if ((r = store_rootfd(st, &fd)) != 0)
		return r;
	if ((dfd = dup(fd)) < 0 || (d = fdopendir(dfd)) == NULL) {
		sp_syserr("%s", st->root);
		close(fd);
		return sp_errno_status(errno);
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' || !is_dir_at(fd, de->d_name))
			continue;
		if (is_home(fd, de->d_name))
			add_user(users, de->d_name, NULL, st->root);
		else if (strchr(de->d_name, '.') != NULL)
			list_domain(fd, st->root, de->d_name, users);
	}
	closedir(d);
	close(fd);
	sv_sort_uniq(users);
	return 0;
}

int
store_user_exists(struct store *st, const char *userid)
{
	int rootfd, homefd, yes;
	char *home = NULL;

	open_home(st, userid, &rootfd, &homefd, &home);
	yes = homefd >= 0;
	if (homefd >= 0)
		close(homefd);
	if (rootfd >= 0)
		close(rootfd);
	free(home);
	return yes;
}

static void
add_folder(struct strvec *names, const char *userid, const char *folder,
    const char *path)
{
	struct mbname mb;
	const char *why;
	char *name;

	memset(&mb, 0, sizeof(mb));
	if (userid_parse(userid, &mb.user, &mb.domain, &why) != 0)
		return;
	mb.folder = xstrdup(folder);
	name = mbname_format(&mb);
	mbname_free(&mb);
	if (mbname_parse(name, &mb, &why) != 0) {
		sp_info("%s/.%s: not a usable folder name (%s): skipped",
		    path, folder, why);
		free(name);
		return;
	}
	mbname_free(&mb);
	sv_push_owned(names, name);
}

int
store_list_mailboxes(struct store *st, const char *userid,
    struct strvec *names)
{
	struct mbloc loc;
	struct dirent *de;
	char *inbox, *cur;
	DIR *d;
	int r, fd;

	inbox = userid_inbox(userid);
	if (inbox == NULL) {
		sp_err("user %s: unusable user id", userid);
		return EX_NOPERM;
	}
	r = mbloc_open(st, inbox, &loc);
	free(inbox);
	if (r != 0 || loc.mdfd < 0) {
		mbloc_close(&loc);
		return r;
	}
	sv_push(names, loc.name);
	if ((fd = dup(loc.mdfd)) < 0 || (d = fdopendir(fd)) == NULL) {
		sp_syserr("%s", loc.path);
		mbloc_close(&loc);
		return sp_errno_status(errno);
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] != '.' || de->d_name[1] == '\0' ||
		    strcmp(de->d_name, "..") == 0 ||
		    !is_dir_at(loc.mdfd, de->d_name))
			continue;
		cur = xasprintf("%s/cur", de->d_name);
		if (is_dir_at(loc.mdfd, cur))
			add_folder(names, userid, de->d_name + 1, loc.path);
		free(cur);
	}
	closedir(d);
	mbloc_close(&loc);
	sv_sort_uniq(names);
	return 0;
}

/* Finding a message by base name. */

static int
cmp_msg_base(const void *key, const void *m)
{
	return strcmp(key, ((const struct msg *)m)->base);
}

static int
cache_fill(struct store *st, const char *mailbox)
{
	struct msgcache *c;
	char *what;
	int r;

	cache_drop(st->priv);
	c = xcalloc(1, sizeof(*c));
	c->cur_fd = c->new_fd = -1;
	st->priv->cache = c;
	st->priv->cache_name = xstrdup(mailbox);
	c->when = now_mono();
	if ((r = mbloc_open(st, mailbox, &c->loc)) != 0)
		return r;
	if (c->loc.boxfd < 0)
		return 0;
	if ((r = kw_read(c->loc.boxfd, c->loc.path, &c->kw)) != 0)
		return r;
	what = xasprintf("%s/cur", c->loc.path);
	r = open_subdir(c->loc.boxfd, "cur", what, &c->cur_fd);
	free(what);
	what = xasprintf("%s/new", c->loc.path);
	if (r == 0)
		r = open_subdir(c->loc.boxfd, "new", what, &c->new_fd);
	free(what);
	if (r == 0)
		r = scan_messages(c->cur_fd, c->new_fd, c->loc.path, &c->kw,
		    &c->msgs, &c->n);
	return r;
}

/* 0 with *fd, -1 if the file is not (or no longer) there, or a status. */
static int
cache_open(struct msgcache *c, const char *base, int *fd, struct msg **m)
{
	int dfd;

	*m = c->n ? bsearch(base, c->msgs, c->n, sizeof(*c->msgs),
	    cmp_msg_base) : NULL;
	if (*m == NULL)
		return -1;
	dfd = strncmp((*m)->file, "new/", 4) == 0 ? c->new_fd : c->cur_fd;
	*fd = openat(dfd, (*m)->file + 4, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (*fd >= 0)
		return 0;
	if (errno == ENOENT)
		return -1;
	sp_syserr("%s/%s", c->loc.path, (*m)->file);
	return errno == ELOOP ? EX_NOPERM : sp_errno_status(errno);
}

static void
fill_found(struct msg *found, const struct msg *m, int fd)
{
	struct stat sb;
	size_t i;

	memset(found, 0, sizeof(*found));
	found->base = xstrdup(m->base);
	found->file = xstrdup(m->file);
	memcpy(found->flags, m->flags, sizeof(found->flags));
	for (i = 0; i < m->keywords.n; i++)
		sv_push(&found->keywords, m->keywords.v[i]);
	found->mtime = m->mtime;
	found->size = m->size;
	if (fstat(fd, &sb) == 0) {
		found->mtime = (int64_t)sb.st_mtime;
		found->size = (uint64_t)sb.st_size;
	}
}

int
store_open_msg(struct store *st, const char *mailbox, const char *base,
    int *fd, struct msg *found)
{
	struct store_priv *p = st->priv;
	struct msg *m;
	int r, tries, stale;

	*fd = -1;
	stale = p->cache == NULL || strcmp(p->cache_name, mailbox) != 0;
	for (tries = 0; tries < 2; tries++) {
		if (stale && (r = cache_fill(st, mailbox)) != 0) {
			cache_drop(p);
			return r;
		}
		if ((r = cache_open(p->cache, base, fd, &m)) == 0) {
			if (found != NULL)
				fill_found(found, m, *fd);
			return 0;
		}
		if (r > 0)
			return r;
		/* A file renamed since the listing: list again.  A base
		 * name not listed at all: only if the listing is old. */
		if (stale || (m == NULL && p->cache->when > now_mono() - 1.0))
			break;
		stale = 1;
	}
	return EX_NOINPUT;
}

/* Staging. */

int
store_stage_dir(struct store *st, const char **dir)
{
	char *tmpl;
	int rootfd, fd, r;

	if (st->priv->stage != NULL) {
		*dir = st->priv->stage;
		return 0;
	}
	if (st->readonly) {
		sp_err("%s: store is read-only", st->root);
		return EX_SOFTWARE;
	}
	if ((r = store_rootfd(st, &rootfd)) != 0)
		return r;
	r = sp_subdir(rootfd, st->root, "stage", &fd);
	close(rootfd);
	if (r != 0)
		return r;
	close(fd);
	tmpl = xasprintf("%s/%s/stage/%ld.XXXXXX", st->root, SP_DIR,
	    (long)getpid());
	if (mkdtemp(tmpl) == NULL) {
		sp_syserr("%s", tmpl);
		free(tmpl);
		return sp_errno_status(errno);
	}
	st->priv->stage = tmpl;
	*dir = tmpl;
	return 0;
}

void
store_unstage(struct store *st)
{
	char *slash;
	int fd;

	if (st->priv == NULL || st->priv->stage == NULL)
		return;
	slash = strrchr(st->priv->stage, '/');
	*slash = '\0';
	fd = open(st->priv->stage, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		*slash = '/';
		remove_tree(fd, slash + 1, st->priv->stage);
		close(fd);
	}
	free(st->priv->stage);
	st->priv->stage = NULL;
}

int
flags_normalize(const char *in, char out[8])
{
	static const char order[] = "DFPRST";
	int seen[6] = { 0 }, i, n = 0;
	const char *f;

	for (; *in != '\0'; in++) {
		if ((f = strchr(order, *in)) == NULL)
			return -1;
		seen[f - order] = 1;
	}
	for (i = 0; i < 6; i++)
		if (seen[i])
			out[n++] = order[i];
	out[n] = '\0';
	return 0;
}
