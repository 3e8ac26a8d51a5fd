/*
 * store-user: a user's subscriptions and Sieve scripts.
 *
 * Maildir/subscriptions is Dovecot 2.3's file (subscription-file.c): either
 * version 1, one mailbox name a line, levels separated by '.', or version 2,
 * the header "V\t2\n\n", then one name a line with the levels separated by
 * a TAB and \001, TAB, CR and LF inside a level escaped as \001 followed by
 * '1', 't', 'r', 'n' ('0' for NUL).  Names are returned in the file's
 * order, with '.' between levels whatever the version, and written in the
 * order given.  A rewrite keeps the version the file had; a new file is
 * version 2 (Dovecot 2.3 itself starts one as version 1, and reads both).
 * It is replaced through its dotlock, subscriptions.lock (stale after
 * 30 s), renamed over it.
 *
 * Sieve (Pigeonhole's file storage): USER/sieve/NAME.sieve, the active
 * script chosen by the relative symlink USER/.dovecot.sieve ->
 * sieve/NAME.sieve.  Compiled bytecode (sieve/NAME.svbin, and
 * USER/.dovecot.svbin beside the link) is removed whenever a script or the
 * link changes, so that Dovecot compiles the new text; a link that points
 * anywhere but into the user's sieve directory is not followed.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store-int.h"

#define SUBS_V2		"V\t2\n\n"
#define ACTIVE_LINK	".dovecot.sieve"
#define ACTIVE_BIN	".dovecot.svbin"

/* Opens the user's home and Maildir (fds -1 where missing). */
static int
user_loc(struct store *st, const char *userid, struct mbloc *loc)
{
	char *inbox = userid_inbox(userid);
	int r;

	if (inbox == NULL) {
		sp_err("user %s: unusable user id", userid);
		memset(loc, 0, sizeof(*loc));
		loc->rootfd = loc->homefd = loc->mdfd = loc->boxfd = -1;
		return EX_NOPERM;
	}
	r = mbloc_open(st, inbox, loc);
	free(inbox);
	return r;
}

static int
writable(struct store *st)
{
	if (!st->readonly)
		return 0;
	sp_err("%s: store is read-only", st->root);
	return EX_SOFTWARE;
}

/* Subscriptions. */

static void
unescape_level(struct strbuf *out, const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (p[i] != '\001' || i + 1 == n) {
			sb_addc(out, p[i]);
			continue;
		}
		switch (p[++i]) {
		case '1':
			sb_addc(out, '\001');
			break;
		case 't':
			sb_addc(out, '\t');
			break;
		case 'r':
			sb_addc(out, '\r');
			break;
		case 'n':
			sb_addc(out, '\n');
			break;
		case '0':
			sb_addc(out, '\0');
			break;
		default:
			sb_addc(out, p[i]);
		}
	}
}

static void
add_sub(struct strvec *subs, const char *line, size_t n, int v2)
{
	struct strbuf sb = STRBUF_INIT;
	const char *tab;

	if (!v2)
		sb_add(&sb, line, n);
	else
		while (n > 0) {
			tab = memchr(line, '\t', n);
			unescape_level(&sb, line, tab ? (size_t)(tab - line) :
			    n);
			if (tab == NULL)
				break;
			sb_addc(&sb, '.');
			n -= tab + 1 - line;
			line = tab + 1;
		}
	if (sb.len == 0 || strlen(sb.s) != sb.len ||
	    strpbrk(sb.s, "\r\n") != NULL) {
		sb_free(&sb);	/* cannot be a word of ours */
		return;
	}
	sv_push_owned(subs, sb_detach(&sb));
}

static void
parse_subs(const char *buf, size_t len, struct strvec *subs, int *v2)
{
	const char *p = buf, *end = buf + len, *nl;

	*v2 = len >= strlen(SUBS_V2) && memcmp(buf, SUBS_V2,
	    strlen(SUBS_V2)) == 0;
	if (*v2)
		p += strlen(SUBS_V2);
	for (; p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', end - p)) == NULL)
			nl = end;
		if (nl > p)
			add_sub(subs, p, nl - p, *v2);
	}
}

int
store_read_subs(struct store *st, const char *userid, struct strvec *subs)
{
	struct strbuf sb = STRBUF_INIT;
	struct mbloc loc;
	int r, v2;

	r = user_loc(st, userid, &loc);
	if (r == 0 && loc.mdfd >= 0) {
		if (read_at(loc.mdfd, SUBS_NAME, &sb, NULL) == 0)
			parse_subs(sb.s, sb.len, subs, &v2);
		else if (errno != ENOENT) {
			sp_syserr("%s/%s/Maildir/%s", st->root, loc.home,
			    SUBS_NAME);
			r = errno == ELOOP ? EX_NOPERM : sp_errno_status(errno);
		}
	}
	sb_free(&sb);
	mbloc_close(&loc);
	return r;
}

void
subs_escape(struct strbuf *sb, const char *name)
{
	for (; *name != '\0'; name++)
		switch (*name) {
		case '.':
			sb_addc(sb, '\t');
			break;
		case '\001':
			sb_adds(sb, "\0011");
			break;
		case '\t':
			sb_adds(sb, "\001t");
			break;
		case '\r':
			sb_adds(sb, "\001r");
			break;
		case '\n':
			sb_adds(sb, "\001n");
			break;
		default:
			sb_addc(sb, *name);
		}
}

static int
format_subs(const struct strvec *subs, int v2, struct strbuf *sb,
    const char *who)
{
	size_t i;

	if (v2)
		sb_adds(sb, SUBS_V2);
	for (i = 0; i < subs->n; i++) {
		if (subs->v[i][0] == '\0' || strpbrk(subs->v[i], "\r\n")) {
			sp_err("%s: subscription \"%s\" cannot be stored", who,
			    subs->v[i]);
			return EX_DATAERR;
		}
		if (v2)
			subs_escape(sb, subs->v[i]);
		else
			sb_adds(sb, subs->v[i]);
		sb_addc(sb, '\n');
	}
	return 0;
}

int
store_write_subs(struct store *st, const char *userid,
    const struct strvec *subs)
{
	struct strbuf old = STRBUF_INIT, sb = STRBUF_INIT;
	struct strvec tmp = STRVEC_INIT;
	struct dotlock lk;
	struct mbloc loc;
	int r, v2 = 1;

	if ((r = writable(st)) != 0 || (r = user_loc(st, userid, &loc)) != 0)
		goto out;
	if (loc.mdfd < 0 && subs->n == 0)
		goto out;
	if (loc.mdfd < 0 && (r = mbloc_create(&loc)) != 0)
		goto out;
	r = dotlock_take(loc.mdfd, loc.path, SUBS_NAME, SUBS_STALE,
	    file_mode(loc.mdfd), &lk);
	if (r != 0)
		goto out;
	if (read_at(loc.mdfd, SUBS_NAME, &old, NULL) == 0)
		parse_subs(old.s, old.len, &tmp, &v2);
	if ((r = format_subs(subs, v2, &sb, loc.path)) == 0)
		r = dotlock_replace(&lk, sb.s ? sb.s : "", sb.len, NULL);
	else
		dotlock_release(&lk);
out:
	sv_free(&tmp);
	sb_free(&old);
	sb_free(&sb);
	mbloc_close(&loc);
	return r;
}

/* Sieve. */

static int
sieve_dir(struct store *st, struct mbloc *loc, int create, int *fd)
{
	char *what;
	int r;

	*fd = -1;
	if (create && loc->homefd < 0 && (r = make_home(loc, st->root)) != 0)
		return r;
	if (loc->homefd < 0)
		return 0;
	what = xasprintf("%s/%s/sieve", st->root, loc->home);
	r = create ? make_subdir(loc->homefd, "sieve", what, fd) :
	    open_subdir(loc->homefd, "sieve", what, fd);
	free(what);
	return r;
}

static int
script_name_ok(const char *name, const char *userid)
{
	const char *why;

	if (name_component_ok(name, &why) && strlen(name) < 200)
		return 1;
	sp_err("user %s: Sieve script %s: %s", userid, name,
	    strlen(name) >= 200 ? "name too long" : why);
	return 0;
}

/* The script the active link names, or NULL. */
static char *
active_name(int homefd, const char *root, const char *home)
{
	char buf[1024], *prefix, *name = NULL;
	const char *t, *why;
	ssize_t n;
	size_t len;

	n = readlinkat(homefd, ACTIVE_LINK, buf, sizeof(buf) - 1);
	if (n < 0) {
		if (errno == EINVAL)
			sp_info("%s/%s/%s: not a symlink: ignored", root, home,
			    ACTIVE_LINK);
		return NULL;
	}
	buf[n] = '\0';
	prefix = xasprintf("%s/%s/", root, home);
	t = buf;
	if (strncmp(t, prefix, strlen(prefix)) == 0)
		t += strlen(prefix);
	while (strncmp(t, "./", 2) == 0)
		t += 2;
	free(prefix);
	len = strlen(t);
	if (strncmp(t, "sieve/", 6) == 0 && len > 12 &&
	    strcmp(t + len - 6, ".sieve") == 0) {
		name = xstrndup(t + 6, len - 12);
		if (!name_component_ok(name, &why)) {
			free(name);
			name = NULL;
		}
	}
	if (name == NULL)
		sp_info("%s/%s/%s: points outside the sieve directory: "
		    "ignored", root, home, ACTIVE_LINK);
	return name;
}

static int
cmp_script(const void *a, const void *b)
{
	return strcmp(((const struct sieve_script *)a)->name,
	    ((const struct sieve_script *)b)->name);
}

static void
list_scripts(int fd, struct sieve_script **s, size_t *n)
{
	struct dirent *de;
	struct stat sb;
	size_t len, cap = 0;
	const char *why;
	char *name;
	DIR *d;
	int dfd;

	if ((dfd = dup(fd)) < 0 || (d = fdopendir(dfd)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		if (len <= 6 || strcmp(de->d_name + len - 6, ".sieve") != 0 ||
		    fstatat(fd, de->d_name, &sb, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(sb.st_mode))
			continue;
		name = xstrndup(de->d_name, len - 6);
		if (!name_component_ok(name, &why)) {
			free(name);
			continue;
		}
		if (*n == cap) {
			cap = cap ? cap * 2 : 8;
			*s = xreallocarray(*s, cap, sizeof(**s));
		}
		(*s)[*n].name = name;
		(*s)[*n].size = (uint64_t)sb.st_size;
		(*s)[(*n)++].mtime = (int64_t)sb.st_mtime;
	}
	closedir(d);
	if (*n > 1)
		qsort(*s, *n, sizeof(**s), cmp_script);
}

int
store_read_sieve(struct store *st, const char *userid,
    struct sieve_script **scripts, size_t *n, char **active)
{
	struct sieve_script key, *found = NULL;
	struct mbloc loc;
	int r, fd = -1;

	*scripts = NULL;
	*n = 0;
	*active = NULL;
	if ((r = user_loc(st, userid, &loc)) == 0)
		r = sieve_dir(st, &loc, 0, &fd);
	if (r == 0 && fd >= 0) {
		list_scripts(fd, scripts, n);
		key.name = active_name(loc.homefd, st->root, loc.home);
		if (key.name != NULL && *n > 0)
			found = bsearch(&key, *scripts, *n, sizeof(key),
			    cmp_script);
		if (found != NULL)
			*active = key.name;
		else
			free(key.name);
	}
	if (fd >= 0)
		close(fd);
	mbloc_close(&loc);
	return r;
}

void
sieve_scripts_free(struct sieve_script *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(s[i].name);
	free(s);
}

int
store_open_sieve(struct store *st, const char *userid, const char *name,
    int *fd)
{
	struct mbloc loc;
	char *file;
	int r, dfd = -1;

	*fd = -1;
	if (!script_name_ok(name, userid))
		return EX_NOPERM;
	if ((r = user_loc(st, userid, &loc)) == 0)
		r = sieve_dir(st, &loc, 0, &dfd);
	if (r == 0 && dfd < 0)
		r = EX_NOINPUT;
	if (r == 0) {
		file = xasprintf("%s.sieve", name);
		*fd = openat(dfd, file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (*fd < 0) {
			r = errno == ENOENT ? EX_NOINPUT : errno == ELOOP ?
			    EX_NOPERM : sp_errno_status(errno);
			if (errno != ENOENT)
				sp_syserr("%s/sieve/%s", loc.path, file);
		}
		free(file);
	}
	if (dfd >= 0)
		close(dfd);
	mbloc_close(&loc);
	return r;
}

/* Removes compiled bytecode: NAME.svbin (if name) and the active one. */
static void
drop_bytecode(int homefd, int sievefd, const char *name)
{
	char *bin;

	if (name != NULL && sievefd >= 0) {
		bin = xasprintf("%s.svbin", name);
		unlinkat(sievefd, bin, 0);
		free(bin);
	}
	unlinkat(homefd, ACTIVE_BIN, 0);
}

static int
sync_fd(int fd, const char *what)
{
	if (fsync(fd) == 0)
		return 0;
	sp_syserr("%s: fsync", what);
	return sp_errno_status(errno);
}

int
store_put_sieve(struct store *st, const char *userid, const char *name,
    const char *staged, int64_t mtime)
{
	struct timespec ts[2];
	struct mbloc loc;
	char *file;
	int r, fd = -1;

	if ((r = writable(st)) != 0)
		return r;
	if (!script_name_ok(name, userid))
		return EX_NOPERM;
	if ((r = user_loc(st, userid, &loc)) == 0)
		r = sieve_dir(st, &loc, 1, &fd);
	if (r == 0) {
		ts[0].tv_sec = 0;
		ts[0].tv_nsec = UTIME_OMIT;
		ts[1].tv_sec = (time_t)mtime;
		ts[1].tv_nsec = 0;
		file = xasprintf("%s.sieve", name);
		if (utimensat(AT_FDCWD, staged, ts, AT_SYMLINK_NOFOLLOW) < 0 ||
		    renameat(AT_FDCWD, staged, fd, file) < 0) {
			sp_syserr("%s/%s/sieve/%s", st->root, loc.home, file);
			r = sp_errno_status(errno);
		} else {
			drop_bytecode(loc.homefd, fd, name);
			r = sync_fd(fd, file);
		}
		free(file);
	}
	if (fd >= 0)
		close(fd);
	mbloc_close(&loc);
	return r;
}

int
store_delete_sieve(struct store *st, const char *userid, const char *name)
{
	struct mbloc loc;
	char *file, *act;
	int r, fd = -1;

	if ((r = writable(st)) != 0)
		return r;
	if (!script_name_ok(name, userid))
		return EX_NOPERM;
	if ((r = user_loc(st, userid, &loc)) == 0)
		r = sieve_dir(st, &loc, 0, &fd);
	if (r == 0 && fd >= 0) {
		act = active_name(loc.homefd, st->root, loc.home);
		if (act != NULL && strcmp(act, name) == 0)
			unlinkat(loc.homefd, ACTIVE_LINK, 0);
		free(act);
		file = xasprintf("%s.sieve", name);
		if (unlinkat(fd, file, 0) < 0 && errno != ENOENT) {
			sp_syserr("%s/%s/sieve/%s", st->root, loc.home, file);
			r = sp_errno_status(errno);
		}
		free(file);
		drop_bytecode(loc.homefd, fd, name);
		if (r == 0 && (r = sync_fd(fd, "sieve")) == 0)
			r = sync_fd(loc.homefd, loc.home);
	}
	if (fd >= 0)
		close(fd);
	mbloc_close(&loc);
	return r;
}

/* Points the link at sieve/NAME.sieve: a new link renamed over it. */
static int
link_active(struct mbloc *loc, const char *root, const char *name)
{
	char *target, *tmp, *cur;
	struct stat sb;
	int r = 0;

	if (fstatat(loc->homefd, ACTIVE_LINK, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
	    !S_ISLNK(sb.st_mode)) {
		sp_err("%s/%s/%s: not a symlink: left alone", root, loc->home,
		    ACTIVE_LINK);
		return EX_NOPERM;
	}
	cur = active_name(loc->homefd, root, loc->home);
	if (cur != NULL && name != NULL && strcmp(cur, name) == 0) {
		free(cur);
		return 0;
	}
	free(cur);
	if (name == NULL) {
		if (unlinkat(loc->homefd, ACTIVE_LINK, 0) < 0 &&
		    errno != ENOENT)
			r = -1;
	} else {
		target = xasprintf("sieve/%s.sieve", name);
		tmp = xasprintf("%s.tmp.%ld", ACTIVE_LINK, (long)getpid());
		unlinkat(loc->homefd, tmp, 0);
		if (symlinkat(target, loc->homefd, tmp) < 0 ||
		    renameat(loc->homefd, tmp, loc->homefd, ACTIVE_LINK) < 0) {
			r = -1;
			unlinkat(loc->homefd, tmp, 0);
		}
		free(target);
		free(tmp);
	}
	if (r < 0) {
		sp_syserr("%s/%s/%s", root, loc->home, ACTIVE_LINK);
		return sp_errno_status(errno);
	}
	drop_bytecode(loc->homefd, -1, NULL);
	return sync_fd(loc->homefd, loc->home);
}

int
store_set_active_sieve(struct store *st, const char *userid,
    const char *name)
{
	struct mbloc loc;
	int r;

	if ((r = writable(st)) != 0)
		return r;
	if (name != NULL && !script_name_ok(name, userid))
		return EX_NOPERM;
	if ((r = user_loc(st, userid, &loc)) == 0) {
		if (loc.homefd < 0 && name == NULL)
			r = 0;
		else if (loc.homefd < 0 && (r = make_home(&loc,
		    st->root)) != 0)
			;
		else
			r = link_active(&loc, st->root, name);
	}
	mbloc_close(&loc);
	return r;
}
