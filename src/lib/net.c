/*
 * net: connections, TLS and deflate (see net.h).
 */
#define _GNU_SOURCE		/* fopencookie */
#include <sys/socket.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <sasl/sasl.h>
#include <sasl/saslutil.h>

#include "net.h"

struct conn *
conn_new(int rfd, int wfd, const char *peer)
{
	struct conn *c = xcalloc(1, sizeof(*c));

	c->rfd = rfd;
	c->wfd = wfd;
	c->peer = xstrdup(peer);
	c->rbuf = xmalloc(CONN_BUF);
	c->wbuf = xmalloc(CONN_BUF);
	return c;
}

void
conn_free(struct conn *c)
{
	if (c == NULL)
		return;
	if (c->ssl != NULL) {
		if (c->status == 0)
			SSL_shutdown(c->ssl);
		SSL_CTX_free(SSL_get_SSL_CTX(c->ssl));
		SSL_free(c->ssl);
	}
	if (c->zin_on)
		inflateEnd(&c->zin);
	if (c->zout_on)
		deflateEnd(&c->zout);
	if (c->rfd >= 0)
		close(c->rfd);
	if (c->wfd >= 0 && c->wfd != c->rfd)
		close(c->wfd);
	free(c->peer);
	free(c->rbuf);
	free(c->zbuf);
	free(c->wbuf);
	free(c);
}

void
conn_timeouts(struct conn *c, int idle, int total)
{
	c->idle = idle;
	c->deadline = total > 0 ? now_mono() + total : 0;
}

static int
conn_fail(struct conn *c, int st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Records the first failure and reports it. */
static int
conn_fail(struct conn *c, int st, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	if (c->status != 0)
		return c->status;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	sp_err("%s: %s", c->peer, buf);
	c->status = st;
	return st;
}

/* Waits until fd is ready for events; 0, or status on timeout. */
static int
conn_wait(struct conn *c, int fd, short events)
{
	struct pollfd pfd;
	double left;
	int ms, n;

	for (;;) {
		ms = c->idle > 0 ? c->idle * 1000 : -1;
		if (c->deadline > 0) {
			left = c->deadline - now_mono();
			if (left <= 0)
				return conn_fail(c, EX_TEMPFAIL,
				    "total time limit reached");
			if (ms < 0 || left * 1000 < ms)
				ms = (int)(left * 1000) + 1;
		}
		pfd.fd = fd;
		pfd.events = events;
		n = poll(&pfd, 1, ms);
		if (n > 0)
			return 0;
		if (n == 0 && (c->deadline == 0 || now_mono() < c->deadline))
			return conn_fail(c, EX_TEMPFAIL,
			    "idle for %d seconds: timed out", c->idle);
		if (n < 0 && errno != EINTR)
			return conn_fail(c, EX_OSERR, "poll: %s",
			    strerror(errno));
		if (n < 0 && sp_stop)
			return conn_fail(c, EX_TEMPFAIL, "stopped by a signal");
	}
}

static void
ssl_errors(char *buf, size_t len)
{
	unsigned long e = ERR_get_error();

	if (e == 0)
		snprintf(buf, len, "the connection was lost");
	else
		ERR_error_string_n(e, buf, len);
	ERR_clear_error();
}

/* Raw bytes from the wire: count, 0 at end, -1 on failure (reported). */
static ssize_t
raw_read(struct conn *c, void *p, size_t n)
{
	char why[256];
	ssize_t got;
	int e;

	if (c->status != 0)
		return -1;
	for (;;) {
		if ((c->ssl == NULL || SSL_pending(c->ssl) == 0) &&
		    conn_wait(c, c->rfd, POLLIN) != 0)
			return -1;
		if (c->ssl == NULL) {
			got = read(c->rfd, p, n);
			if (got < 0 && errno == EINTR)
				continue;
			if (got < 0 && errno == ECONNRESET)
				got = 0;
			if (got < 0)
				return conn_fail(c, sp_errno_status(errno),
				    "read: %s", strerror(errno)), -1;
			break;
		}
		got = SSL_read(c->ssl, p, n);
		if (got > 0)
			break;
		e = SSL_get_error(c->ssl, got);
		if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
			continue;
		if (e == SSL_ERROR_ZERO_RETURN ||
		    (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0)) {
			got = 0;
			break;
		}
		ssl_errors(why, sizeof(why));
		return conn_fail(c, EX_TEMPFAIL, "TLS: %s", why), -1;
	}
	c->raw_in += got;
	return got;
}

static int
raw_write(struct conn *c, const void *p, size_t n)
{
	const char *s = p;
	char why[256];
	ssize_t put;
	int e;

	while (n > 0 && c->status == 0) {
		if (conn_wait(c, c->wfd, POLLOUT) != 0)
			break;
		if (c->ssl == NULL) {
			put = write(c->wfd, s, n);
			if (put < 0 && errno == EINTR)
				continue;
			if (put < 0)
				return conn_fail(c, errno == EPIPE ||
				    errno == ECONNRESET ? EX_TEMPFAIL :
				    sp_errno_status(errno), "write: %s",
				    errno == EPIPE ? "the peer went away" :
				    strerror(errno));
		} else if ((put = SSL_write(c->ssl, s, n)) <= 0) {
			e = SSL_get_error(c->ssl, put);
			if (e == SSL_ERROR_WANT_READ ||
			    e == SSL_ERROR_WANT_WRITE)
				continue;
			ssl_errors(why, sizeof(why));
			return conn_fail(c, EX_TEMPFAIL, "TLS: %s", why);
		}
		s += put;
		n -= put;
		c->raw_out += put;
	}
	return c->status;
}

/* Inflates raw input into rbuf; the count, 0 at end, -1 on failure. */
static ssize_t
fill_inflate(struct conn *c)
{
	ssize_t got;
	int zr;

	for (;;) {
		if (c->zpos == c->zlen) {
			if ((got = raw_read(c, c->zbuf, CONN_BUF)) <= 0)
				return got;
			c->zpos = 0;
			c->zlen = got;
		}
		c->zin.next_in = c->zbuf + c->zpos;
		c->zin.avail_in = c->zlen - c->zpos;
		c->zin.next_out = c->rbuf;
		c->zin.avail_out = CONN_BUF;
		zr = inflate(&c->zin, Z_SYNC_FLUSH);
		c->zpos = c->zlen - c->zin.avail_in;
		if (zr != Z_OK && zr != Z_STREAM_END && zr != Z_BUF_ERROR)
			return conn_fail(c, EX_DATAERR, "inflate: %s",
			    c->zin.msg ? c->zin.msg : "bad data"), -1;
		if (CONN_BUF - c->zin.avail_out > 0)
			return CONN_BUF - c->zin.avail_out;
		if (zr == Z_STREAM_END)
			return 0;
	}
}

static int
fill(struct conn *c)
{
	ssize_t got;

	if (c->rpos < c->rlen)
		return 1;
	if (c->eof || c->status)
		return c->status ? -1 : 0;
	got = c->zin_on ? fill_inflate(c) : raw_read(c, c->rbuf, CONN_BUF);
	if (got <= 0) {
		c->eof = got == 0;
		return got < 0 ? -1 : 0;
	}
	c->rpos = 0;
	c->rlen = got;
	c->plain_in += got;
	return 1;
}

ssize_t
conn_read(struct conn *c, void *p, size_t n)
{
	size_t k;
	int f = fill(c);

	if (f <= 0)
		return f;
	k = c->rlen - c->rpos < n ? c->rlen - c->rpos : n;
	memcpy(p, c->rbuf + c->rpos, k);
	c->rpos += k;
	return k;
}

int
conn_peek(struct conn *c)
{
	return fill(c) == 1 ? c->rbuf[c->rpos] : -1;
}

size_t
conn_pending(const struct conn *c)
{
	return c->rlen - c->rpos + (c->zin_on ? 0 : c->zlen - c->zpos);
}

int
conn_getline(struct conn *c, struct strbuf *sb, size_t max)
{
	unsigned char *nl;
	size_t k;
	int f;

	sb_reset(sb);
	for (;;) {
		if ((f = fill(c)) <= 0)
			break;
		k = c->rlen - c->rpos;
		nl = memchr(c->rbuf + c->rpos, '\n', k);
		if (nl != NULL)
			k = nl - (c->rbuf + c->rpos);
		if (sb->len + k > max) {
			/* Not sticky: the peer may still be told. */
			sp_err("%s: line longer than %zu bytes", c->peer, max);
			return -2;
		}
		sb_add(sb, c->rbuf + c->rpos, k);
		c->rpos += k + (nl != NULL);
		if (nl != NULL) {
			if (sb->len > 0 && sb->s[sb->len - 1] == '\r')
				sb->s[--sb->len] = '\0';
			if (memchr(sb->s, '\0', sb->len) != NULL) {
				conn_fail(c, EX_DATAERR, "NUL byte in line");
				return -1;
			}
			return 1;
		}
	}
	if (f < 0)
		return -1;
	if (sb->len > 0) {
		conn_fail(c, EX_TEMPFAIL, "connection closed inside a line");
		return -1;
	}
	return 0;
}

/* Sends wbuf, through deflate when it is on. */
static int
drain(struct conn *c, int zflush)
{
	unsigned char out[CONN_BUF];
	int zr;

	if (!c->zout_on) {
		if (raw_write(c, c->wbuf, c->wlen) == 0)
			c->plain_out += c->wlen;
		c->wlen = 0;
		return c->status;
	}
	c->zout.next_in = c->wbuf;
	c->zout.avail_in = c->wlen;
	do {
		c->zout.next_out = out;
		c->zout.avail_out = sizeof(out);
		zr = deflate(&c->zout, zflush);
		if (zr != Z_OK && zr != Z_BUF_ERROR && zr != Z_STREAM_END)
			return conn_fail(c, EX_SOFTWARE, "deflate failed");
		if (raw_write(c, out, sizeof(out) - c->zout.avail_out) != 0)
			break;
	} while (c->zout.avail_out == 0 || c->zout.avail_in > 0);
	c->plain_out += c->wlen;
	c->wlen = 0;
	return c->status;
}

int
conn_write(struct conn *c, const void *p, size_t n)
{
	const unsigned char *s = p;
	size_t k;

	while (n > 0 && c->status == 0) {
		if (c->wlen == CONN_BUF && drain(c, Z_NO_FLUSH) != 0)
			break;
		k = CONN_BUF - c->wlen < n ? CONN_BUF - c->wlen : n;
		memcpy(c->wbuf + c->wlen, s, k);
		c->wlen += k;
		s += k;
		n -= k;
	}
	return c->status;
}

int
conn_printf(struct conn *c, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	sb_grow(&sb, n + 1);
	va_start(ap, fmt);
	vsnprintf(sb.s, n + 1, fmt, ap);
	va_end(ap);
	n = conn_write(c, sb.s, n);
	sb_free(&sb);
	return n;
}

int
conn_flush(struct conn *c)
{
	if (c->status)
		return c->status;
	if (c->wlen == 0 && !c->zout_on)
		return 0;
	return drain(c, Z_SYNC_FLUSH);
}

int
conn_shutdown_write(struct conn *c)
{
	if (c->zout_on)
		drain(c, Z_FINISH);
	else
		conn_flush(c);
	if (c->status)
		return c->status;
	if (c->ssl != NULL)
		SSL_shutdown(c->ssl);
	if (c->wfd != c->rfd) {
		close(c->wfd);
		c->wfd = -1;
	} else
		shutdown(c->wfd, SHUT_WR);
	return 0;
}

int
conn_deflate(struct conn *c, int in, int out)
{
	if (in && !c->zin_on) {
		if (inflateInit(&c->zin) != Z_OK)
			return conn_fail(c, EX_SOFTWARE, "inflateInit failed");
		c->zin_on = 1;
		c->zbuf = xmalloc(CONN_BUF);
		/* Bytes that came in behind the last plain line are the
		 * start of the deflate stream. */
		memcpy(c->zbuf, c->rbuf + c->rpos, c->rlen - c->rpos);
		c->zpos = 0;
		c->zlen = c->rlen - c->rpos;
		c->rpos = c->rlen = 0;
	}
	if (out && !c->zout_on) {
		if (conn_flush(c) != 0)
			return c->status;
		if (deflateInit(&c->zout, Z_DEFAULT_COMPRESSION) != Z_OK)
			return conn_fail(c, EX_SOFTWARE, "deflateInit failed");
		c->zout_on = 1;
	}
	return 0;
}

/* stdio on a connection */

static ssize_t
cookie_read(void *cookie, char *buf, size_t n)
{
	return conn_read(cookie, buf, n);
}

static ssize_t
cookie_write(void *cookie, const char *buf, size_t n)
{
	struct conn *c = cookie;

	if (conn_write(c, buf, n) != 0 || conn_flush(c) != 0) {
		errno = EPIPE;
		return -1;
	}
	return n;
}

static int
cookie_close(void *cookie)
{
	(void)cookie;
	return 0;
}

FILE *
conn_fopen(struct conn *c, const char *mode)
{
	cookie_io_functions_t io = { cookie_read, cookie_write, NULL,
	    cookie_close };
	FILE *fp;

	/* XXX: fopencookie is glibc's; BSDs would use funopen */
	if ((fp = fopencookie(c, mode, io)) == NULL) {
		sp_syserr("%s: cannot make a stream", c->peer);
		return NULL;
	}
	setvbuf(fp, NULL, _IOFBF, CONN_BUF);
	return fp;
}

/* TCP */

char *
sockaddr_name(const struct sockaddr *sa, unsigned int len)
{
	char host[NI_MAXHOST], serv[NI_MAXSERV];

	if (getnameinfo(sa, len, host, sizeof(host), serv, sizeof(serv),
	    NI_NUMERICHOST | NI_NUMERICSERV) != 0)
		return xstrdup("unknown");
	if (sa->sa_family == AF_INET6)
		return xasprintf("[%s]:%s", host, serv);
	return xasprintf("%s:%s", host, serv);
}

int
conn_connect(const char *host, const char *port, struct conn **c)
{
	struct addrinfo hints, *res, *ai;
	char *name;
	int fd = -1, e, err = 0, one = 1;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	if ((e = getaddrinfo(host, port, &hints, &res)) != 0) {
		sp_err("%s:%s: %s", host, port, gai_strerror(e));
		return EX_UNAVAILABLE;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
		    ai->ai_protocol);
		if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		err = errno;
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	if (fd < 0) {
		freeaddrinfo(res);
		sp_err("%s:%s: cannot connect: %s", host, port, strerror(err));
		return EX_UNAVAILABLE;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	name = sockaddr_name(ai->ai_addr, ai->ai_addrlen);
	freeaddrinfo(res);
	*c = conn_new(fd, fd, name);
	free(name);
	return 0;
}

/* TLS */

static int
tls_fail(struct conn *c, const char *what)
{
	char why[256];

	ssl_errors(why, sizeof(why));
	return conn_fail(c, EX_CONFIG, "TLS: %s: %s", what, why);
}

static SSL_CTX *
tls_ctx(struct conn *c, const struct tls_opts *o, int server)
{
	SSL_CTX *ctx = SSL_CTX_new(server ? TLS_server_method() :
	    TLS_client_method());

	if (ctx == NULL) {
		tls_fail(c, "cannot set up");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	if (o->cert != NULL && (SSL_CTX_use_certificate_chain_file(ctx,
	    o->cert) != 1 || SSL_CTX_use_PrivateKey_file(ctx,
	    o->key ? o->key : o->cert, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1)) {
		tls_fail(c, o->cert);
		SSL_CTX_free(ctx);
		return NULL;
	}
	if ((o->ca != NULL && SSL_CTX_load_verify_locations(ctx, o->ca,
	    NULL) != 1) || (o->ca == NULL && !server &&
	    SSL_CTX_set_default_verify_paths(ctx) != 1)) {
		tls_fail(c, o->ca ? o->ca : "the system's CA store");
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

/* Why the peer's certificate was refused, in words. */
static int
verify_fail(struct conn *c, long v, const char *host, const char *ca)
{
	const char *where = ca ? ca : "the system's CA store";

	switch (v) {
	case X509_V_ERR_CERT_HAS_EXPIRED:
		return conn_fail(c, EX_CONFIG, "TLS: the peer's certificate "
		    "has expired");
	case X509_V_ERR_CERT_NOT_YET_VALID:
		return conn_fail(c, EX_CONFIG, "TLS: the peer's certificate "
		    "is not valid yet");
	case X509_V_ERR_HOSTNAME_MISMATCH:
	case X509_V_ERR_IP_ADDRESS_MISMATCH:
		return conn_fail(c, EX_CONFIG, "TLS: the peer's certificate "
		    "is not for host %s", host);
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
		return conn_fail(c, EX_CONFIG, "TLS: the peer's certificate "
		    "is signed by an unknown CA (not in %s)", where);
	default:
		return conn_fail(c, EX_CONFIG, "TLS: the peer's certificate "
		    "was refused: %s", X509_verify_cert_error_string(v));
	}
}

static int
tls_handshake(struct conn *c, int server)
{
	int r, e;

	for (;;) {
		r = server ? SSL_accept(c->ssl) : SSL_connect(c->ssl);
		if (r == 1)
			return 0;
		e = SSL_get_error(c->ssl, r);
		if (e == SSL_ERROR_WANT_READ && conn_wait(c, c->rfd,
		    POLLIN) == 0)
			continue;
		if (e == SSL_ERROR_WANT_WRITE && conn_wait(c, c->wfd,
		    POLLOUT) == 0)
			continue;
		return c->status ? c->status : -1;
	}
}

static int
tls_start(struct conn *c, SSL_CTX *ctx)
{
	if (conn_pending(c) > 0) {
		SSL_CTX_free(ctx);
		return conn_fail(c, EX_PROTOCOL, "bytes sent before the TLS "
		    "handshake");
	}
	if ((c->ssl = SSL_new(ctx)) == NULL) {
		SSL_CTX_free(ctx);
		return tls_fail(c, "cannot set up");
	}
	SSL_set_rfd(c->ssl, c->rfd);
	SSL_set_wfd(c->ssl, c->wfd);
	return 0;
}

int
conn_tls_client(struct conn *c, const struct tls_opts *o, const char *host)
{
	SSL_CTX *ctx;
	struct in6_addr a;
	int ip, st;
	long v;

	if ((ctx = tls_ctx(c, o, 0)) == NULL)
		return c->status;
	if (o->insecure)
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	else
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if ((st = tls_start(c, ctx)) != 0)
		return st;
	ip = inet_pton(AF_INET, host, &a) == 1 ||
	    inet_pton(AF_INET6, host, &a) == 1;
	if (!ip)
		SSL_set_tlsext_host_name(c->ssl, host);
	if (!o->insecure && (ip ? X509_VERIFY_PARAM_set1_ip_asc(
	    SSL_get0_param(c->ssl), host) != 1 :
	    SSL_set1_host(c->ssl, host) != 1))
		return tls_fail(c, "cannot set the host name to check");
	if (tls_handshake(c, 0) == 0)
		return 0;
	if (c->status)
		return c->status;
	v = SSL_get_verify_result(c->ssl);
	if (v != X509_V_OK)
		return verify_fail(c, v, host, o->ca);
	st = tls_fail(c, "handshake failed");
	return c->status = st == EX_CONFIG ? EX_TEMPFAIL : st;
}

int
conn_tls_server(struct conn *c, const struct tls_opts *o)
{
	SSL_CTX *ctx;
	int st;
	long v;

	if ((ctx = tls_ctx(c, o, 1)) == NULL)
		return c->status;
	if (o->verify_peer)
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER |
		    SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	if ((st = tls_start(c, ctx)) != 0)
		return st;
	if (tls_handshake(c, 1) == 0)
		return 0;
	if (c->status)
		return c->status;
	v = SSL_get_verify_result(c->ssl);
	if (o->verify_peer && v != X509_V_OK)
		return verify_fail(c, v, c->peer, o->ca);
	return tls_fail(c, "handshake failed");
}

const char *
conn_tls_desc(const struct conn *c)
{
	static char buf[128];

	if (c->ssl == NULL)
		return "";
	snprintf(buf, sizeof(buf), "%s %s", SSL_get_version(c->ssl),
	    SSL_get_cipher_name(c->ssl));
	return buf;
}

/* SASL helpers */

int
sasl64_encode(const void *p, size_t n, struct strbuf *out)
{
	unsigned int len = 0;

	sb_reset(out);
	sb_grow(out, n * 4 / 3 + 8);
	if (sasl_encode64(p, n, out->s, out->cap, &len) != SASL_OK)
		return -1;
	out->len = len;
	out->s[len] = '\0';
	return 0;
}

int
sasl64_decode(const char *s, struct strbuf *out)
{
	unsigned int len = 0;
	size_t n = strlen(s);

	sb_reset(out);
	sb_grow(out, n + 8);
	if (sasl_decode64(s, n, out->s, out->cap, &len) != SASL_OK)
		return -1;
	out->len = len;
	out->s[len] = '\0';
	return 0;
}

const char *
sasl_why(int code)
{
	return sasl_errstring(code, NULL, NULL);
}
