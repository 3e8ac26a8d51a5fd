/*
 * names: Cyrus-style mailbox names and user ids, and where they live in a
 * store.
 *
 *   user.fred                 fred's INBOX        ROOT/fred/Maildir
 *   user.fred.Work.Projects   a folder            ROOT/fred/Maildir/.Work.Projects
 *   user.john^doe             user "john.doe"     ROOT/john.doe/Maildir
 *   example.com!user.fred     user fred@example.com  ROOT/example.com/fred/...
 *
 * A user id is "fred" or "fred@example.com".  Folder names are kept as they
 * are on disk (modified UTF-7); '.' separates levels in both forms.
 *
 * Every name is checked before it is used as a path: no empty component, no
 * "." or "..", no '/', no NUL or control character, no component starting
 * with '.', nothing over 255 bytes a component or 1024 in all.
 */
#ifndef SP_NAMES_H
#define SP_NAMES_H

#include "util.h"

struct mbname {
	char	*user;		/* "fred", "john.doe" */
	char	*domain;	/* NULL, or "example.com" */
	char	*folder;	/* NULL for INBOX, else "Work.Projects" */
};

/* 0, or -1 with *why set (not a user mailbox, unsafe component, ...). */
int	mbname_parse(const char *name, struct mbname *mb, const char **why);
void	mbname_free(struct mbname *mb);
/* Cyrus internal form of mb. */
char	*mbname_format(const struct mbname *mb);

/* Splits "fred@example.com"; 0, or -1 with *why set. */
int	userid_parse(const char *userid, char **user, char **domain,
	    const char **why);
/* "fred@example.com" from parts (domain may be NULL). */
char	*userid_make(const char *user, const char *domain);
/* The INBOX name of a user id: "user.fred", "example.com!user.fred". */
char	*userid_inbox(const char *userid);
/* The user id that owns a mailbox name, or NULL if it is not a user's. */
char	*mbox_owner(const char *name);
/* Home directory of a user relative to the store root: "fred",
 * "example.com/fred".  NULL with *why if the user id is unsafe. */
char	*userid_home(const char *userid, const char **why);

/* Nonzero if s is a safe single path component by the rules above. */
int	name_component_ok(const char *s, const char **why);

#endif
