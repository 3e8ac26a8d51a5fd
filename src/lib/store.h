/*
 * store: a mail store kept as Dovecot 2.3 keeps Maildir.
 *
 * Layout under the store root:
 *   USER/Maildir/                 INBOX (cur new tmp), dovecot-uidlist,
 *                                 dovecot-keywords, subscriptions
 *   USER/Maildir/.A.B/            folder "A.B" (plus a maildirfolder file)
 *   USER/sieve/NAME.sieve         Sieve scripts
 *   USER/.dovecot.sieve           symlink to sieve/NAME.sieve: the active one
 *   DOMAIN/USER/...               users with a domain
 *   .syncpipe/                    our own working area (staging, attic)
 *
 * Reading a mailbox takes the dovecot-uidlist.lock dotlock while it looks at
 * the uidlist and the directories, so that it never races a Dovecot that is
 * assigning UIDs.  With assign_uids set (the master) messages not yet in the
 * uidlist get UIDs the way Dovecot gives them, and the uidlist is rewritten.
 *
 * Every write is crash-safe: files are written under a temporary name,
 * fsynced and renamed, then the directory is fsynced; a mailbox changes in
 * a transaction (mbtx) that holds the uidlist lock from begin to commit and
 * replaces dovecot-uidlist by renaming its lock file over it.  A reader of
 * the mailbox (Dovecot) sees the old state or the new one.
 *
 * Mailbox names are Cyrus-style (names.h); functions refuse unsafe names and
 * path components that are symlinks with EX_NOPERM.
 */
#ifndef SP_STORE_H
#define SP_STORE_H

#include <stdint.h>
#include <time.h>

#include "util.h"

#define GUID_HEX_LEN	32

struct msg {
	uint32_t	 uid;		/* 0 when not in the uidlist */
	char		*base;		/* base name: file name before ":2," */
	char		*file;		/* "cur/BASE:2,FS" or "new/BASE" */
	char		 flags[8];	/* sorted subset of "DFPRST" */
	struct strvec	 keywords;	/* names, sorted */
	int64_t		 mtime;		/* seconds */
	uint64_t	 size;		/* bytes on disk */
};

struct mailbox {
	char		*name;		/* Cyrus-style */
	int		 exists;
	char		 guid[GUID_HEX_LEN + 1];
	uint32_t	 uidvalidity;
	uint32_t	 uidnext;	/* max(N, last UID + 1) */
	struct msg	*msgs;		/* UID order; UID 0 last, by base */
	size_t		 nmsgs;
};

struct sieve_script {
	char		*name;		/* without ".sieve" */
	uint64_t	 size;
	int64_t		 mtime;
};

struct store_priv;

struct store {
	char		*root;
	int		 readonly;	/* never writes, takes no locks */
	int		 absent;	/* root is missing or not a directory */
	struct store_priv *priv;	/* staging area, lookup cache */
};

/* Seconds to wait for a busy dovecot-uidlist.lock before giving up with
 * EX_TEMPFAIL; Dovecot overrides a lock untouched for 120 s, and so do we. */
extern int store_lock_timeout;

#define STORE_RDONLY	0x1	/* never write, not even UIDs */
#define STORE_CREATE	0x2	/* create the root if missing */

/* Opens a store.  A root that is not a directory (e.g. /dev/null) opens as
 * an empty read-only store.  0 or exit status. */
int	store_open(struct store *st, const char *root, int flags);
void	store_close(struct store *st);

/* User ids with a home in the store, sorted. */
int	store_list_users(struct store *st, struct strvec *users);
/* Nonzero if the user has a home directory. */
int	store_user_exists(struct store *st, const char *userid);
/* Cyrus-style names of the user's mailboxes (INBOX first), sorted. */
int	store_list_mailboxes(struct store *st, const char *userid,
	    struct strvec *names);

/* Reads a mailbox (mb->exists = 0 if absent).  0 or exit status. */
int	store_read_mailbox(struct store *st, const char *name,
	    struct mailbox *mb, int assign_uids);
void	mailbox_free(struct mailbox *mb);
/* Finds a message by UID (binary search); NULL if none. */
const struct msg *mailbox_find_uid(const struct mailbox *mb, uint32_t uid);

/* Opens a message body for reading, looking it up by base name when the file
 * was renamed since it was read.  0 with *fd, ENOENT-like EX_NOINPUT when the
 * message is gone, or another exit status. */
int	store_open_msg(struct store *st, const char *mailbox, const char *base,
	    int *fd, struct msg *found);

/* Subscriptions of a user, names exactly as in the subscriptions file. */
int	store_read_subs(struct store *st, const char *userid,
	    struct strvec *subs);
int	store_write_subs(struct store *st, const char *userid,
	    const struct strvec *subs);
/* Appends a subscribed name ("Archive.2024") as a line of Dovecot's
 * version 2 file has it: levels split by TAB, \001 escapes inside. */
void	subs_escape(struct strbuf *sb, const char *name);

/* Sieve scripts (sorted by name) and the active one (NULL if none). */
int	store_read_sieve(struct store *st, const char *userid,
	    struct sieve_script **scripts, size_t *n, char **active);
void	sieve_scripts_free(struct sieve_script *s, size_t n);
int	store_open_sieve(struct store *st, const char *userid,
	    const char *name, int *fd);
/* Installs a script from a staged file (renamed into place, mtime set);
 * removes stale compiled bytecode of the user. */
int	store_put_sieve(struct store *st, const char *userid, const char *name,
	    const char *staged, int64_t mtime);
int	store_delete_sieve(struct store *st, const char *userid,
	    const char *name);
/* Points .dovecot.sieve at sieve/NAME.sieve, or removes it (name NULL);
 * removes stale compiled bytecode. */
int	store_set_active_sieve(struct store *st, const char *userid,
	    const char *name);

/* Run as root, becomes the owner of the store's root directory for good
 * (unless root owns it), so that what is written belongs to the mail user.
 * 0 or EX_NOPERM. */
int	store_become_owner(struct store *st);

/* Takes the store's writer lock (one writer at a time), waiting up to
 * store_lock_timeout: 0 with *lockfd (close it to release), EX_TEMPFAIL
 * if another writer keeps it.  Also removes staging left by writers that
 * were killed. */
int	store_lock_writer(struct store *st, int *lockfd);

/* A directory inside the store for staging files on the same file system;
 * created on demand, emptied by store_unstage().  *dir is owned by st. */
int	store_stage_dir(struct store *st, const char **dir);
void	store_unstage(struct store *st);

/* Deletes a mailbox if it still has the GUID and UIDVALIDITY expected;
 * EX_TEMPFAIL (reported) if another mailbox now holds the name, 0 if it is
 * already gone.  With keep, it is moved to .syncpipe/attic/ instead. */
int	store_delete_mailbox(struct store *st, const char *name,
	    const char *guid, uint32_t uidvalidity, int keep);
/* Renames a folder of a user to another folder name of the same user, if
 * it still has the GUID and UIDVALIDITY expected; 0 if it was renamed
 * already, EX_TEMPFAIL (reported) if another mailbox is in the way. */
int	store_rename_mailbox(struct store *st, const char *from,
	    const char *to, const char *guid, uint32_t uidvalidity);
/* Moves a user's home (mail, scripts, subscriptions) to .syncpipe/attic/;
 * EX_DATAERR for a directory that is no user's home (a domain's). */
int	store_delete_user(struct store *st, const char *userid);

/*
 * A transaction on one mailbox.  begin takes the uidlist lock (waiting for
 * it up to a timeout: EX_TEMPFAIL) and reads the current state into
 * tx->mb.  Changes are made on disk as they are called (files are only ever
 * added under new names, renamed or unlinked, never rewritten) and the
 * uidlist and keywords file are written at commit.  abort releases the lock;
 * files already moved stay and are adopted by the next transaction.
 */
struct mbtx;
int	mbtx_begin(struct store *st, const char *name, struct mbtx **tx);
/* The mailbox as the transaction has made it so far.  Messages expunged in
 * the transaction may still be listed, with file NULL, until commit;
 * mailbox_find_uid never returns them. */
const struct mailbox *mbtx_mailbox(struct mbtx *tx);
/* Creates the mailbox directories if missing and sets its identity. */
int	mbtx_create(struct mbtx *tx, const char *guid, uint32_t uidvalidity,
	    uint32_t uidnext);
/* Moves the mailbox aside (to .syncpipe/attic/) and starts it afresh with a
 * new identity: used when UIDVALIDITY changed on the master. */
int	mbtx_replace(struct mbtx *tx, const char *guid, uint32_t uidvalidity,
	    uint32_t uidnext);
/* Adds a message from a staged file (which gets the mtime and is renamed to
 * cur/BASE:2,FLAGS).  A message with this base name already present (e.g.
 * left by a crash) is adopted instead. */
int	mbtx_add(struct mbtx *tx, uint32_t uid, const char *base,
	    const char *flags, const struct strvec *keywords, int64_t mtime,
	    const char *staged);
int	mbtx_set_flags(struct mbtx *tx, uint32_t uid, const char *flags,
	    const struct strvec *keywords);
int	mbtx_expunge(struct mbtx *tx, uint32_t uid);
/* Raises the next UID to at least uidnext. */
void	mbtx_set_uidnext(struct mbtx *tx, uint32_t uidnext);
/* Writes uidlist (and keywords) and releases the lock; frees tx. */
int	mbtx_commit(struct mbtx *tx);
void	mbtx_abort(struct mbtx *tx);

/* Flag letters: canonical sorted form of a "DFPRST" subset; -1 if another
 * letter appears. */
int	flags_normalize(const char *in, char out[8]);

#endif
