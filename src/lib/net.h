/*
 * net: a byte connection to a peer, and the layers a connection may carry:
 * TLS (OpenSSL libssl), a zlib deflate stream in each direction, and the
 * SASL set-up (libsasl2) that the client and the server share.
 *
 * A connection is a pair of file descriptors (one socket twice, or the two
 * ends of pipes to an ssh process).  Reads are buffered; writes are
 * buffered until conn_flush().  Every read and write waits at most the idle
 * timeout and never past the total deadline.  Once a connection fails
 * (peer gone, timeout, TLS or zlib error) every later call fails with the
 * same status, which is EX_TEMPFAIL for a lost peer: retrying later may
 * help.  Failures are reported once, with the peer's name.
 *
 * conn_fopen() gives a stdio stream on the connection, so that the stream
 * readers and writers of stream.h and apply_bundle() run over it.
 */
#ifndef SP_NET_H
#define SP_NET_H

#include <stdint.h>
#include <stdio.h>

#include <openssl/ssl.h>
#include <zlib.h>

#include "util.h"

#define CONN_BUF	65536

struct conn {
	int		 rfd, wfd;
	char		*peer;		/* "127.0.0.1:4567", "ssh host" */
	SSL		*ssl;
	int		 zin_on, zout_on;
	z_stream	 zin, zout;
	unsigned char	*rbuf;		/* plain bytes ready to be read */
	size_t		 rpos, rlen;
	unsigned char	*zbuf;		/* raw bytes not yet inflated */
	size_t		 zpos, zlen;
	unsigned char	*wbuf;		/* plain bytes not yet sent */
	size_t		 wlen;
	int		 idle;		/* seconds; 0 = none */
	double		 deadline;	/* now_mono() limit; 0 = none */
	int		 eof;		/* the peer closed its side */
	int		 status;	/* sticky failure */
	int		 quiet_eof;	/* an end of input is not reported */
	uint64_t	 plain_in, plain_out;	/* bytes above compression */
	uint64_t	 raw_in, raw_out;	/* bytes on the wire */
};

/* A connection over rfd and wfd (equal for a socket); peer names it. */
struct conn *conn_new(int rfd, int wfd, const char *peer);
/* Closes the descriptors (once if equal) and frees everything. */
void	conn_free(struct conn *c);
/* Sets the idle timeout and, if total > 0, the deadline from now. */
void	conn_timeouts(struct conn *c, int idle, int total);

/* TCP connection to host:port.  0 with *c, or exit status (reported). */
int	conn_connect(const char *host, const char *port, struct conn **c);

/* Reads up to n bytes: the count, 0 at the peer's end, -1 on failure. */
ssize_t	conn_read(struct conn *c, void *p, size_t n);
/* Reads one line into sb (without LF, CR dropped), at most max bytes.
 * 1: a line; 0: end of input before any byte; -1: failure (reported);
 * -2: the line is too long (reported; the connection can still send). */
int	conn_getline(struct conn *c, struct strbuf *sb, size_t max);
/* Bytes that are buffered but not read yet. */
size_t	conn_pending(const struct conn *c);
int	conn_write(struct conn *c, const void *p, size_t n);
int	conn_printf(struct conn *c, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* Sends everything buffered (a full deflate flush).  0 or status. */
int	conn_flush(struct conn *c);
/* Flushes and closes the sending side; reading goes on. */
int	conn_shutdown_write(struct conn *c);

/* Deflate in both directions from the next byte; 0 or status. */
int	conn_deflate(struct conn *c, int in, int out);
/* Peeks at the next byte without taking it: the byte, or -1. */
int	conn_peek(struct conn *c);

/* A stdio stream reading ("r") or writing ("w") the connection; fclose
 * leaves the connection open.  NULL on failure (reported). */
FILE	*conn_fopen(struct conn *c, const char *mode);

/* TLS. */
struct tls_opts {
	const char	*cert;		/* PEM chain: ours */
	const char	*key;
	const char	*ca;		/* PEM file of trusted CAs; NULL: system */
	int		 insecure;	/* client: no certificate check */
	int		 verify_peer;	/* server: require a client cert */
};
/* Starts TLS as the client of host (its name is checked against the
 * certificate) or as the server.  0 or status (reported: expired, wrong
 * host, unknown CA, ...). */
int	conn_tls_client(struct conn *c, const struct tls_opts *o,
	    const char *host);
int	conn_tls_server(struct conn *c, const struct tls_opts *o);
/* The TLS version and cipher in use, for log lines; "" without TLS. */
const char *conn_tls_desc(const struct conn *c);

/* SASL: base64 with libsasl2's coder.  0 or -1. */
int	sasl64_encode(const void *p, size_t n, struct strbuf *out);
int	sasl64_decode(const char *s, struct strbuf *out);
/* A libsasl2 result code as text, for messages. */
const char *sasl_why(int code);

/* Names a sockaddr as "host:port". */
struct sockaddr;
char	*sockaddr_name(const struct sockaddr *sa, unsigned int len);

#endif
