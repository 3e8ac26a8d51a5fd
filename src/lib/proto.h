/*
 * proto: the wire protocol between sync-diff / sync-send and a sync-apply
 * server, over ssh (sync-apply --serve) or TCP (sync-apply --listen).
 *
 * Lines are words in the grammar of words.h, at most PROTO_LINE_MAX bytes.
 * The server speaks first:
 *
 *   S: %syncpipe server VERSIONS FEATURE...
 *
 * VERSIONS is "1" or a range "1-3"; FEATURES are words such as STARTTLS,
 * AUTH=PLAIN, AUTH=SCRAM-SHA-256, DEFLATE; a word a peer does not know is
 * ignored, so that optional features can be added.  The client answers
 *
 *   C: HELLO VERSION
 *   S: OK [text]   or   NO CODE text
 *
 * naming the highest version both speak; a server that does not speak it
 * says which versions it does.  Every command gets "OK [text]" or
 * "NO CODE text", CODE being the exit status (exitcodes.h) the client
 * should end with.  The commands:
 *
 *   STARTTLS            TLS starts after the OK; the server greets again
 *   AUTH MECH [=|B64]   SASL: "+ B64" challenges and "B64" (or "*" to give
 *                       up) responses until OK or NO
 *   DEFLATE             zlib deflate both ways from the byte after the OK
 *   QUERY               followed by object lines and "%end N"; the answer
 *                       is a state stream (below), or NO
 *   APPLY               followed by a bundle (sync-stream(5)); the answer
 *                       is the applied entries, then OK or NO
 *   QUIT                OK, then the server closes
 *
 * Over TCP nothing but STARTTLS, HELLO and QUIT is accepted before TLS, and
 * nothing but those and AUTH before authentication.
 *
 * Query objects:  ALL | USER u | MAILBOX m | SUBS u | SIEVE u
 *
 * State stream (what the replica holds of the objects asked for; anything
 * not mentioned does not exist there):
 *
 *   %syncpipe state 1
 *   HOME u                              the user has a home
 *   MBOX m guid uidvalidity uidnext     a mailbox, then its messages:
 *   MSG uid base flags mtime size [keyword...]
 *   SUB u name                          one subscription, in file order
 *   SCRIPT u name size mtime sha256     a Sieve script
 *   ACTIVE u name                       the active script
 *   %end N                              N: the number of records
 */
#ifndef SP_PROTO_H
#define SP_PROTO_H

#include <stdint.h>

#include "net.h"
#include "store.h"
#include "words.h"

#define PROTO_VERSION_MIN	1
#define PROTO_VERSION_MAX	1
#define PROTO_LINE_MAX		65536
#define STATE_VERSION		1

/* The server's greeting. */
struct greeting {
	int		 vmin, vmax;
	int		 starttls;
	int		 deflate;
	struct strvec	 mechs;		/* AUTH= mechanisms, as given */
};

/* Parses a greeting line (modified in place).  0 or -1 with *why. */
int	greeting_parse(char *line, struct greeting *g, const char **why);
void	greeting_free(struct greeting *g);
/* The highest version in both ranges, or 0 if none. */
int	proto_common_version(int amin, int amax, int bmin, int bmax);
/* "1" or "1-3" */
char	*proto_versions_text(int vmin, int vmax);

/* A reply line: '+' with text (a challenge), 'O' (OK), 'N' (NO, code). */
struct reply {
	int		 kind;
	int		 code;
	const char	*text;		/* points into the line */
};
/* Parses a reply line (modified in place).  0 or -1 with *why. */
int	reply_parse(char *line, struct reply *r, const char **why);

/* The replica's state of the objects of one query. */
struct rsieve {
	char		*user;
	char		*active;
	struct sieve_script *s;
	char		(*sha)[65];
	size_t		 n;
};
struct rsubs {
	char		*user;
	struct strvec	 subs;
};
struct rstate {
	struct strvec	 users;		/* HOME, sorted at the end */
	struct mailbox	*mb;		/* sorted by name at the end */
	size_t		 nmb;
	struct rsubs	*subs;
	size_t		 nsubs;
	struct rsieve	*sieve;
	size_t		 nsieve;
	unsigned long	 count;		/* records read */
	int		 ended;
};

/* Takes one line of a state stream (after its head; modified in place).
 * 0 for a record, 1 for the tail (checked), -1 with *why. */
int	rstate_line(struct rstate *rs, char *line, size_t len,
	    const char **why);
/* Sorts for the lookups below. */
void	rstate_finish(struct rstate *rs);
void	rstate_free(struct rstate *rs);
const struct mailbox *rstate_mailbox(const struct rstate *rs,
	    const char *name);
const struct rsubs *rstate_subs(const struct rstate *rs, const char *user);
const struct rsieve *rstate_sieve(const struct rstate *rs, const char *user);
int	rstate_has_user(const struct rstate *rs, const char *user);

/* Encoders for the server: one record line each (with LF) into sb. */
void	state_put_mailbox(struct strbuf *sb, const struct mailbox *mb);
void	state_put_msg(struct strbuf *sb, const struct msg *m);
void	state_put_script(struct strbuf *sb, const char *user,
	    const struct sieve_script *s, const char *sha);

/* Copies a mailbox (for handing out of an rstate). */
void	mailbox_copy(struct mailbox *dst, const struct mailbox *src);

#endif
