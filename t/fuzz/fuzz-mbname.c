/*
 * Fuzz target: Cyrus-style mailbox names and user ids.  A name that parses
 * must format back to itself, and every part must be a safe path
 * component; the same for a user id and its home.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "names.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_mbname(const char *s)
{
	struct mbname mb;
	const char *why;
	char *back, *owner, *inbox;

	if (mbname_parse(s, &mb, &why) != 0)
		return;
	back = mbname_format(&mb);
	if (strcmp(back, s) != 0)
		abort();
	if (!name_component_ok(mb.user, &why) ||
	    (mb.domain != NULL && !name_component_ok(mb.domain, &why)))
		abort();
	if (mb.folder != NULL && (strstr(mb.folder, "..") != NULL ||
	    strchr(mb.folder, '/') != NULL || mb.folder[0] == '.'))
		abort();
	owner = mbox_owner(s);
	inbox = owner != NULL ? userid_inbox(owner) : NULL;
	if (inbox == NULL || strncmp(s, inbox, strlen(inbox)) != 0)
		abort();
	free(owner);
	free(inbox);
	free(back);
	mbname_free(&mb);
}

static void
check_userid(const char *s)
{
	char *user, *domain, *home, *id;
	const char *why;

	if (userid_parse(s, &user, &domain, &why) != 0) {
		if (userid_home(s, &why) != NULL)
			abort();
		return;
	}
	id = userid_make(user, domain);
	if (strcmp(id, s) != 0)
		abort();
	home = userid_home(s, &why);
	if (home == NULL || strstr(home, "..") == home ||
	    strstr(home, "/.") != NULL || home[0] == '/')
		abort();
	free(home);
	free(id);
	free(user);
	free(domain);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;

	sp_verbosity = -1;
	s = xstrndup((const char *)data, size);
	check_mbname(s);
	check_userid(s);
	free(s);
	return 0;
}
