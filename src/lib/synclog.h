/*
 * synclog: entries of a sync log and the file protocol around them.
 *
 * An entry is one line: TYPE SP arg1 [SP arg2] LF, in the word grammar of
 * words.h; TYPE is case-insensitive.  The types and their arguments:
 *
 *   USER u, UNUSER u, META u, SIEVE u      a whole user / its Sieve scripts
 *   MAILBOX m, APPEND m, UNMAILBOX m       one mailbox (Cyrus internal name)
 *   DOUBLEMAILBOX m1 m2, RENAME m1 m2      two mailboxes
 *   QUOTA root, ANNOTATION m               recorded, nothing to replicate
 *   SEEN u uniqueid                        non-owner seen state
 *   SUB u m, UNSUB u m                     subscriptions of u
 *
 * A stream of *applied entries* (what sync-apply writes) is the same lines
 * between a head "%syncpipe applied 1" and a tail "%end N" (N entries); the
 * reader understands both plain entries and this framed form.
 *
 * Writers (sync-relog) append with synclog_append(): O_APPEND, exclusive
 * flock and fcntl locks (a Cyrus server's writer may use either), check
 * that the open inode is still the one at the path (a consumer may have
 * renamed it: reopen and retry), one write of whole lines, fsync, unlock.
 * Consumers (synclog-tail --consume) use synclog_take(): a leftover LOG-run
 * is taken first; otherwise LOG is renamed to LOG-run and locked and
 * unlocked once (both kinds of lock) so that writers still holding the old
 * inode finish first.
 */
#ifndef SP_SYNCLOG_H
#define SP_SYNCLOG_H

#include <stdio.h>

#include "util.h"

enum entry_type {
	E_USER, E_UNUSER, E_META, E_SIEVE, E_MAILBOX, E_APPEND,
	E_DOUBLEMAILBOX, E_RENAME, E_UNMAILBOX, E_QUOTA, E_ANNOTATION,
	E_SEEN, E_SUB, E_UNSUB,
	E_NTYPES
};

struct entry {
	enum entry_type	 type;
	char		*arg1;
	char		*arg2;		/* NULL for one-argument types */
};

const char	*entry_type_name(enum entry_type t);	/* "MAILBOX" */
int		 entry_type_lookup(const char *name);	/* -1 if unknown */
int		 entry_type_nargs(enum entry_type t);	/* 1 or 2 */

/* Parses one line (without LF).  0 and *e filled (args owned by e), or -1
 * with *why set. */
int	entry_parse(const char *line, size_t len, struct entry *e,
	    const char **why);
/* Appends the canonical form of e with its LF. */
void	entry_format(struct strbuf *sb, const struct entry *e);
void	entry_free(struct entry *e);

/*
 * Reads entries from a stream.  Malformed lines are reported as
 * "name:line: why" and skipped (bad_lines counts them).  A framed stream
 * ("%syncpipe applied 1" ... "%end N") sets framed, and ended once its tail
 * was read with the right count.
 */
struct entry_reader {
	FILE		*fp;
	const char	*name;		/* for messages: file name or "stdin" */
	unsigned long	 lineno;
	unsigned long	 bad_lines;
	unsigned long	 count;		/* entries returned */
	int		 framed;
	int		 ended;
	unsigned long	 frame_start;	/* count + bad_lines at the head */
	char		*buf;
	size_t		 bufcap;
};
void	entry_reader_init(struct entry_reader *r, FILE *fp, const char *name);
/* 1: *e filled; 0: end of input; -1: read error or bad frame (reported;
 * the status to exit with is in *status). */
int	entry_reader_next(struct entry_reader *r, struct entry *e, int *status);
void	entry_reader_free(struct entry_reader *r);

/* Appends data (whole lines) to the sync log at path.  0 or exit status. */
int	synclog_append(const char *path, const char *data, size_t len);

/*
 * Takes the next batch of the sync log at path: its bytes into data, and in
 * *runpath (to free) the name of the file to hand to synclog_done() once
 * the batch was handed on; *runpath stays NULL when there is nothing to do.
 * *leftover tells that path-run was there already.  0 or exit status.
 */
int	synclog_take(const char *path, struct strbuf *data, char **runpath,
	    int *leftover);
/* The same, but the batch's file is left open for reading from its start
 * in *fd (to close) instead of being read whole.  0 or exit status. */
int	synclog_take_fd(const char *path, int *fd, char **runpath,
	    int *leftover);
/* Removes a batch's file for good: unlink, fsync the directory. */
int	synclog_done(const char *runpath);

/*
 * Coalescing as Cyrus does it: exact duplicates collapse, APPEND m counts
 * as MAILBOX m; USER u subsumes META/SIEVE/SEEN/SUB/UNSUB of u; UNUSER u
 * subsumes everything of u (USER and mailboxes included); mailboxes come
 * out grouped by owning user.
 * Memory grows with the distinct objects, not the entries.
 */
struct coalescer;
struct coalescer	*coalescer_new(void);
void			 coalescer_add(struct coalescer *c, const struct entry *e);
/* Appends the coalesced entries to sb, one line each; returns their count. */
size_t			 coalescer_emit(struct coalescer *c, struct strbuf *sb);
void			 coalescer_free(struct coalescer *c);

#endif
