/*
 * names: Cyrus-style mailbox names and user ids, mapped to places in a store
 * (see names.h).  Everything that later becomes a path is checked here: a
 * name that passes can be joined to the store root component by component
 * without leaving it (symlinks are the store's business).
 */
#include <stdlib.h>
#include <string.h>

#include "names.h"

#define COMPONENT_MAX	255
#define NAME_MAX_ALL	1024

int
name_component_ok(const char *s, const char **why)
{
	const unsigned char *p;
	size_t len;

	if (s == NULL || *s == '\0') {
		*why = "empty name";
		return 0;
	}
	len = strlen(s);
	if (len > COMPONENT_MAX) {
		*why = "name component too long";
		return 0;
	}
	if (s[0] == '.') {
		*why = "name component starts with '.'";
		return 0;
	}
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '/') {
			*why = "'/' in name";
			return 0;
		}
		if (*p < 0x20 || *p == 0x7f) {
			*why = "control character in name";
			return 0;
		}
	}
	return 1;
}

/* A user part: a component without '@', '!' or '^' (those would not survive
 * the round trip through the Cyrus form). */
static int
user_ok(const char *u, const char **why)
{
	if (!name_component_ok(u, why))
		return 0;
	if (strpbrk(u, "@!^") != NULL) {
		*why = "'@', '!' or '^' in user name";
		return 0;
	}
	return 1;
}

/* A domain: a component with a dot (so that the store can tell a domain
 * directory from a user's home), without '@' or '!'. */
static int
domain_ok(const char *d, const char **why)
{
	if (!name_component_ok(d, why))
		return 0;
	if (strpbrk(d, "@!^") != NULL) {
		*why = "'@', '!' or '^' in domain";
		return 0;
	}
	if (strchr(d, '.') == NULL) {
		*why = "domain without a dot";
		return 0;
	}
	if (d[strlen(d) - 1] == '.') {
		*why = "domain ends with '.'";
		return 0;
	}
	return 1;
}

/* Every level of a folder name is a safe component; the whole folder, as
 * the directory ".A.B", fits in one component. */
static int
folder_ok(const char *f, const char **why)
{
	const char *p, *dot;
	char level[COMPONENT_MAX + 1];
	size_t n;

	if (strlen(f) + 1 > COMPONENT_MAX) {
		*why = "folder name too long";
		return 0;
	}
	for (p = f;; p = dot + 1) {
		dot = strchr(p, '.');
		n = dot != NULL ? (size_t)(dot - p) : strlen(p);
		if (n == 0) {
			*why = "empty folder level";
			return 0;
		}
		memcpy(level, p, n);
		level[n] = '\0';
		if (!name_component_ok(level, why))
			return 0;
		if (dot == NULL)
			return 1;
	}
}

static void
unhat(char *s)
{
	for (; *s != '\0'; s++)
		if (*s == '^')
			*s = '.';
}

static void
add_hatted(struct strbuf *sb, const char *s)
{
	for (; *s != '\0'; s++)
		sb_addc(sb, *s == '.' ? '^' : *s);
}

int
mbname_parse(const char *name, struct mbname *mb, const char **why)
{
	const char *bang, *rest, *dot;
	char *user;

	memset(mb, 0, sizeof(*mb));
	if (strlen(name) > NAME_MAX_ALL) {
		*why = "mailbox name too long";
		return -1;
	}
	rest = name;
	if ((bang = strchr(name, '!')) != NULL) {
		mb->domain = xstrndup(name, bang - name);
		if (!domain_ok(mb->domain, why))
			goto fail;
		rest = bang + 1;
	}
	if (strncmp(rest, "user.", 5) != 0) {
		*why = "not a user's mailbox";
		goto fail;
	}
	rest += 5;
	dot = strchr(rest, '.');
	user = dot != NULL ? xstrndup(rest, dot - rest) : xstrdup(rest);
	mb->user = user;
	unhat(user);
	if (!user_ok(user, why))
		goto fail;
	if (dot != NULL) {
		mb->folder = xstrdup(dot + 1);
		if (!folder_ok(mb->folder, why))
			goto fail;
	}
	return 0;
fail:
	mbname_free(mb);
	return -1;
}

void
mbname_free(struct mbname *mb)
{
	free(mb->user);
	free(mb->domain);
	free(mb->folder);
	memset(mb, 0, sizeof(*mb));
}

char *
mbname_format(const struct mbname *mb)
{
	struct strbuf sb = STRBUF_INIT;

	if (mb->domain != NULL) {
		sb_adds(&sb, mb->domain);
		sb_addc(&sb, '!');
	}
	sb_adds(&sb, "user.");
	add_hatted(&sb, mb->user);
	if (mb->folder != NULL) {
		sb_addc(&sb, '.');
		sb_adds(&sb, mb->folder);
	}
	return sb_detach(&sb);
}

int
userid_parse(const char *userid, char **user, char **domain,
    const char **why)
{
	const char *at;
	char *u, *d = NULL;

	*user = *domain = NULL;
	if (strlen(userid) > NAME_MAX_ALL) {
		*why = "user id too long";
		return -1;
	}
	if ((at = strchr(userid, '@')) != NULL) {
		u = xstrndup(userid, at - userid);
		d = xstrdup(at + 1);
		if (!domain_ok(d, why))
			goto fail;
	} else
		u = xstrdup(userid);
	if (!user_ok(u, why))
		goto fail;
	*user = u;
	*domain = d;
	return 0;
fail:
	free(u);
	free(d);
	return -1;
}

char *
userid_make(const char *user, const char *domain)
{
	if (domain == NULL)
		return xstrdup(user);
	return xasprintf("%s@%s", user, domain);
}

char *
userid_inbox(const char *userid)
{
	struct mbname mb;
	const char *why;
	char *s;

	if (userid_parse(userid, &mb.user, &mb.domain, &why) != 0)
		return NULL;
	mb.folder = NULL;
	s = mbname_format(&mb);
	mbname_free(&mb);
	return s;
}

char *
mbox_owner(const char *name)
{
	struct mbname mb;
	const char *why;
	char *s;

	if (mbname_parse(name, &mb, &why) != 0)
		return NULL;
	s = userid_make(mb.user, mb.domain);
	mbname_free(&mb);
	return s;
}

char *
userid_home(const char *userid, const char **why)
{
	char *user, *domain, *home;

	if (userid_parse(userid, &user, &domain, why) != 0)
		return NULL;
	if (domain != NULL)
		home = xasprintf("%s/%s", domain, user);
	else
		home = xstrdup(user);
	free(user);
	free(domain);
	return home;
}
