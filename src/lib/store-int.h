/*
 * store-int: the pieces the store's files share; not for programs.
 *
 *   store.c           opening, users, mailbox lists, deletion, staging,
 *                     finding a message body by base name
 *   store-loc.c       walking from the root to a mailbox with O_NOFOLLOW,
 *                     the dotlock Dovecot uses
 *   store-uidlist.c   dovecot-uidlist: parsing, UID assignment, writing
 *   store-keywords.c  dovecot-keywords and the flags in a file name
 *   store-mailbox.c   reading a mailbox (uidlist + keywords + cur/ new/)
 *   store-delete.c    moving mailboxes aside, deleting mailboxes and users
 *   store-mbtx.c      transactions on one mailbox
 *   store-user.c      subscriptions and Sieve scripts
 *
 * Every directory below the root is opened relative to its parent with
 * O_NOFOLLOW | O_DIRECTORY, so a symlink anywhere inside the store is
 * refused (EX_NOPERM) instead of followed.
 */
#ifndef SP_STORE_INT_H
#define SP_STORE_INT_H

#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

#include "names.h"
#include "store.h"

#define KW_MAX		26		/* letters 'a' to 'z' */
#define UIDLIST_NAME	"dovecot-uidlist"
#define KEYWORDS_NAME	"dovecot-keywords"
#define SUBS_NAME	"subscriptions"
#define UIDLIST_STALE	120		/* Dovecot's stale uidlist lock */
#define SUBS_STALE	30		/* ... and subscriptions lock */
#define SP_DIR		".syncpipe"

/* One mailbox's directory listing, kept by the store for store_open_msg. */
struct msgcache;

struct store_priv {
	char		*stage;		/* staging directory, or NULL */
	char		*cache_name;	/* mailbox of the cached listing */
	struct msgcache	*cache;
};

/* Where a mailbox lives; fds are -1 where a directory is missing. */
struct mbloc {
	struct mbname	 mb;
	char		*name;		/* Cyrus-style */
	char		*home;		/* "fred", "example.com/fred" */
	char		*path;		/* ROOT/home/Maildir[/.Folder] */
	char		*dirname;	/* ".Folder", NULL for INBOX */
	const char	*root;		/* the store's */
	int		 rootfd, homefd, mdfd, boxfd;
};

int	store_rootfd(struct store *st, int *fd);
/* Reads a whole file below dirfd (no symlink); 0, or -1 with errno. */
int	read_at(int dirfd, const char *name, struct strbuf *sb,
	    struct timespec *mtime);
/* Mode for files created in a directory: its own, without x bits. */
mode_t	file_mode(int dirfd);
/* Opens a subdirectory without following symlinks: 0 with *fd (-1 when it
 * does not exist) or EX_NOPERM for a symlink / non-directory. */
int	open_subdir(int dirfd, const char *name, const char *what, int *fd);
int	open_home(struct store *st, const char *userid, int *rootfd,
	    int *homefd, char **home);
int	mbloc_open(struct store *st, const char *name, struct mbloc *loc);
void	mbloc_close(struct mbloc *loc);
/* mkdir NAME below dirfd unless it is there, fsync dirfd, open it. */
int	make_subdir(int dirfd, const char *name, const char *what, int *fd);
/* Creates the user's home (and domain directory) if missing. */
int	make_home(struct mbloc *loc, const char *root);
/* Creates what is missing of home, Maildir and the mailbox directories. */
int	mbloc_create(struct mbloc *loc);
/* Makes ROOT/.syncpipe/SUB (and parents), returns an fd on it. */
int	sp_subdir(int rootfd, const char *root, const char *sub, int *fd);
/* Renames the mailbox to ROOT/.syncpipe/attic/HOME/NAME.UIDVALIDITY.TIME
 * (INBOX: its parts only, the folders stay). */
int	mailbox_move_aside(struct mbloc *loc, uint32_t uidvalidity);
/* Removes a directory tree below dirfd (no symlink is followed). */
int	remove_tree(int dirfd, const char *name, const char *what);

/* The dotlock Dovecot takes on NAME: NAME.lock, created O_EXCL, holding
 * "pid:host"; stale when its holder is gone or nothing changed for
 * stale seconds. */
struct dotlock {
	int		 fd;		/* -1 when not held */
	int		 dirfd;		/* not owned */
	char		*name;		/* the protected file */
	char		*lockname;
	char		*what;		/* path for messages */
	dev_t		 dev;
	ino_t		 ino;
	time_t		 touched;
};
int	dotlock_take(int dirfd, const char *dirpath, const char *name,
	    int stale, mode_t mode, struct dotlock *lk);
void	dotlock_touch(struct dotlock *lk);
/* Writes data into the lock file, fsyncs it, makes its mtime later than
 * old (if given) and renames it over the protected file; releases. */
int	dotlock_replace(struct dotlock *lk, const void *data, size_t n,
	    const struct timespec *old);
void	dotlock_release(struct dotlock *lk);

/* Keywords: index -> name, from dovecot-keywords. */
struct kwlist {
	char		*name[KW_MAX];
	struct timespec	 mtime;		/* of the file read */
	int		 changed;
};
void	kw_parse(const char *buf, size_t len, struct kwlist *kw);
void	kw_free(struct kwlist *kw);
int	kw_read(int dirfd, const char *dirpath, struct kwlist *kw);
int	kw_write(int dirfd, const char *dirpath, struct kwlist *kw);
/* Index of a keyword (case-insensitive, as Dovecot looks them up); with
 * create, adds it; -1 if unknown or no letter is left. */
int	kw_index(struct kwlist *kw, const char *name, int create);

/* File names "BASE[:2,FLAGS]". */
size_t	fname_baselen(const char *name);
void	fname_flags(const char *name, const struct kwlist *kw, char flags[8],
	    struct strvec *keywords);
/* "BASE:2,FLAGS" with flags and keyword letters in ASCII order. */
char	*fname_make(const char *base, const char *flags, const char *letters);
/* Dovecot's order for new messages: time in the name, microseconds, then
 * the rest of the base name. */
int	fname_sort_cmp(const char *a, const char *b);

/* dovecot-uidlist contents. */
struct ulrec {
	uint32_t	 uid;
	char		*base;
	char		*ext;		/* extension fields, or NULL */
};
struct uidlist {
	int		 exists;
	uint32_t	 uidvalidity;
	uint32_t	 nextuid;	/* max(N, last UID + 1) */
	char		 guid[GUID_HEX_LEN + 1];
	char		*hdr_ext;	/* other header fields, or NULL */
	struct ulrec	*recs;
	size_t		 n, cap;
	struct timespec	 mtime;
};
/* Parses a whole file; 0, or -1 with *line and *why. */
int	uidlist_parse(const char *buf, size_t len, struct uidlist *ul,
	    size_t *line, const char **why);
void	uidlist_free(struct uidlist *ul);
int	uidlist_read(int dirfd, const char *dirpath, struct uidlist *ul);
int	uidlist_new_identity(struct uidlist *ul);
void	uidlist_header(const struct uidlist *ul, struct strbuf *sb);
void	uidlist_line(struct strbuf *sb, uint32_t uid, const char *ext,
	    const char *base);

/* A mailbox as read: messages, the uidlist (whose records are left with
 * the ones that have no file: kept when it is rewritten), keywords. */
struct mbstate {
	struct mailbox	 mb;
	struct uidlist	 ul;
	struct kwlist	 kw;
	struct ulrec	*exts;		/* extension fields by UID */
	size_t		 nexts;
	int		 cur_fd, new_fd;
};
int	mbstate_load(struct mbloc *loc, struct mbstate *s);
void	mbstate_free(struct mbstate *s);
/* Gives UIDs to unlisted messages the way Dovecot does and an identity to
 * a mailbox without one; *changed set if anything changed. */
int	mbstate_assign(struct mbstate *s, int *changed);
/* The uidlist for the state (messages with a UID, plus kept records). */
void	mbstate_uidlist(const struct mbstate *s, struct strbuf *sb);
void	msg_free_fields(struct msg *m);
int	msg_cmp(const void *a, const void *b);
/* Scans cur/ and new/ of a mailbox into msgs (sorted by base). */
int	scan_messages(int cur_fd, int new_fd, const char *path,
	    const struct kwlist *kw, struct msg **msgs, size_t *n);

#endif
