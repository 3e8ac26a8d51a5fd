/*
 * store-keywords: dovecot-keywords and the flags part of a Maildir file
 * name, as Dovecot 2.3 reads and writes them.
 *
 * dovecot-keywords holds lines "<index> <name>", index 0 to 25; keyword
 * number i is the letter 'a' + i after ":2," in a file name.  Lines that do
 * not parse are skipped; a letter without a name reads as "unknown-<i>",
 * the name Dovecot gives it.  Names are looked up without regard to case.
 * The file is rewritten (under the uidlist lock) through the dotlock
 * dovecot-keywords.lock renamed over it, its mtime always growing.
 *
 * A file name is BASE or BASE:2,FLAGS; the base (the message's identity)
 * ends at the first ':'; FLAGS are the letters after the last ":2,", in
 * ASCII order: D F P R S T, then the keyword letters.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "store-int.h"

void
kw_free(struct kwlist *kw)
{
	int i;

	for (i = 0; i < KW_MAX; i++)
		free(kw->name[i]);
	memset(kw, 0, sizeof(*kw));
}

static void
kw_line(const char *p, size_t n, struct kwlist *kw)
{
	size_t i;
	int idx = 0;

	while (n > 0 && (p[n - 1] == '\r' || p[n - 1] == '\n'))
		n--;
	for (i = 0; i < n && p[i] >= '0' && p[i] <= '9'; i++) {
		idx = idx * 10 + (p[i] - '0');
		if (idx >= KW_MAX)
			return;
	}
	if (i == 0 || i >= n || p[i] != ' ' || i + 1 == n)
		return;
	if (memchr(p + i + 1, '\0', n - i - 1) != NULL)
		return;
	free(kw->name[idx]);
	kw->name[idx] = xstrndup(p + i + 1, n - i - 1);
}

void
kw_parse(const char *buf, size_t len, struct kwlist *kw)
{
	const char *p = buf, *end = buf + len, *nl;

	while (p < end) {
		nl = memchr(p, '\n', end - p);
		if (nl == NULL)
			nl = end;
		kw_line(p, nl - p, kw);
		p = nl + 1;
	}
}

int
kw_read(int dirfd, const char *dirpath, struct kwlist *kw)
{
	struct strbuf sb = STRBUF_INIT;

	memset(kw, 0, sizeof(*kw));
	if (read_at(dirfd, KEYWORDS_NAME, &sb, &kw->mtime) < 0) {
		if (errno == ENOENT)
			return 0;
		sp_syserr("%s/%s", dirpath, KEYWORDS_NAME);
		return errno == ELOOP ? EX_NOPERM : sp_errno_status(errno);
	}
	kw_parse(sb.s, sb.len, kw);
	sb_free(&sb);
	return 0;
}

int
kw_write(int dirfd, const char *dirpath, struct kwlist *kw)
{
	struct strbuf sb = STRBUF_INIT;
	struct dotlock lk;
	struct stat st_;
	int i, st;

	for (i = 0; i < KW_MAX; i++)
		if (kw->name[i] != NULL)
			sb_addf(&sb, "%d %s\n", i, kw->name[i]);
	/* We hold the uidlist lock, which is what guards this file: a
	 * keywords lock left behind is stale (Dovecot does the same). */
	unlinkat(dirfd, KEYWORDS_NAME ".lock", 0);
	st = dotlock_take(dirfd, dirpath, KEYWORDS_NAME, UIDLIST_STALE,
	    file_mode(dirfd), &lk);
	if (st == 0)
		st = dotlock_replace(&lk, sb.s ? sb.s : "", sb.len,
		    &kw->mtime);
	sb_free(&sb);
	if (st == 0) {
		kw->changed = 0;
		if (fstatat(dirfd, KEYWORDS_NAME, &st_,
		    AT_SYMLINK_NOFOLLOW) == 0)
			kw->mtime = st_.st_mtim;
	}
	return st;
}

int
kw_index(struct kwlist *kw, const char *name, int create)
{
	int i, free_slot = -1;

	for (i = 0; i < KW_MAX; i++) {
		if (kw->name[i] == NULL) {
			if (free_slot < 0)
				free_slot = i;
		} else if (strcasecmp(kw->name[i], name) == 0)
			return i;
	}
	if (!create || free_slot < 0)
		return -1;
	kw->name[free_slot] = xstrdup(name);
	kw->changed = 1;
	return free_slot;
}

size_t
fname_baselen(const char *name)
{
	const char *colon = strchr(name, ':');

	return colon != NULL ? (size_t)(colon - name) : strlen(name);
}

void
fname_flags(const char *name, const struct kwlist *kw, char flags[8],
    struct strvec *keywords)
{
	static const char order[] = "DFPRST";
	const char *info, *p;
	char seen[6] = { 0 };
	int i, n = 0;

	flags[0] = '\0';
	info = strrchr(name, ':');
	if (info == NULL || info[1] != '2' || info[2] != ',')
		return;
	for (p = info + 3; *p != '\0' && *p != ','; p++) {
		const char *f = strchr(order, *p);

		if (f != NULL && *p != '\0')
			seen[f - order] = 1;
		else if (*p >= 'a' && *p <= 'z') {
			i = *p - 'a';
			if (kw != NULL && kw->name[i] != NULL)
				sv_push(keywords, kw->name[i]);
			else
				sv_push_owned(keywords,
				    xasprintf("unknown-%d", i));
		}
	}
	for (i = 0; i < 6; i++)
		if (seen[i])
			flags[n++] = order[i];
	flags[n] = '\0';
	sv_sort_uniq(keywords);
}

static int
cmp_char(const void *a, const void *b)
{
	return *(const unsigned char *)a - *(const unsigned char *)b;
}

char *
fname_make(const char *base, const char *flags, const char *letters)
{
	char *s, *kw;
	size_t n = strlen(letters);

	kw = xstrdup(letters);
	qsort(kw, n, 1, cmp_char);
	s = xasprintf("%s:2,%s%s", base, flags, kw);
	free(kw);
	return s;
}

/* Microseconds from ".<...M<usecs>...>" after the time, as Dovecot finds
 * them; 0 if there are none. */
static int
fname_usecs(const char *p, unsigned long *usecs)
{
	if (*p != '.')
		return 0;
	for (p++; *p != '\0' && *p != '.' && *p != ':'; ) {
		if (*p++ == 'M') {
			*usecs = 0;
			while (*p >= '0' && *p <= '9') {
				if (*usecs < 100000000UL)
					*usecs = *usecs * 10 + (*p - '0');
				p++;
			}
			return 1;
		}
	}
	return 0;
}

static int
base_cmp(const char *a, const char *b)
{
	while (*a == *b && *a != ':' && *a != '\0') {
		a++;
		b++;
	}
	if ((*a == '\0' || *a == ':') && (*b == '\0' || *b == ':'))
		return 0;
	return (unsigned char)*a - (unsigned char)*b;
}

static const char *
fname_secs(const char *s, unsigned long long *secs)
{
	*secs = 0;
	for (; *s >= '0' && *s <= '9'; s++)
		if (*secs < 1000000000000000ULL)
			*secs = *secs * 10 + (unsigned)(*s - '0');
	return s;
}

int
fname_sort_cmp(const char *a, const char *b)
{
	unsigned long long sa, sb;
	unsigned long ua, ub;

	a = fname_secs(a, &sa);
	b = fname_secs(b, &sb);
	if (sa != sb)
		return sa < sb ? -1 : 1;
	if (fname_usecs(a, &ua) && fname_usecs(b, &ub) && ua != ub)
		return ua < ub ? -1 : 1;
	return base_cmp(a, b);
}
