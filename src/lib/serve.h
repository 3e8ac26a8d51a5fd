/*
 * serve: the server side of the wire protocol (proto.h), run by
 * sync-apply.  A session answers state queries from the store and applies
 * bundles to it with apply_bundle().
 *
 * Three ways to run: on standard input and output for ssh (no TLS, no
 * SASL: ssh authenticated the peer); on one accepted socket (inetd, systemd
 * socket activation); or as a daemon that listens, forks a session per
 * connection up to a limit, drops privileges after binding and stops
 * cleanly on SIGTERM.  Over TCP a session requires TLS (STARTTLS first, or
 * TLS from the first byte) and then SASL authentication as an identity on
 * the allow-list; a failed authentication is logged with the peer's
 * address and answered after a delay.
 */
#ifndef SP_SERVE_H
#define SP_SERVE_H

#include "net.h"

struct serve_opts {
	const char	*root;		/* the replica store */
	int		 implicit_tls;	/* TLS from the first byte (syncs://) */
	struct tls_opts	 tls;
	const char	*sasl_db;	/* sasldb file; NULL: libsasl2's */
	const char	*sasl_realm;
	const char	*mechs;		/* "SCRAM-SHA-256 PLAIN" */
	struct strvec	 allow;		/* identities that may apply, sorted */
	int		 max_conn;
	int		 idle;		/* seconds */
	int		 total;		/* seconds */
	int		 fail_delay;	/* seconds before a failed AUTH's NO */
	const char	*run_as;	/* user to become after binding */
	int		 deflate;	/* offer DEFLATE */
};

enum {
	SO_SERVE = 0x2000, SO_LISTEN, SO_INETD, SO_TLS, SO_CERT, SO_KEY,
	SO_CLIENT_CA, SO_SASL_DB, SO_SASL_REALM, SO_MECHS, SO_ALLOW,
	SO_ALLOW_FILE, SO_MAX_CONN, SO_IDLE, SO_TIMEOUT, SO_USER,
	SO_AUTH_DELAY, SO_NO_DEFLATE
};

#define SERVE_LONGOPTS \
	{ "serve",	     no_argument,	NULL, SO_SERVE }, \
	{ "listen",	     required_argument, NULL, SO_LISTEN }, \
	{ "inetd",	     no_argument,	NULL, SO_INETD }, \
	{ "tls",	     no_argument,	NULL, SO_TLS }, \
	{ "tls-cert",	     required_argument, NULL, SO_CERT }, \
	{ "tls-key",	     required_argument, NULL, SO_KEY }, \
	{ "tls-client-ca",   required_argument, NULL, SO_CLIENT_CA }, \
	{ "sasl-db",	     required_argument, NULL, SO_SASL_DB }, \
	{ "sasl-realm",	     required_argument, NULL, SO_SASL_REALM }, \
	{ "sasl-mechs",	     required_argument, NULL, SO_MECHS }, \
	{ "allow",	     required_argument, NULL, SO_ALLOW }, \
	{ "allow-file",	     required_argument, NULL, SO_ALLOW_FILE }, \
	{ "max-connections", required_argument, NULL, SO_MAX_CONN }, \
	{ "idle-timeout",    required_argument, NULL, SO_IDLE }, \
	{ "timeout",	     required_argument, NULL, SO_TIMEOUT }, \
	{ "user",	     required_argument, NULL, SO_USER }, \
	{ "auth-delay",	     required_argument, NULL, SO_AUTH_DELAY }, \
	{ "no-deflate",	     no_argument,	NULL, SO_NO_DEFLATE }

/* How sync-apply runs: the options above pick one. */
enum serve_mode { SERVE_NONE, SERVE_PIPE, SERVE_LISTEN, SERVE_INETD };

extern const char serve_help[];

void	serve_opts_init(struct serve_opts *o);
/* Takes one option of SERVE_LONGOPTS: 0, -1 if c is not one, or EX_USAGE
 * / EX_CONFIG (reported).  *mode and *addr follow --serve, --listen and
 * --inetd. */
int	serve_option(struct serve_opts *o, int c, const char *arg,
	    enum serve_mode *mode, const char **addr);
/* Runs the mode chosen, serving the store at root. */
int	serve_run(struct serve_opts *o, enum serve_mode mode,
	    const char *addr, const char *root);
/* Reads identities, one a line ('#' comments), into o->allow. */
int	serve_read_allow(struct serve_opts *o, const char *path);
/* A session on stdin/stdout, trusted (under ssh). */
int	serve_pipe(struct serve_opts *o);
/* A session on the socket that is stdin (inetd, systemd Accept=yes). */
int	serve_inetd(struct serve_opts *o);
/* Listens on ADDR:PORT and serves each connection in a child. */
int	serve_listen(struct serve_opts *o, const char *addr);

#endif
