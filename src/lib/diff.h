/*
 * diff: compares the master's and the replica's state of named objects and
 * writes the changes that make the replica equal to the master.
 *
 * The rules, per mailbox (matched by name):
 * - only on the master: create it with the same GUID and UIDVALIDITY, add
 *   every message with its UID;
 * - only on the replica: delete it, naming the GUID and UIDVALIDITY seen;
 * - different UIDVALIDITY: the master's mailbox replaces the replica's (the
 *   replica keeps the old one aside);
 * - same UIDVALIDITY: messages only on the master are added; replica
 *   messages below the master's next UID that the master no longer has are
 *   expunged; different flags or keywords are set.  A replica message the
 *   master never numbered (at or above the master's next UID, or under a
 *   UID the master gave to another message) is split brain: with rescue it
 *   is copied to the master first and gets a UID there, otherwise it is
 *   reported as a conflict; it is never deleted.
 * - a master mailbox whose GUID a replica mailbox of another name has is a
 *   rename; a message the replica already holds elsewhere is copied there.
 * Per user: subscriptions and Sieve scripts (by content) and the active one.
 */
#ifndef SP_DIFF_H
#define SP_DIFF_H

#include "remote.h"
#include "store.h"
#include "stream.h"

struct diff_stats {
	unsigned long	mailboxes;	/* mailboxes compared */
	unsigned long	changes;	/* records written */
	unsigned long	conflicts;
	unsigned long	adds;
	unsigned long	copies;		/* adds served by the replica's bodies */
	unsigned long	renames;
	unsigned long	rescued;	/* replica-only messages saved */
	uint64_t	add_bytes;
};

struct differ {
	struct store	*master;
	struct store	*replica;
	struct swriter	*out;
	int		 rescue;	/* copy split-brain orphans to master */
	int		 master_users;	/* how many, -1 until counted */
	/* Mailboxes the entries named one by one (sorted): only those are
	 * deleted on the replica when the master lacks them. */
	const struct strvec *named;
	const struct rstate *remote;	/* a remote replica's state, or NULL */
	struct diff_stats st;
};

/* Mailboxes of one user (the names sorted, unique): renames are found by
 * GUID among them, and copies by content among the replica's. */
int	diff_mailboxes(struct differ *d, const struct strvec *names);
int	diff_mailbox(struct differ *d, const char *name);
int	diff_subs(struct differ *d, const char *userid);
int	diff_sieve(struct differ *d, const char *userid);
/* Everything of a user: all mailboxes on either side, subscriptions and
 * Sieve; a user gone from the master is deleted on the replica. */
int	diff_user(struct differ *d, const char *userid);

#endif
