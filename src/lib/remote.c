/*
 * remote: a replica at the other end of a connection (see remote.h).
 */
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <sasl/sasl.h>

#include "endpoint.h"
#include "names.h"
#include "remote.h"
#include "stream.h"

struct remote {
	struct endpoint	 ep;
	struct conn	*c;
	pid_t		 pid;		/* the ssh process */
	struct greeting	 g;
	const struct remote_opts *o;
	sasl_conn_t	*sasl;
	char		*authid;
	char		*password;
	sasl_secret_t	*secret;
	struct strbuf	 line;
};

const char remote_help[] =
    "      --ca-file FILE  trust these CAs (default: the system's)\n"
    "      --cert FILE, --key FILE  a client certificate\n"
    "      --credentials FILE  SASL identity (line 1) and password\n"
    "      --mech NAME     SASL mechanism (default: the strongest)\n"
    "      --insecure      do not check the server's certificate\n"
    "      --no-deflate    do not compress the connection\n"
    "      --timeout SECS  give up on a server silent this long\n";

/* An environment variable; empty counts as unset. */
static const char *
env(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && *v != '\0' ? v : NULL;
}

void
remote_opts_init(struct remote_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->tls.ca = env("SYNC_CA_FILE");
	o->tls.cert = env("SYNC_CERT");
	o->tls.key = env("SYNC_KEY");
	o->credentials = env("SYNC_CREDENTIALS");
	o->mech = env("SYNC_MECH");
	o->idle = 300;
}

int
remote_option(struct remote_opts *o, int c, const char *arg)
{
	switch (c) {
	case RO_CA: o->tls.ca = arg; return 0;
	case RO_CERT: o->tls.cert = arg; return 0;
	case RO_KEY: o->tls.key = arg; return 0;
	case RO_CREDENTIALS: o->credentials = arg; return 0;
	case RO_INSECURE: o->tls.insecure = 1; return 0;
	case RO_MECH: o->mech = arg; return 0;
	case RO_NO_DEFLATE: o->no_deflate = 1; return 0;
	case RO_TIMEOUT:
		o->idle = atoi(arg);
		return o->idle > 0 ? 0 : -1;
	default: return -1;
	}
}

/* Replies */

/* Parses the reply in r->line: 'O', 'N' (reported), '+'; -1 if none. */
static int
parse_reply(struct remote *r, struct reply *rp, const char *what)
{
	const char *why;

	if (reply_parse(r->line.s, rp, &why) != 0) {
		sp_err("%s: %s: %s", r->ep.text, what, why);
		r->c->status = EX_PROTOCOL;
		return -1;
	}
	if (rp->kind == 'N')
		sp_err("%s: %s: %s", r->ep.text, what, rp->text);
	return rp->kind;
}

/* Reads a reply: 'O', 'N' (reported, *code set), '+'; -1 if none. */
static int
get_reply(struct remote *r, struct reply *rp, const char *what)
{
	int got = conn_getline(r->c, &r->line, PROTO_LINE_MAX);

	if (got == -2)
		r->c->status = EX_PROTOCOL;
	if (got == 0) {
		sp_err("%s: connection closed by the server (%s)",
		    r->ep.text, what);
		r->c->status = EX_TEMPFAIL;
	}
	if (got != 1)
		return -1;
	return parse_reply(r, rp, what);
}

/* Sends a command and expects OK: 0, or exit status. */
static int
simple(struct remote *r, const char *cmd)
{
	struct reply rp;
	int k;

	conn_printf(r->c, "%s\n", cmd);
	if (conn_flush(r->c) != 0)
		return r->c->status;
	k = get_reply(r, &rp, cmd);
	if (k == 'O')
		return 0;
	if (k == 'N')
		return rp.code;
	if (k == '+') {
		sp_err("%s: %s: unexpected continuation", r->ep.text, cmd);
		return EX_PROTOCOL;
	}
	return r->c->status ? r->c->status : EX_TEMPFAIL;
}

/* Connecting */

static int
rsh_argv(struct remote *r, struct strvec *av)
{
	const char *rsh = getenv("SYNC_RSH"), *app;
	char *copy, *tok, *save, *q, *p;
	struct strbuf cmd = STRBUF_INIT;

	copy = xstrdup(rsh && *rsh ? rsh : "ssh");
	for (tok = strtok_r(copy, " \t", &save); tok != NULL;
	    tok = strtok_r(NULL, " \t", &save))
		sv_push(av, tok);
	free(copy);
	if (r->ep.port != NULL) {
		sv_push(av, "-p");
		sv_push(av, r->ep.port);
	}
	if (r->ep.user != NULL) {
		sv_push(av, "-l");
		sv_push(av, r->ep.user);
	}
	sv_push(av, r->ep.host);
	app = getenv("SYNC_REMOTE_APPLY");
	sb_adds(&cmd, app && *app ? app : "sync-apply");
	sb_adds(&cmd, " --serve '");
	/* The remote shell reads the command: quote the path for it. */
	for (p = r->ep.path; (q = strchr(p, '\'')) != NULL; p = q + 1) {
		sb_add(&cmd, p, q - p);
		sb_adds(&cmd, "'\\''");
	}
	sb_adds(&cmd, p);
	sb_addc(&cmd, '\'');
	sv_push_owned(av, sb_detach(&cmd));
	sv_push_owned(av, NULL);
	return 0;
}

static int
spawn_ssh(struct remote *r)
{
	struct strvec av = STRVEC_INIT;
	int to[2], from[2];
	char *name;

	rsh_argv(r, &av);
	if (pipe(to) != 0 || pipe(from) != 0 || (r->pid = fork()) < 0) {
		sp_syserr("%s: cannot start %s", r->ep.text, av.v[0]);
		sv_free(&av);
		return EX_OSERR;
	}
	if (r->pid == 0) {
		dup2(to[0], 0);
		dup2(from[1], 1);
		close(to[0]);
		close(to[1]);
		close(from[0]);
		close(from[1]);
		execvp(av.v[0], av.v);
		sp_syserr("cannot run %s", av.v[0]);
		_exit(EX_UNAVAILABLE);
	}
	close(to[0]);
	close(from[1]);
	name = xasprintf("%s", r->ep.text);
	r->c = conn_new(from[0], to[1], name);
	free(name);
	sv_free(&av);
	return 0;
}

static int
read_greeting(struct remote *r)
{
	const char *why;
	int got;

	greeting_free(&r->g);
	got = conn_getline(r->c, &r->line, PROTO_LINE_MAX);
	if (got != 1) {
		if (got == 0)
			sp_err("%s: the server closed the connection before "
			    "its greeting", r->ep.text);
		return r->c->status ? r->c->status : EX_UNAVAILABLE;
	}
	if (greeting_parse(r->line.s, &r->g, &why) != 0) {
		sp_err("%s: bad greeting: %s", r->ep.text, why);
		return EX_PROTOCOL;
	}
	return 0;
}

static int
hello(struct remote *r)
{
	char *mine, *theirs, cmd[32];
	int v, st;

	v = proto_common_version(PROTO_VERSION_MIN, PROTO_VERSION_MAX,
	    r->g.vmin, r->g.vmax);
	if (v == 0) {
		mine = proto_versions_text(PROTO_VERSION_MIN,
		    PROTO_VERSION_MAX);
		theirs = proto_versions_text(r->g.vmin, r->g.vmax);
		sp_err("%s: no common protocol version: the server speaks "
		    "%s, this program speaks %s", r->ep.text, theirs, mine);
		free(mine);
		free(theirs);
		return EX_PROTOCOL;
	}
	snprintf(cmd, sizeof(cmd), "HELLO %d", v);
	st = simple(r, cmd);
	return st;
}

static int
start_tls(struct remote *r)
{
	int st;

	if (r->ep.kind == EP_SYNC) {
		if (!r->g.starttls) {
			sp_err("%s: the server does not offer STARTTLS: "
			    "refusing to go on in the clear", r->ep.text);
			return EX_PROTOCOL;
		}
		if ((st = simple(r, "STARTTLS")) != 0)
			return st;
		if ((st = conn_tls_client(r->c, &r->o->tls, r->ep.host)) != 0)
			return st;
		return read_greeting(r);
	}
	return 0;
}

/* SASL */

static int
read_credentials(struct remote *r)
{
	struct strbuf sb = STRBUF_INIT;
	struct stat st;
	char *nl;

	if (r->o->credentials == NULL) {
		if (env("SYNC_AUTHID") == NULL ||
		    env("SYNC_PASSWORD") == NULL) {
			sp_err("%s: no credentials: give --credentials FILE, "
			    "or SYNC_AUTHID and SYNC_PASSWORD", r->ep.text);
			return EX_CONFIG;
		}
		r->authid = xstrdup(getenv("SYNC_AUTHID"));
		r->password = xstrdup(getenv("SYNC_PASSWORD"));
		return 0;
	}
	if (read_file(r->o->credentials, &sb) != 0) {
		sp_syserr("%s", r->o->credentials);
		return EX_CONFIG;
	}
	if (stat(r->o->credentials, &st) == 0 && (st.st_mode & 077))
		sp_err("warning: %s: readable by others", r->o->credentials);
	if ((nl = strchr(sb.s, '\n')) == NULL) {
		sp_err("%s: expected the identity on the first line and the "
		    "password on the second", r->o->credentials);
		sb_free(&sb);
		return EX_CONFIG;
	}
	*nl++ = '\0';
	nl[strcspn(nl, "\r\n")] = '\0';
	r->authid = xstrdup(sb.s);
	r->password = xstrdup(nl);
	explicit_bzero(sb.s, sb.len);
	sb_free(&sb);
	return 0;
}

static int
cb_name(void *ctx, int id, const char **result, unsigned *len)
{
	struct remote *r = ctx;

	/* No authorization identity: the one authenticated. */
	*result = id == SASL_CB_USER ? "" : r->authid;
	if (len != NULL)
		*len = strlen(*result);
	return SASL_OK;
}

static int
cb_pass(sasl_conn_t *conn, void *ctx, int id, sasl_secret_t **out)
{
	struct remote *r = ctx;
	size_t n = strlen(r->password);

	(void)conn;
	(void)id;
	if (r->secret == NULL) {
		r->secret = xcalloc(1, sizeof(sasl_secret_t) + n + 1);
		r->secret->len = n;
		memcpy(r->secret->data, r->password, n);
	}
	*out = r->secret;
	return SASL_OK;
}

static int
cb_log(void *ctx, int level, const char *msg)
{
	(void)ctx;
	if (level <= SASL_LOG_WARN)
		sp_debug("sasl: %s", msg);
	return SASL_OK;
}

static int
sasl_client(struct remote *r)
{
	static sasl_callback_t cb[5];
	static int done;
	sasl_security_properties_t sec;
	sasl_ssf_t ssf = 256;
	int res;

	if (!done && (res = sasl_client_init(NULL)) != SASL_OK) {
		sp_err("sasl: cannot start: %s", sasl_why(res));
		return EX_CONFIG;
	}
	done = 1;
	cb[0].id = SASL_CB_AUTHNAME;
	cb[0].proc = (int (*)(void))(void (*)(void))cb_name;
	cb[0].context = r;
	cb[1].id = SASL_CB_USER;
	cb[1].proc = (int (*)(void))(void (*)(void))cb_name;
	cb[1].context = r;
	cb[2].id = SASL_CB_PASS;
	cb[2].proc = (int (*)(void))(void (*)(void))cb_pass;
	cb[2].context = r;
	cb[3].id = SASL_CB_LOG;
	cb[3].proc = (int (*)(void))(void (*)(void))cb_log;
	cb[4].id = SASL_CB_LIST_END;
	res = sasl_client_new("syncpipe", r->ep.host, NULL, NULL, cb, 0,
	    &r->sasl);
	if (res != SASL_OK) {
		sp_err("sasl: %s", sasl_why(res));
		return EX_CONFIG;
	}
	memset(&sec, 0, sizeof(sec));
	sec.security_flags = SASL_SEC_NOANONYMOUS;
	sasl_setprop(r->sasl, SASL_SEC_PROPS, &sec);
	sasl_setprop(r->sasl, SASL_SSF_EXTERNAL, &ssf);
	return 0;
}

/* Sends data as one protocol word: base64, or "=" when empty. */
static void
send64(struct remote *r, const char *prefix, const char *p, unsigned n)
{
	struct strbuf b64 = STRBUF_INIT;

	if (n == 0)
		sb_adds(&b64, "=");
	else
		sasl64_encode(p, n, &b64);
	conn_printf(r->c, "%s%s\n", prefix, b64.s);
	explicit_bzero(b64.s, b64.len);
	sb_free(&b64);
}

static int
auth_exchange(struct remote *r, const char *mech)
{
	struct strbuf in = STRBUF_INIT;
	struct reply rp;
	const char *out;
	unsigned outlen;
	int k, res = SASL_CONTINUE;

	for (;;) {
		if (conn_flush(r->c) != 0)
			break;
		k = get_reply(r, &rp, "authentication");
		if (k == 'O' && res == SASL_OK)
			break;
		if (k == 'N') {
			sb_free(&in);
			return rp.code;
		}
		if (k != '+' || sasl64_decode(rp.text, &in) != 0)
			break;
		res = sasl_client_step(r->sasl, in.s, in.len, NULL, &out,
		    &outlen);
		if (res != SASL_OK && res != SASL_CONTINUE) {
			sp_err("%s: %s: %s", r->ep.text, mech,
			    sasl_errdetail(r->sasl));
			conn_printf(r->c, "*\n");
			conn_flush(r->c);
			get_reply(r, &rp, "authentication");
			sb_free(&in);
			return EX_NOPERM;
		}
		send64(r, "", out, outlen);
	}
	sb_free(&in);
	if (k == 'O')
		return 0;
	if (k == 'O' || k == '+')
		sp_err("%s: authentication: the server broke the exchange",
		    r->ep.text);
	return r->c->status ? r->c->status : EX_PROTOCOL;
}

static int
authenticate(struct remote *r)
{
	struct strbuf list = STRBUF_INIT;
	const char *out = NULL, *mech = NULL;
	unsigned outlen = 0;
	size_t i;
	int res, st;

	if ((st = read_credentials(r)) != 0 || (st = sasl_client(r)) != 0)
		return st;
	for (i = 0; i < r->g.mechs.n; i++)
		if (r->o->mech == NULL || strcmp(r->o->mech,
		    r->g.mechs.v[i]) == 0)
			sb_addf(&list, "%s%s", list.len ? " " : "",
			    r->g.mechs.v[i]);
	if (list.len == 0) {
		sp_err("%s: no common SASL mechanism (the server offers %zu)",
		    r->ep.text, r->g.mechs.n);
		sb_free(&list);
		return EX_PROTOCOL;
	}
	res = sasl_client_start(r->sasl, list.s, NULL, &out, &outlen, &mech);
	sb_free(&list);
	if (res != SASL_OK && res != SASL_CONTINUE) {
		sp_err("%s: sasl: %s", r->ep.text, sasl_errdetail(r->sasl));
		return EX_CONFIG;
	}
	sp_debug("%s: authenticating as %s with %s", r->ep.text, r->authid,
	    mech);
	conn_printf(r->c, "AUTH %s", mech);
	if (out != NULL)
		send64(r, " ", out, outlen);
	else
		conn_printf(r->c, "\n");
	return auth_exchange(r, mech);
}

/* Opening and closing */

static int
handshake(struct remote *r)
{
	int st;

	if (r->ep.kind == EP_SYNCS &&
	    (st = conn_tls_client(r->c, &r->o->tls, r->ep.host)) != 0)
		return st;
	if ((st = read_greeting(r)) != 0 || (st = start_tls(r)) != 0 ||
	    (st = hello(r)) != 0)
		return st;
	if (r->ep.kind != EP_SSH && (st = authenticate(r)) != 0)
		return st;
	if (r->o->no_deflate)
		return 0;
	if (!r->g.deflate) {
		sp_debug("%s: the server does not offer DEFLATE: going on "
		    "uncompressed", r->ep.text);
		return 0;
	}
	if ((st = simple(r, "DEFLATE")) != 0)
		return st;
	return conn_deflate(r->c, 1, 1);
}

int
remote_open(const char *endpoint, const struct remote_opts *o,
    struct remote **rp)
{
	struct remote *r = xcalloc(1, sizeof(*r));
	char *name;
	int st;

	r->o = o;
	r->pid = -1;
	*rp = r;
	if ((st = endpoint_parse(endpoint, &r->ep)) != 0)
		return st;
	if (r->ep.kind == EP_LOCAL) {
		sp_err("%s: not a remote endpoint", endpoint);
		return EX_SOFTWARE;
	}
	if (r->ep.kind == EP_SSH)
		st = spawn_ssh(r);
	else
		st = conn_connect(r->ep.host, r->ep.port ? r->ep.port :
		    r->ep.kind == EP_SYNCS ? SYNCS_PORT : SYNC_PORT, &r->c);
	if (st != 0)
		return st;
	if (r->ep.kind != EP_SSH) {
		name = xasprintf("%s (%s)", endpoint, r->c->peer);
		free(r->c->peer);
		r->c->peer = name;
	}
	/* A server that waits for us (TLS expected on a sync:// port, say)
	 * is noticed in seconds, not at the idle timeout. */
	conn_timeouts(r->c, o->idle < 30 ? o->idle : 30, 0);
	if (o->tls.insecure && r->ep.kind != EP_SSH)
		sp_err("warning: %s: --insecure: the server's certificate is "
		    "not checked; anyone in the path can read and change "
		    "what is sent", endpoint);
	if ((st = handshake(r)) == 0)
		conn_timeouts(r->c, o->idle, 0);
	return st;
}

static int
wait_ssh(struct remote *r, int st)
{
	int ws;

	if (r->pid <= 0)
		return st;
	while (waitpid(r->pid, &ws, 0) < 0)
		if (errno != EINTR)
			return st;
	if (WIFEXITED(ws) && WEXITSTATUS(ws) != 0 && st == 0) {
		sp_err("%s: the remote shell exited with status %d",
		    r->ep.text, WEXITSTATUS(ws));
		return WEXITSTATUS(ws) == 255 ? EX_UNAVAILABLE :
		    WEXITSTATUS(ws);
	}
	if (WIFSIGNALED(ws) && st == 0)
		return EX_TEMPFAIL;
	return st;
}

int
remote_close(struct remote *r, int st, int note)
{
	struct reply rp;

	if (r->c != NULL && r->c->status == 0 && st == 0) {
		conn_printf(r->c, "QUIT\n");
		if (conn_flush(r->c) == 0)
			get_reply(r, &rp, "QUIT");
	}
	if (r->c != NULL && note && r->c->zout_on)
		sp_info("%s: deflate: sent %" PRIu64 " bytes as %" PRIu64
		    ", received %" PRIu64 " as %" PRIu64, r->ep.text,
		    r->c->plain_out, r->c->raw_out, r->c->plain_in,
		    r->c->raw_in);
	if (r->c != NULL && r->ep.kind == EP_SSH && r->c->wfd >= 0) {
		close(r->c->wfd);
		r->c->wfd = -1;
	}
	conn_free(r->c);
	st = wait_ssh(r, st);
	if (r->sasl != NULL)
		sasl_dispose(&r->sasl);
	if (r->password != NULL)
		explicit_bzero(r->password, strlen(r->password));
	free(r->password);
	free(r->authid);
	free(r->secret);
	greeting_free(&r->g);
	endpoint_free(&r->ep);
	sb_free(&r->line);
	free(r);
	return st;
}

/* Query */

static int
read_state(struct remote *r, struct rstate *rs)
{
	struct reply rp;
	const char *why;
	char *copy;
	int got, k;

	got = conn_getline(r->c, &r->line, PROTO_LINE_MAX);
	if (got == 1 && strncmp(r->line.s, "NO ", 3) == 0) {
		k = parse_reply(r, &rp, "QUERY");
		return k == 'N' ? rp.code : EX_PROTOCOL;
	}
	if (got == 1 && strcmp(r->line.s, "%syncpipe state 1") != 0) {
		sp_err("%s: QUERY: not a state stream of version %d: \"%.60s\"",
		    r->ep.text, STATE_VERSION, r->line.s);
		return EX_PROTOCOL;
	}
	while (got == 1) {
		got = conn_getline(r->c, &r->line, PROTO_LINE_MAX);
		if (got != 1)
			break;
		if (strncmp(r->line.s, "NO ", 3) == 0) {
			copy = xstrdup(r->line.s);
			reply_parse(copy, &rp, &why);
			sp_err("%s: QUERY: %s", r->ep.text, rp.text);
			free(copy);
			return rp.code ? rp.code : EX_PROTOCOL;
		}
		k = rstate_line(rs, r->line.s, r->line.len, &why);
		if (k < 0) {
			sp_err("%s: state record %lu: %s", r->ep.text,
			    rs->count + 1, why);
			return EX_PROTOCOL;
		}
		if (k == 1)
			return 0;
	}
	if (got == 0)
		sp_err("%s: connection closed in the middle of the replica's "
		    "state", r->ep.text);
	return r->c->status ? r->c->status : EX_TEMPFAIL;
}

int
remote_query(struct remote *r, const struct strvec *objs, struct rstate *rs)
{
	double t0 = now_mono();
	size_t i;
	int st;

	conn_printf(r->c, "QUERY\n");
	for (i = 0; i < objs->n; i++)
		conn_printf(r->c, "%s\n", objs->v[i]);
	conn_printf(r->c, "%%end %zu\n", objs->n);
	if (conn_flush(r->c) != 0)
		return r->c->status;
	st = read_state(r, rs);
	rstate_finish(rs);
	sp_debug("%s: state of %zu objects: %lu records, %zu mailboxes, "
	    "%.2fs", r->ep.text, objs->n, rs->count, rs->nmb,
	    now_mono() - t0);
	return st;
}

/* Apply */

int
remote_apply_begin(struct remote *r, FILE **fp)
{
	conn_printf(r->c, "APPLY\n");
	if ((*fp = conn_fopen(r->c, "w")) == NULL)
		return EX_OSERR;
	return r->c->status;
}

/* A line of the applied entries (anything but a reply). */
static int
is_reply(const char *s)
{
	return strcmp(s, "OK") == 0 || strncmp(s, "OK ", 3) == 0 ||
	    strncmp(s, "NO ", 3) == 0 || strncmp(s, "+ ", 2) == 0;
}

static int
lost(struct remote *r, const char *when)
{
	if (r->c->status == 0 || r->c->status == EX_IOERR)
		sp_err("%s: connection lost %s", r->ep.text, when);
	return sp_status_is_temporary(r->c->status) || r->c->status == 0 ?
	    EX_TEMPFAIL : r->c->status;
}

int
remote_apply_end(struct remote *r, FILE *fp, int st, FILE *out)
{
	struct reply rp;
	int got, k;

	if (fflush(fp) == EOF && st == 0)
		st = EX_TEMPFAIL;
	fclose(fp);
	if (r->c->status != 0 && r->c->status != EX_TEMPFAIL)
		return r->c->status;
	/* Our own input was bad (a change list cut short, say): the bundle
	 * has no tail and the server would wait for the rest of it until
	 * it times out.  Hang up; the server then refuses what it got. */
	if (st != 0 && !sp_status_is_temporary(st))
		return st;
	/* Whatever the server said before it stopped reading is worth
	 * reading even when sending failed. */
	while ((got = conn_getline(r->c, &r->line, PROTO_LINE_MAX)) == 1 &&
	    !is_reply(r->line.s)) {
		fprintf(out, "%s\n", r->line.s);
		if (fflush(out) == EOF) {
			sp_syserr("cannot write applied entries");
			return EX_IOERR;
		}
	}
	if (got != 1)
		return lost(r, "before the server's verdict on the bundle");
	k = parse_reply(r, &rp, "APPLY");
	if (k == 'O')
		return st ? st : 0;
	if (k == 'N')
		return rp.code;
	return EX_PROTOCOL;
}

/* The replica's view */

int
rview_list_users(struct store *st, const struct rstate *rs,
    struct strvec *users)
{
	size_t i;

	if (rs == NULL)
		return store_list_users(st, users);
	for (i = 0; i < rs->users.n; i++)
		sv_push(users, rs->users.v[i]);
	return 0;
}

int
rview_user_exists(struct store *st, const struct rstate *rs,
    const char *userid)
{
	if (rs == NULL)
		return store_user_exists(st, userid);
	return rstate_has_user(rs, userid);
}

int
rview_list_mailboxes(struct store *st, const struct rstate *rs,
    const char *userid, struct strvec *names)
{
	size_t i;
	char *owner;

	if (rs == NULL)
		return store_list_mailboxes(st, userid, names);
	for (i = 0; i < rs->nmb; i++) {
		owner = mbox_owner(rs->mb[i].name);
		if (owner != NULL && strcmp(owner, userid) == 0)
			sv_push(names, rs->mb[i].name);
		free(owner);
	}
	sv_sort_uniq(names);
	return 0;
}

int
rview_read_mailbox(struct store *st, const struct rstate *rs,
    const char *name, struct mailbox *mb)
{
	const struct mailbox *m;

	if (rs == NULL)
		return store_read_mailbox(st, name, mb, 0);
	memset(mb, 0, sizeof(*mb));
	if ((m = rstate_mailbox(rs, name)) != NULL)
		mailbox_copy(mb, m);
	else
		mb->name = xstrdup(name);
	return 0;
}

int
rview_read_subs(struct store *st, const struct rstate *rs,
    const char *userid, struct strvec *subs)
{
	const struct rsubs *s;
	size_t i;

	if (rs == NULL)
		return store_read_subs(st, userid, subs);
	if ((s = rstate_subs(rs, userid)) != NULL)
		for (i = 0; i < s->subs.n; i++)
			sv_push(subs, s->subs.v[i]);
	return 0;
}

int
rview_read_sieve(struct store *st, const struct rstate *rs,
    const char *userid, struct sieve_script **sc, size_t *n, char **active)
{
	const struct rsieve *s;
	size_t i;

	if (rs == NULL)
		return store_read_sieve(st, userid, sc, n, active);
	*sc = NULL;
	*n = 0;
	*active = NULL;
	if ((s = rstate_sieve(rs, userid)) == NULL)
		return 0;
	*sc = xcalloc(s->n ? s->n : 1, sizeof(**sc));
	for (i = 0; i < s->n; i++) {
		(*sc)[i] = s->s[i];
		(*sc)[i].name = xstrdup(s->s[i].name);
	}
	*n = s->n;
	*active = s->active ? xstrdup(s->active) : NULL;
	return 0;
}

int
rview_same_script(struct store *master, const struct rstate *rs,
    const char *userid, const char *name)
{
	const struct rsieve *s = rstate_sieve(rs, userid);
	unsigned char buf[16384], dig[EVP_MAX_MD_SIZE];
	unsigned int dn = 0;
	char hex[65];
	EVP_MD_CTX *md;
	ssize_t k;
	size_t i;
	int fd;

	for (i = 0; s != NULL && i < s->n; i++)
		if (strcmp(s->s[i].name, name) == 0)
			break;
	if (s == NULL || i == s->n)
		return 0;
	if (store_open_sieve(master, userid, name, &fd) != 0)
		return -1;
	md = EVP_MD_CTX_new();
	EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	while ((k = read_full(fd, buf, sizeof(buf))) > 0)
		EVP_DigestUpdate(md, buf, k);
	EVP_DigestFinal_ex(md, dig, &dn);
	EVP_MD_CTX_free(md);
	close(fd);
	if (k < 0)
		return -1;
	hex_encode(dig, dn, hex);
	return strcmp(hex, s->sha[i]) == 0;
}

/* Bundle files */

FILE *
deflate_fopen(int fd, struct conn **c)
{
	FILE *fp;

	*c = conn_new(-1, fd, "output");
	if (conn_deflate(*c, 0, 1) != 0 ||
	    (fp = conn_fopen(*c, "w")) == NULL) {
		conn_free(*c);
		*c = NULL;
		return NULL;
	}
	return fp;
}

int
deflate_fclose(FILE *fp, struct conn *c, int note)
{
	int st = 0;

	if (fflush(fp) == EOF)
		st = c->status ? c->status : EX_IOERR;
	fclose(fp);
	if (st == 0)
		st = conn_shutdown_write(c);
	if (st == 0 && note)
		sp_info("deflate: %" PRIu64 " bytes of bundle written as %"
		    PRIu64 " (%.1f%%)", c->plain_out, c->raw_out,
		    c->plain_out ? 100.0 * c->raw_out / c->plain_out : 0.0);
	conn_free(c);
	return st;
}

FILE *
inflate_fopen(int fd, struct conn **c)
{
	FILE *fp;
	int b;

	*c = conn_new(fd, -1, "input");
	(*c)->quiet_eof = 1;
	b = conn_peek(*c);
	/* A zlib stream starts with 0x78; a bundle with '%'. */
	if (b == 0x78 && conn_deflate(*c, 1, 0) != 0) {
		conn_free(*c);
		*c = NULL;
		return NULL;
	}
	if ((fp = conn_fopen(*c, "r")) == NULL) {
		conn_free(*c);
		*c = NULL;
	}
	return fp;
}

/* sync-send's output */

struct sink {
	struct remote	*r;
	struct conn	*zc;
};

int
sink_open(const char *replica, const struct remote_opts *o, FILE **out,
    struct sink **skp)
{
	struct sink *sk = xcalloc(1, sizeof(*sk));
	int st = 0;

	*skp = sk;
	if (replica == NULL) {
		if ((*out = deflate_fopen(1, &sk->zc)) == NULL)
			st = EX_OSERR;
	} else if ((st = remote_open(replica, o, &sk->r)) == 0)
		st = remote_apply_begin(sk->r, out);
	if (st != 0) {
		if (sk->r != NULL)
			st = remote_close(sk->r, st, 0);
		free(sk);
		*skp = NULL;
	}
	return st;
}

int
sink_close(struct sink *sk, FILE *out, int st)
{
	if (sk->zc != NULL) {
		if (st == 0)
			st = deflate_fclose(out, sk->zc, 1);
		else {
			fclose(out);
			conn_free(sk->zc);
		}
	} else {
		st = remote_apply_end(sk->r, out, st, stdout);
		st = remote_close(sk->r, st, 1);
	}
	free(sk);
	return st;
}

static void
query_objects(struct strvec *q, const char *type, const struct strvec *sv)
{
	struct strbuf sb = STRBUF_INIT;
	size_t i;

	for (i = 0; i < sv->n; i++) {
		sb_reset(&sb);
		sb_adds(&sb, type);
		rec_word(&sb, sv->v[i]);
		sv_push(q, sb.s);
	}
	sb_free(&sb);
}

int
remote_prefetch(struct remote *r, int all, struct strvec *users,
    const struct strvec *mailboxes, const struct strvec *sieve,
    const struct strvec *subs, struct rstate *rs)
{
	struct strvec q = STRVEC_INIT;
	int st;

	/* XXX: the state of every object is held at once; --all on a large
	 * store would be better asked for a few users at a time */
	if (all)
		sv_push(&q, "ALL");
	else {
		query_objects(&q, "USER", users);
		query_objects(&q, "MAILBOX", mailboxes);
		query_objects(&q, "SIEVE", sieve);
		query_objects(&q, "SUBS", subs);
	}
	st = remote_query(r, &q, rs);
	sv_free(&q);
	if (st == 0 && all)
		st = rview_list_users(NULL, rs, users);
	return st;
}
