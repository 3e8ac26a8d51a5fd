/*
 * remote: the client side of the wire protocol (proto.h): a replica
 * reached at an ssh://, sync:// or syncs:// endpoint (endpoint.h).
 *
 * sync-diff asks for the replica's state of every object it compares in
 * one query, and then reads the replica through the "rview" functions
 * below, which answer from that state (or from a local store when the
 * state is NULL).  sync-send ships the bundle and passes on the applied
 * entries the server streams back.
 *
 * Client settings come from options (REMOTE_LONGOPTS) or the environment,
 * never credentials from the command line:
 *   SYNC_RSH          the remote shell for ssh:// (default "ssh")
 *   SYNC_REMOTE_APPLY the program to run there (default "sync-apply")
 *   SYNC_CA_FILE      CA certificates to trust (default: the system's)
 *   SYNC_CERT, SYNC_KEY  a client certificate and its key
 *   SYNC_CREDENTIALS  a file: the SASL identity on its first line, the
 *                     password on the second
 *   SYNC_AUTHID, SYNC_PASSWORD  the same from the environment
 *   SYNC_MECH         the SASL mechanism to use (default: the strongest
 *                     both sides have)
 */
#ifndef SP_REMOTE_H
#define SP_REMOTE_H

#include <getopt.h>
#include <stdio.h>

#include "net.h"
#include "proto.h"
#include "store.h"

struct remote_opts {
	struct tls_opts	 tls;
	const char	*credentials;
	const char	*mech;
	int		 no_deflate;
	int		 deflate_file;	/* sync-send -z: deflate the bundle */
	int		 idle;		/* seconds; 0 = none */
};

enum {
	RO_CA = 0x1000, RO_CERT, RO_KEY, RO_CREDENTIALS, RO_INSECURE,
	RO_MECH, RO_NO_DEFLATE, RO_TIMEOUT
};

#define REMOTE_LONGOPTS \
	{ "ca-file",	 required_argument, NULL, RO_CA }, \
	{ "cert",	 required_argument, NULL, RO_CERT }, \
	{ "key",	 required_argument, NULL, RO_KEY }, \
	{ "credentials", required_argument, NULL, RO_CREDENTIALS }, \
	{ "insecure",	 no_argument,	    NULL, RO_INSECURE }, \
	{ "mech",	 required_argument, NULL, RO_MECH }, \
	{ "no-deflate",	 no_argument,	    NULL, RO_NO_DEFLATE }, \
	{ "timeout",	 required_argument, NULL, RO_TIMEOUT }

/* Help text lines for the options above. */
extern const char remote_help[];

/* Defaults from the environment. */
void	remote_opts_init(struct remote_opts *o);
/* Takes one option of REMOTE_LONGOPTS: 0, or -1 if c is not one. */
int	remote_option(struct remote_opts *o, int c, const char *arg);

struct remote;
/* Connects, agrees on a version, authenticates, starts deflate.  0 with
 * *r, or exit status (reported). */
int	remote_open(const char *endpoint, const struct remote_opts *o,
	    struct remote **r);
/* Asks for the state of objs ("ALL", "USER u", "MAILBOX m", "SUBS u",
 * "SIEVE u").  0 or status. */
int	remote_query(struct remote *r, const struct strvec *objs,
	    struct rstate *rs);
/* One query for everything sync-diff is about to compare: every user with
 * all, else the users, mailboxes, and users' Sieve scripts and
 * subscriptions named.  With all, the replica's users are added to
 * users. */
int	remote_prefetch(struct remote *r, int all, struct strvec *users,
	    const struct strvec *mailboxes, const struct strvec *sieve,
	    const struct strvec *subs, struct rstate *rs);
/* Starts shipping a bundle: *fp takes it. */
int	remote_apply_begin(struct remote *r, FILE **fp);
/* Ends the bundle (st: the writer's status), passes the applied entries
 * to out and returns the server's verdict; a lost connection is
 * EX_TEMPFAIL. */
int	remote_apply_end(struct remote *r, FILE *fp, int st, FILE *out);
/* Says goodbye, reports the bytes moved (note: at the info level) and
 * frees r.  Returns st, or a worse status of the ssh process. */
int	remote_close(struct remote *r, int st, int note);

/* The replica as sync-diff reads it: from the prefetched state rs, or
 * from the store st when rs is NULL. */
int	rview_list_users(struct store *st, const struct rstate *rs,
	    struct strvec *users);
int	rview_user_exists(struct store *st, const struct rstate *rs,
	    const char *userid);
int	rview_list_mailboxes(struct store *st, const struct rstate *rs,
	    const char *userid, struct strvec *names);
int	rview_read_mailbox(struct store *st, const struct rstate *rs,
	    const char *name, struct mailbox *mb);
int	rview_read_subs(struct store *st, const struct rstate *rs,
	    const char *userid, struct strvec *subs);
int	rview_read_sieve(struct store *st, const struct rstate *rs,
	    const char *userid, struct sieve_script **s, size_t *n,
	    char **active);
/* 1 if the master's script has the bytes the replica's state names, 0 if
 * not, -1 on error. */
int	rview_same_script(struct store *master, const struct rstate *rs,
	    const char *userid, const char *name);

/* Where sync-send's bundle goes when it is not plain stdout or a local
 * replica: a remote replica (replica names an endpoint), or stdout through
 * deflate (replica NULL, o->deflate_file).  sink_close() ends the bundle,
 * writes the applied entries on stdout (remote) and returns the result. */
struct sink;
int	sink_open(const char *replica, const struct remote_opts *o, FILE **out,
	    struct sink **sk);
int	sink_close(struct sink *sk, FILE *out, int st);

/* Bundle files compressed with deflate: a stream writing through deflate
 * to fd, and its close (note: report the bytes before and after). */
FILE	*deflate_fopen(int fd, struct conn **c);
int	deflate_fclose(FILE *fp, struct conn *c, int note);
/* A stream reading fd that inflates when the data starts as a zlib
 * stream does, and passes it through otherwise. */
FILE	*inflate_fopen(int fd, struct conn **c);

#endif
