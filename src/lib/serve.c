/*
 * serve: sessions of the wire protocol on the replica's side (see serve.h
 * and proto.h).
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <netdb.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <sasl/sasl.h>

#include "apply.h"
#include "proto.h"
#include "serve.h"
#include "stream.h"

#define AUTH_TRIES	3

struct session {
	struct serve_opts *o;
	struct conn	*c;
	int		 tcp;		/* TLS and SASL required */
	int		 version;	/* from HELLO; 0 before */
	int		 authed;
	int		 done;		/* close after this reply */
	int		 status;	/* of the last APPLY */
	int		 fails;
	char		*who;
	sasl_conn_t	*sasl;
	unsigned long	 bundles;
	struct strbuf	 line;
};

void
serve_opts_init(struct serve_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->mechs = "SCRAM-SHA-256 PLAIN";
	o->max_conn = 16;
	o->idle = 300;
	o->total = 3600;
	o->fail_delay = 2;
	o->deflate = 1;
}

const char serve_help[] =
    "      --serve         one session on stdin/stdout (under ssh)\n"
    "      --listen ADDR:PORT  serve TCP connections as a daemon\n"
    "      --inetd         one TCP session on stdin (inetd, systemd)\n"
    "      --tls           TLS from the first byte (syncs://), not STARTTLS\n"
    "      --tls-cert FILE, --tls-key FILE  the server's certificate\n"
    "      --tls-client-ca FILE  require client certificates from this CA\n"
    "      --sasl-db FILE  the sasldb of identities and passwords\n"
    "      --sasl-realm R  --sasl-mechs \"SCRAM-SHA-256 PLAIN\"\n"
    "      --allow ID      this identity may apply (repeatable)\n"
    "      --allow-file FILE  identities that may apply, one a line\n"
    "      --max-connections N (16)  --idle-timeout SECS (300)\n"
    "      --timeout SECS  limit of a whole connection (3600)\n"
    "      --user NAME     become NAME after binding the port\n"
    "      --auth-delay SECS  before answering a failed login (2)\n"
    "      --no-deflate    do not offer compression\n";

static int
number(const char *opt, const char *arg, int *out)
{
	uint32_t v;

	if (parse_u32(arg, &v) != 0 || v > 1000000) {
		sp_err("--%s: not a number: \"%s\"", opt, arg);
		return EX_USAGE;
	}
	*out = v;
	return 0;
}

static int
set_mode(enum serve_mode *mode, enum serve_mode m)
{
	if (*mode != SERVE_NONE && *mode != m) {
		sp_err("--serve, --listen and --inetd exclude each other");
		return EX_USAGE;
	}
	*mode = m;
	return 0;
}

int
serve_option(struct serve_opts *o, int c, const char *arg,
    enum serve_mode *mode, const char **addr)
{
	switch (c) {
	case SO_SERVE: return set_mode(mode, SERVE_PIPE);
	case SO_LISTEN: *addr = arg; return set_mode(mode, SERVE_LISTEN);
	case SO_INETD: return set_mode(mode, SERVE_INETD);
	case SO_TLS: o->implicit_tls = 1; return 0;
	case SO_CERT: o->tls.cert = arg; return 0;
	case SO_KEY: o->tls.key = arg; return 0;
	case SO_CLIENT_CA:
		o->tls.ca = arg;
		o->tls.verify_peer = 1;
		return 0;
	case SO_SASL_DB: o->sasl_db = arg; return 0;
	case SO_SASL_REALM: o->sasl_realm = arg; return 0;
	case SO_MECHS: o->mechs = arg; return 0;
	case SO_ALLOW: sv_push(&o->allow, arg); return 0;
	case SO_ALLOW_FILE: return serve_read_allow(o, arg);
	case SO_MAX_CONN: return number("max-connections", arg, &o->max_conn);
	case SO_IDLE: return number("idle-timeout", arg, &o->idle);
	case SO_TIMEOUT: return number("timeout", arg, &o->total);
	case SO_USER: o->run_as = arg; return 0;
	case SO_AUTH_DELAY: return number("auth-delay", arg, &o->fail_delay);
	case SO_NO_DEFLATE: o->deflate = 0; return 0;
	default: return -1;
	}
}

int
serve_run(struct serve_opts *o, enum serve_mode mode, const char *addr,
    const char *root)
{
	int st;

	o->root = root;
	sv_sort_uniq(&o->allow);
	if (mode == SERVE_PIPE)
		st = serve_pipe(o);
	else if (mode == SERVE_INETD)
		st = serve_inetd(o);
	else
		st = serve_listen(o, addr);
	sv_free(&o->allow);
	return st;
}

int
serve_read_allow(struct serve_opts *o, const char *path)
{
	struct strbuf sb = STRBUF_INIT;
	char *p, *nl;

	if (read_file(path, &sb) != 0) {
		sp_syserr("%s", path);
		return EX_CONFIG;
	}
	for (p = sb.s; p != NULL && *p != '\0'; p = nl) {
		if ((nl = strchr(p, '\n')) != NULL)
			*nl++ = '\0';
		p += strspn(p, " \t");
		p[strcspn(p, " \t\r#")] = '\0';
		if (*p != '\0')
			sv_push(&o->allow, p);
	}
	sb_free(&sb);
	return 0;
}

static int
reply(struct session *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
reply(struct session *s, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	conn_printf(s->c, "%s\n", buf);
	return conn_flush(s->c);
}

static int
greet(struct session *s)
{
	struct strbuf sb = STRBUF_INIT;
	char *v = proto_versions_text(PROTO_VERSION_MIN, PROTO_VERSION_MAX);
	const char *p, *e;
	int st;

	sb_addf(&sb, "%%syncpipe server %s", v);
	if (s->tcp && s->c->ssl == NULL)
		sb_adds(&sb, " STARTTLS");
	for (p = s->o->mechs; s->tcp && s->c->ssl != NULL && *p; p = e) {
		p += strspn(p, " ,");
		e = p + strcspn(p, " ,");
		if (e > p)
			sb_addf(&sb, " AUTH=%.*s", (int)(e - p), p);
	}
	if (s->o->deflate)
		sb_adds(&sb, " DEFLATE");
	st = reply(s, "%s", sb.s);
	free(v);
	sb_free(&sb);
	return st;
}

/* Commands */

static int
cmd_hello(struct session *s, char **w, int nw)
{
	uint32_t v = 0;
	char *mine = proto_versions_text(PROTO_VERSION_MIN, PROTO_VERSION_MAX);
	int st;

	if (nw != 2 || parse_u32(w[1], &v) != 0 || v < PROTO_VERSION_MIN ||
	    v > PROTO_VERSION_MAX) {
		sp_err("%s: no common protocol version: the client asked "
		    "for %s, this server speaks %s", s->c->peer,
		    nw > 1 ? w[1] : "none", mine);
		st = reply(s, "NO %d no common protocol version: this server "
		    "speaks %s", EX_PROTOCOL, mine);
		s->done = 1;
	} else {
		s->version = v;
		st = reply(s, "OK protocol %" PRIu32, v);
	}
	free(mine);
	return st;
}

static int
cmd_starttls(struct session *s)
{
	int st;

	if (!s->tcp || s->c->ssl != NULL)
		return reply(s, "NO %d TLS is already on, or not offered",
		    EX_PROTOCOL);
	if ((st = reply(s, "OK begin TLS")) != 0)
		return st;
	if ((st = conn_tls_server(s->c, &s->o->tls)) != 0) {
		s->done = 1;
		return st;
	}
	sp_debug("%s: TLS: %s", s->c->peer, conn_tls_desc(s->c));
	return greet(s);
}

static int
cmd_deflate(struct session *s)
{
	int st;

	if (!s->o->deflate || s->c->zin_on)
		return reply(s, "NO %d deflate is not offered", EX_PROTOCOL);
	if ((st = reply(s, "OK deflate")) != 0)
		return st;
	return conn_deflate(s->c, 1, 1);
}

/* SASL */

static int
sasl_getopt(void *ctx, const char *plugin, const char *opt,
    const char **result, unsigned *len)
{
	struct serve_opts *o = ctx;

	(void)plugin;
	if (strcmp(opt, "sasldb_path") == 0 && o->sasl_db != NULL)
		*result = o->sasl_db;
	else if (strcmp(opt, "mech_list") == 0)
		*result = o->mechs;
	else if (strcmp(opt, "pwcheck_method") == 0)
		*result = "auxprop";
	else if (strcmp(opt, "auxprop_plugin") == 0)
		*result = "sasldb";
	else
		return SASL_FAIL;
	if (len != NULL)
		*len = strlen(*result);
	return SASL_OK;
}

static int
sasl_log(void *ctx, int level, const char *msg)
{
	/* A failure is reported once, by auth_fail(), with the peer. */
	(void)ctx;
	if (level <= SASL_LOG_NOTE)
		sp_debug("sasl: %s", msg);
	return SASL_OK;
}

static int
sasl_setup(struct session *s)
{
	static sasl_callback_t cb[3];
	static int done;
	sasl_security_properties_t sec;
	sasl_ssf_t ssf = 256;
	int r;

	if (!done) {
		cb[0].id = SASL_CB_GETOPT;
		cb[0].proc = (int (*)(void))(void (*)(void))sasl_getopt;
		cb[0].context = s->o;
		cb[1].id = SASL_CB_LOG;
		cb[1].proc = (int (*)(void))(void (*)(void))sasl_log;
		cb[2].id = SASL_CB_LIST_END;
		if ((r = sasl_server_init(cb, "syncpipe")) != SASL_OK) {
			sp_err("sasl: cannot start: %s", sasl_why(r));
			return EX_CONFIG;
		}
		done = 1;
	}
	r = sasl_server_new("syncpipe", NULL, s->o->sasl_realm, NULL, NULL,
	    NULL, 0, &s->sasl);
	if (r != SASL_OK) {
		sp_err("sasl: %s", sasl_why(r));
		return EX_CONFIG;
	}
	memset(&sec, 0, sizeof(sec));
	sec.security_flags = SASL_SEC_NOANONYMOUS;
	sasl_setprop(s->sasl, SASL_SEC_PROPS, &sec);
	sasl_setprop(s->sasl, SASL_SSF_EXTERNAL, &ssf);
	return 0;
}

/* The client's next SASL response; -1 when it gave up or failed. */
static int
auth_response(struct session *s, struct strbuf *resp)
{
	if (conn_getline(s->c, &s->line, PROTO_LINE_MAX) != 1)
		return -1;
	if (strcmp(s->line.s, "*") == 0)
		return -1;
	if (strcmp(s->line.s, "=") == 0) {
		sb_reset(resp);
		return 0;
	}
	return sasl64_decode(s->line.s, resp);
}

static int
auth_fail(struct session *s, const char *mech, const char *why)
{
	const char *user = NULL;

	if (s->sasl != NULL)
		sasl_getprop(s->sasl, SASL_USERNAME, (const void **)&user);
	sp_err("%s: authentication failed (%s%s%s): %s", s->c->peer, mech,
	    user ? " as " : "", user ? user : "", why);
	if (s->sasl != NULL)
		sasl_dispose(&s->sasl);
	if (++s->fails >= AUTH_TRIES)
		s->done = 1;
	/* XXX: the delay holds a child process; a daemon under attack
	 * reaches its connection limit sooner */
	if (s->o->fail_delay > 0)
		sleep(s->o->fail_delay);
	return reply(s, "NO %d authentication failed", EX_NOPERM);
}

/* Is this SASL identity on the allow-list?  "fred@REALM" matches "fred"
 * when REALM is the realm of --sasl-realm. */
static int
may_apply(const struct serve_opts *o, const char *user)
{
	size_t n = strlen(user), rn;
	char *bare;
	int ok;

	if (sv_contains(&o->allow, user))
		return 1;
	if (o->sasl_realm == NULL)
		return 0;
	rn = strlen(o->sasl_realm);
	if (n <= rn + 1 || user[n - rn - 1] != '@' ||
	    strcmp(user + n - rn, o->sasl_realm) != 0)
		return 0;
	bare = xstrndup(user, n - rn - 1);
	ok = sv_contains(&o->allow, bare);
	free(bare);
	return ok;
}

/* Runs the SASL exchange once started; r is the last result. */
static int
auth_steps(struct session *s, const char *mech, int r, const char *out,
    unsigned outlen)
{
	struct strbuf b64 = STRBUF_INIT, resp = STRBUF_INIT;
	const char *user;
	int st = 0;

	while (r == SASL_CONTINUE || (r == SASL_OK && outlen > 0)) {
		sasl64_encode(out, outlen, &b64);
		if ((st = reply(s, "+ %s", b64.s)) != 0)
			goto out;
		if (auth_response(s, &resp) != 0) {
			r = SASL_BADPROT;
			break;
		}
		if (r == SASL_OK)
			break;
		out = NULL;
		outlen = 0;
		r = sasl_server_step(s->sasl, resp.s, resp.len, &out, &outlen);
	}
	if (r != SASL_OK) {
		st = auth_fail(s, mech, sasl_why(r));
		goto out;
	}
	sasl_getprop(s->sasl, SASL_USERNAME, (const void **)&user);
	if (!may_apply(s->o, user)) {
		st = auth_fail(s, mech, "not on the allow-list");
		goto out;
	}
	s->who = xstrdup(user);
	s->authed = 1;
	sp_debug("%s: authenticated as %s (%s)", s->c->peer, user, mech);
	st = reply(s, "OK authenticated as %s", user);
out:
	sb_free(&b64);
	sb_free(&resp);
	return st;
}

static int
cmd_auth(struct session *s, char **w, int nw)
{
	struct strbuf init = STRBUF_INIT;
	const char *out = NULL;
	unsigned outlen = 0;
	char *mech;
	int r, st;

	if (nw < 2 || nw > 3)
		return reply(s, "NO %d usage: AUTH MECH [RESPONSE]", EX_USAGE);
	if (s->authed)
		return reply(s, "NO %d already authenticated", EX_PROTOCOL);
	if ((st = sasl_setup(s)) != 0) {
		s->done = 1;
		return reply(s, "NO %d authentication is not set up", st);
	}
	if (nw == 3 && strcmp(w[2], "=") != 0 &&
	    sasl64_decode(w[2], &init) != 0) {
		sb_free(&init);
		return auth_fail(s, w[1], "bad base64");
	}
	/* w[] points into the line, which the exchange reuses. */
	mech = xstrdup(w[1]);
	r = sasl_server_start(s->sasl, mech, nw == 3 ? init.s : NULL,
	    init.len, &out, &outlen);
	explicit_bzero(init.s, init.len);
	sb_free(&init);
	st = auth_steps(s, mech, r, out, outlen);
	free(mech);
	return st;
}

/* QUERY */

static int
put(struct session *s, struct strbuf *sb, unsigned long *n)
{
	(*n)++;
	conn_write(s->c, sb->s, sb->len);
	sb_reset(sb);
	return s->c->status;
}

static int
send_mailbox(struct session *s, struct store *st, const char *name,
    unsigned long *n)
{
	struct strbuf sb = STRBUF_INIT;
	struct mailbox mb;
	size_t i;
	int r;

	memset(&mb, 0, sizeof(mb));
	if ((r = store_read_mailbox(st, name, &mb, 0)) == 0 && mb.exists) {
		state_put_mailbox(&sb, &mb);
		r = put(s, &sb, n);
		for (i = 0; r == 0 && i < mb.nmsgs; i++) {
			state_put_msg(&sb, &mb.msgs[i]);
			r = put(s, &sb, n);
		}
	}
	mailbox_free(&mb);
	sb_free(&sb);
	return r;
}

static int
send_subs(struct session *s, struct store *st, const char *user,
    unsigned long *n)
{
	struct strvec subs = STRVEC_INIT;
	struct strbuf sb = STRBUF_INIT;
	size_t i;
	int r = store_read_subs(st, user, &subs);

	for (i = 0; r == 0 && i < subs.n; i++) {
		sb_adds(&sb, "SUB");
		rec_word(&sb, user);
		rec_word(&sb, subs.v[i]);
		sb_addc(&sb, '\n');
		r = put(s, &sb, n);
	}
	sv_free(&subs);
	sb_free(&sb);
	return r;
}

static int
script_sha(struct store *st, const char *user, const char *name,
    char hex[65])
{
	unsigned char buf[16384], dig[EVP_MAX_MD_SIZE];
	unsigned int dn = 0;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	ssize_t k;
	int fd, r;

	if ((r = store_open_sieve(st, user, name, &fd)) != 0) {
		EVP_MD_CTX_free(md);
		return r;
	}
	EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	while ((k = read_full(fd, buf, sizeof(buf))) > 0)
		EVP_DigestUpdate(md, buf, k);
	EVP_DigestFinal_ex(md, dig, &dn);
	EVP_MD_CTX_free(md);
	close(fd);
	if (k < 0) {
		sp_syserr("%s: script %s", user, name);
		return EX_IOERR;
	}
	hex_encode(dig, dn, hex);
	return 0;
}

static int
send_sieve(struct session *s, struct store *st, const char *user,
    unsigned long *n)
{
	struct sieve_script *sc = NULL;
	struct strbuf sb = STRBUF_INIT;
	char *active = NULL, hex[65];
	size_t i, k = 0;
	int r = store_read_sieve(st, user, &sc, &k, &active);

	for (i = 0; r == 0 && i < k; i++) {
		if ((r = script_sha(st, user, sc[i].name, hex)) != 0)
			break;
		state_put_script(&sb, user, &sc[i], hex);
		r = put(s, &sb, n);
	}
	if (r == 0 && active != NULL) {
		sb_adds(&sb, "ACTIVE");
		rec_word(&sb, user);
		rec_word(&sb, active);
		sb_addc(&sb, '\n');
		r = put(s, &sb, n);
	}
	sieve_scripts_free(sc, k);
	free(active);
	sb_free(&sb);
	return r;
}

static int
send_user(struct session *s, struct store *st, const char *user,
    unsigned long *n)
{
	struct strvec names = STRVEC_INIT;
	struct strbuf sb = STRBUF_INIT;
	size_t i;
	int r = 0;

	if (!store_user_exists(st, user))
		return 0;
	sb_adds(&sb, "HOME");
	rec_word(&sb, user);
	sb_addc(&sb, '\n');
	r = put(s, &sb, n);
	if (r == 0)
		r = store_list_mailboxes(st, user, &names);
	for (i = 0; r == 0 && i < names.n; i++)
		r = send_mailbox(s, st, names.v[i], n);
	if (r == 0)
		r = send_subs(s, st, user, n);
	if (r == 0)
		r = send_sieve(s, st, user, n);
	sv_free(&names);
	sb_free(&sb);
	return r;
}

static int
send_all(struct session *s, struct store *st, unsigned long *n)
{
	struct strvec users = STRVEC_INIT;
	size_t i;
	int r = store_list_users(st, &users);

	for (i = 0; r == 0 && i < users.n; i++)
		r = send_user(s, st, users.v[i], n);
	sv_free(&users);
	return r;
}

static int
send_object(struct session *s, struct store *st, char **w, int nw,
    unsigned long *n)
{
	if (nw == 1 && strcmp(w[0], "ALL") == 0)
		return send_all(s, st, n);
	if (nw != 2)
		return -1;
	if (strcmp(w[0], "USER") == 0)
		return send_user(s, st, w[1], n);
	if (strcmp(w[0], "MAILBOX") == 0)
		return send_mailbox(s, st, w[1], n);
	if (strcmp(w[0], "SUBS") == 0)
		return send_subs(s, st, w[1], n);
	if (strcmp(w[0], "SIEVE") == 0)
		return send_sieve(s, st, w[1], n);
	return -1;
}

/* Reads the objects of a query up to its tail. */
static int
read_query(struct session *s, struct strvec *objs)
{
	char *w[WORDS_MAX], *copy;
	const char *why;
	uint64_t n;
	int nw;

	for (;;) {
		if ((nw = conn_getline(s->c, &s->line, PROTO_LINE_MAX)) != 1)
			return nw == -2 ? EX_DATAERR : s->c->status ?
			    s->c->status : EX_TEMPFAIL;
		copy = xstrdup(s->line.s);
		nw = words_split(s->line.s, s->line.len, w, WORDS_MAX, &why);
		if (nw == 2 && strcmp(w[0], "%end") == 0) {
			free(copy);
			if (parse_u64(w[1], &n) != 0 || n != objs->n)
				return EX_DATAERR;
			return 0;
		}
		sv_push_owned(objs, copy);
		if (objs->n > 10000000)
			return EX_DATAERR;
	}
}

static int
cmd_query(struct session *s)
{
	struct strvec objs = STRVEC_INIT;
	struct store st;
	char *w[WORDS_MAX];
	const char *why;
	unsigned long n = 0;
	size_t i;
	int nw, r;

	if ((r = read_query(s, &objs)) != 0) {
		sv_free(&objs);
		s->done = 1;
		return reply(s, "NO %d malformed query", r);
	}
	if ((r = store_open(&st, s->o->root, STORE_RDONLY)) != 0) {
		sv_free(&objs);
		return reply(s, "NO %d cannot open the store", r);
	}
	conn_printf(s->c, "%%syncpipe state %d\n", STATE_VERSION);
	for (i = 0; r == 0 && i < objs.n; i++) {
		nw = words_split(objs.v[i], strlen(objs.v[i]), w, WORDS_MAX,
		    &why);
		r = nw < 1 ? -1 : send_object(s, &st, w, nw, &n);
		if (r < 0)
			r = EX_DATAERR;
	}
	store_close(&st);
	sp_debug("%s: answered a query of %zu objects with %lu records",
	    s->c->peer, objs.n, n);
	sv_free(&objs);
	if (r != 0) {
		s->done = 1;
		return reply(s, "NO %d reading the replica failed", r);
	}
	return reply(s, "%%end %lu", n);
}

/* APPLY */

static int
cmd_apply(struct session *s)
{
	FILE *in, *out;
	int st;

	if ((in = conn_fopen(s->c, "r")) == NULL ||
	    (out = conn_fopen(s->c, "w")) == NULL) {
		if (in != NULL)
			fclose(in);
		s->done = 1;
		return EX_OSERR;
	}
	/* Unbuffered: the next command must stay in the connection. */
	setvbuf(in, NULL, _IONBF, 0);
	st = apply_bundle(s->o->root, in, s->c->peer, out);
	fflush(out);
	fclose(in);
	fclose(out);
	s->bundles++;
	s->status = st;
	if (s->c->status != 0)
		return s->c->status;
	if (st == 0)
		return reply(s, "OK applied");
	/* The rest of a refused bundle may still be on its way. */
	s->done = st != EX_TEMPFAIL;
	return reply(s, "NO %d %s", st, st == EX_TEMPFAIL ?
	    "some changes were refused: diff again" :
	    "the bundle was refused; the replica is unchanged");
}

/* Dispatch */

static int
allowed(struct session *s, const char *cmd)
{
	int pre = strcmp(cmd, "HELLO") == 0 || strcmp(cmd, "QUIT") == 0 ||
	    strcmp(cmd, "STARTTLS") == 0;

	if (pre)
		return 1;
	if (s->tcp && s->c->ssl == NULL) {
		reply(s, "NO %d STARTTLS first: the connection is not "
		    "encrypted", EX_NOPERM);
		return 0;
	}
	if (s->version == 0 && strcmp(cmd, "AUTH") != 0) {
		reply(s, "NO %d HELLO first", EX_PROTOCOL);
		return 0;
	}
	if (s->tcp && !s->authed && strcmp(cmd, "AUTH") != 0) {
		reply(s, "NO %d authenticate first", EX_NOPERM);
		return 0;
	}
	return 1;
}

static int
command(struct session *s)
{
	char *w[WORDS_MAX];
	const char *why;
	int nw;

	nw = words_split(s->line.s, s->line.len, w, WORDS_MAX, &why);
	if (nw <= 0)
		return reply(s, "NO %d %s", EX_DATAERR, nw < 0 ? why :
		    "empty command");
	if (!allowed(s, w[0]))
		return s->c->status;
	if (strcmp(w[0], "HELLO") == 0)
		return cmd_hello(s, w, nw);
	if (strcmp(w[0], "STARTTLS") == 0)
		return cmd_starttls(s);
	if (strcmp(w[0], "AUTH") == 0)
		return cmd_auth(s, w, nw);
	if (strcmp(w[0], "DEFLATE") == 0)
		return cmd_deflate(s);
	if (strcmp(w[0], "QUERY") == 0)
		return cmd_query(s);
	if (strcmp(w[0], "APPLY") == 0)
		return cmd_apply(s);
	if (strcmp(w[0], "QUIT") == 0) {
		s->done = 1;
		return reply(s, "OK bye");
	}
	return reply(s, "NO %d unknown command \"%.64s\"", EX_PROTOCOL, w[0]);
}

static int
session_run(struct session *s)
{
	int got, st = 0;

	if (s->tcp && s->o->implicit_tls &&
	    (st = conn_tls_server(s->c, &s->o->tls)) != 0)
		return st;
	if ((st = greet(s)) != 0)
		return st;
	while (!s->done && !sp_stop) {
		got = conn_getline(s->c, &s->line, PROTO_LINE_MAX);
		if (got == 0) {
			sp_debug("%s: the client closed the connection",
			    s->c->peer);
			break;
		}
		if (got == -2) {
			reply(s, "NO %d line too long", EX_DATAERR);
			return EX_DATAERR;
		}
		if (got < 0)
			return s->c->status;
		if ((st = command(s)) != 0)
			return st;
	}
	return s->status;
}

static int
session(struct serve_opts *o, struct conn *c, int tcp)
{
	struct session s;
	double t0 = now_mono();
	char note[1024];
	int st;

	memset(&s, 0, sizeof(s));
	s.o = o;
	s.c = c;
	s.tcp = tcp;
	conn_timeouts(c, o->idle, o->total);
	st = session_run(&s);
	snprintf(note, sizeof(note), "%s: closed: %s%s, %lu bundles, %"
	    PRIu64 " bytes in, %" PRIu64 " out (%" PRIu64 " and %" PRIu64
	    " before deflate), %.1fs, status %d", c->peer,
	    s.who ? "user " : "", s.who ? s.who : "no user", s.bundles,
	    c->raw_in, c->raw_out, c->plain_in, c->plain_out,
	    now_mono() - t0, st);
	/* The log line of a TCP connection; under ssh, the client's. */
	if (tcp)
		sp_info("%s", note);
	else
		sp_debug("%s", note);
	if (s.sasl != NULL)
		sasl_dispose(&s.sasl);
	free(s.who);
	sb_free(&s.line);
	return st;
}

int
serve_pipe(struct serve_opts *o)
{
	struct conn *c = conn_new(0, 1, "ssh peer");
	int st;

	o->idle = 0;
	o->total = 0;
	c->quiet_eof = 1;
	st = session(o, c, 0);
	conn_free(c);
	return st;
}

static char *
peer_of(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getpeername(fd, (struct sockaddr *)&ss, &len) != 0)
		return xstrdup("unknown peer");
	return sockaddr_name((struct sockaddr *)&ss, len);
}

static int
check_tcp_opts(const struct serve_opts *o)
{
	if (o->tls.cert == NULL) {
		sp_err("a TCP server needs a certificate: --tls-cert");
		return EX_CONFIG;
	}
	if (o->allow.n == 0) {
		sp_err("no identity may apply: give --allow or --allow-file");
		return EX_CONFIG;
	}
	return 0;
}

static int
serve_fd(struct serve_opts *o, int fd)
{
	char *peer = peer_of(fd);
	struct conn *c = conn_new(fd, fd, peer);
	int st;

	free(peer);
	st = session(o, c, 1);
	conn_free(c);
	return st;
}

int
serve_inetd(struct serve_opts *o)
{
	int st;

	if ((st = check_tcp_opts(o)) != 0)
		return st;
	return serve_fd(o, 0);
}

/* Daemon */

static int
listen_on(const char *addr, int *fd)
{
	struct addrinfo hints, *res;
	char *host, *port;
	int e, one = 1, st = 0;

	host = xstrdup(addr);
	port = strrchr(host, ':');
	if (port == NULL) {
		sp_err("--listen %s: expected ADDR:PORT", addr);
		free(host);
		return EX_USAGE;
	}
	*port++ = '\0';
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		memmove(host, host + 1, strlen(host));
		host[strlen(host) - 1] = '\0';
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if ((e = getaddrinfo(*host ? host : NULL, port, &hints, &res)) != 0) {
		sp_err("--listen %s: %s", addr, gai_strerror(e));
		free(host);
		return EX_USAGE;
	}
	*fd = socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC, 0);
	if (*fd < 0 || setsockopt(*fd, SOL_SOCKET, SO_REUSEADDR, &one,
	    sizeof(one)) != 0 || bind(*fd, res->ai_addr,
	    res->ai_addrlen) != 0 || listen(*fd, 64) != 0) {
		sp_syserr("--listen %s", addr);
		st = errno == EADDRINUSE ? EX_TEMPFAIL : EX_OSERR;
	}
	freeaddrinfo(res);
	free(host);
	return st;
}

static int
drop_privileges(const char *name)
{
	struct passwd *pw;

	if (name == NULL)
		return 0;
	if ((pw = getpwnam(name)) == NULL) {
		sp_err("--user %s: no such user", name);
		return EX_CONFIG;
	}
	if (setgroups(1, &pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 ||
	    setuid(pw->pw_uid) != 0) {
		sp_syserr("cannot become %s", name);
		return EX_NOPERM;
	}
	if (setuid(0) == 0 && pw->pw_uid != 0) {
		sp_err("privileges could not be dropped");
		return EX_SOFTWARE;
	}
	return 0;
}

struct children {
	pid_t	*pid;
	int	 n;
};

static void
reap(struct children *ch, int block)
{
	pid_t p;
	int i, ws;

	while (ch->n > 0 && (p = waitpid(-1, &ws, block ? 0 : WNOHANG)) > 0)
		for (i = 0; i < ch->n; i++)
			if (ch->pid[i] == p) {
				ch->pid[i] = ch->pid[--ch->n];
				break;
			}
}

static void
accept_one(struct serve_opts *o, int lfd, struct children *ch)
{
	int fd = accept(lfd, NULL, NULL);
	char *peer;
	pid_t pid;

	if (fd < 0) {
		if (errno != EINTR && errno != EAGAIN && errno != ECONNABORTED)
			sp_syserr("accept");
		return;
	}
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	if (ch->n >= o->max_conn) {
		peer = peer_of(fd);
		sp_err("%s: refused: %d connections already", peer, ch->n);
		free(peer);
		close(fd);
		return;
	}
	if ((pid = fork()) < 0) {
		sp_syserr("fork");
		close(fd);
		return;
	}
	if (pid == 0) {
		close(lfd);
		_exit(serve_fd(o, fd));
	}
	close(fd);
	ch->pid[ch->n++] = pid;
}

int
serve_listen(struct serve_opts *o, const char *addr)
{
	struct sockaddr_storage ss;
	socklen_t sslen = sizeof(ss);
	struct children ch;
	struct pollfd pfd;
	char *name;
	int lfd, st, i;

	if ((st = check_tcp_opts(o)) != 0 || (st = listen_on(addr, &lfd)))
		return st;
	if ((st = drop_privileges(o->run_as)) != 0) {
		close(lfd);
		return st;
	}
	ch.pid = xcalloc(o->max_conn + 1, sizeof(pid_t));
	ch.n = 0;
	/* The port actually bound (port 0 asks for any free one). */
	if (getsockname(lfd, (struct sockaddr *)&ss, &sslen) == 0)
		name = sockaddr_name((struct sockaddr *)&ss, sslen);
	else
		name = xstrdup(addr);
	sp_info("listening on %s for %s", name, o->root);
	free(name);
	while (!sp_stop) {
		pfd.fd = lfd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 1000) > 0)
			accept_one(o, lfd, &ch);
		reap(&ch, 0);
	}
	close(lfd);
	for (i = 0; i < ch.n; i++)
		kill(ch.pid[i], SIGTERM);
	reap(&ch, 1);
	free(ch.pid);
	sp_info("stopped");
	return 0;
}
