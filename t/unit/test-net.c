/*
 * Unit tests of the network pieces that need no peer: endpoints, the
 * greeting and replies, the state stream, and a deflate round trip through
 * a pipe.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "endpoint.h"
#include "proto.h"
#include "unit.h"

static void
test_endpoints(void)
{
	struct endpoint ep;

	CHECK_EQ(endpoint_parse("ssh://vmail@r1:2222/srv/mail", &ep), 0,
	    "ssh endpoint parses");
	CHECK(ep.kind == EP_SSH, "ssh: kind");
	CHECK_STR(ep.user, "vmail", "ssh: user");
	CHECK_STR(ep.host, "r1", "ssh: host");
	CHECK_STR(ep.port, "2222", "ssh: port");
	CHECK_STR(ep.path, "/srv/mail", "ssh: path");
	endpoint_free(&ep);
	CHECK_EQ(endpoint_parse("ssh://r1/~/mail", &ep), 0, "ssh: home path");
	CHECK_STR(ep.path, "mail", "ssh: /~/ is relative to the home");
	endpoint_free(&ep);
	CHECK_EQ(endpoint_parse("syncs://[::1]:7811", &ep), 0, "ipv6 parses");
	CHECK(ep.kind == EP_SYNCS, "syncs: kind");
	CHECK_STR(ep.host, "::1", "ipv6: host without brackets");
	CHECK_STR(ep.port, "7811", "ipv6: port");
	endpoint_free(&ep);
	CHECK_EQ(endpoint_parse("sync://r1.example.net/", &ep), 0,
	    "sync: a trailing slash is allowed");
	CHECK(ep.port == NULL, "sync: no port means the default");
	endpoint_free(&ep);
	CHECK_EQ(endpoint_parse("/srv/replica", &ep), 0, "a directory");
	CHECK(ep.kind == EP_LOCAL, "a directory is local");
	endpoint_free(&ep);
	CHECK_EQ(endpoint_parse("ssh://r1", &ep), EX_USAGE, "ssh needs a path");
	CHECK_EQ(endpoint_parse("sync://r1/x", &ep), EX_USAGE,
	    "sync takes no path");
	CHECK_EQ(endpoint_parse("sync://r1:0", &ep), EX_USAGE, "port 0");
	CHECK_EQ(endpoint_parse("sync://r1:65536", &ep), EX_USAGE,
	    "port too large");
	CHECK_EQ(endpoint_parse("ssh://r1/~/-x", &ep), EX_USAGE,
	    "a path that looks like an option");
	CHECK_EQ(endpoint_parse("ssh://-oProxyCommand=x/p", &ep), EX_USAGE,
	    "a host that looks like an option");
	CHECK_EQ(endpoint_parse("http://r1", &ep), EX_USAGE, "unknown scheme");
}

static void
test_greeting(void)
{
	char line[] = "%syncpipe server 1-3 STARTTLS AUTH=PLAIN FUTURE DEFLATE";
	char bad[] = "%syncpipe server x";
	struct greeting g;
	struct reply r;
	const char *why;
	char ok[] = "OK protocol 1", no[] = "NO 76 no common version",
	    cont[] = "+ abc", junk[] = "YES";

	CHECK_EQ(greeting_parse(line, &g, &why), 0, "greeting parses");
	CHECK(g.vmin == 1 && g.vmax == 3, "greeting: version range");
	CHECK(g.starttls && g.deflate, "greeting: features");
	CHECK(g.mechs.n == 1 && strcmp(g.mechs.v[0], "PLAIN") == 0,
	    "greeting: mechanisms");
	greeting_free(&g);
	CHECK_EQ(greeting_parse(bad, &g, &why), -1, "bad version refused");
	greeting_free(&g);
	CHECK_EQ(proto_common_version(1, 1, 1, 3), 1, "common version");
	CHECK_EQ(proto_common_version(1, 1, 2, 3), 0, "no common version");
	CHECK_EQ(proto_common_version(2, 4, 1, 3), 3, "highest common");
	CHECK(reply_parse(ok, &r, &why) == 0 && r.kind == 'O', "OK reply");
	CHECK(reply_parse(no, &r, &why) == 0 && r.kind == 'N' &&
	    r.code == 76 && strcmp(r.text, "no common version") == 0,
	    "NO reply with its status");
	CHECK(reply_parse(cont, &r, &why) == 0 && r.kind == '+' &&
	    strcmp(r.text, "abc") == 0, "continuation");
	CHECK_EQ(reply_parse(junk, &r, &why), -1, "not a reply");
}

static int
feed(struct rstate *rs, const char *s)
{
	char *copy = xstrdup(s);
	const char *why;
	int r = rstate_line(rs, copy, strlen(copy), &why);

	free(copy);
	return r;
}

static void
test_state(void)
{
	struct rstate rs;
	const struct mailbox *mb;
	char sha[65];

	memset(&rs, 0, sizeof(rs));
	memset(sha, 'a', 64);
	sha[64] = '\0';
	CHECK_EQ(feed(&rs, "HOME fred"), 0, "HOME");
	CHECK_EQ(feed(&rs, "MBOX user.fred 0123456789abcdef0123456789abcdef"
	    " 7 3"), 0, "MBOX");
	CHECK_EQ(feed(&rs, "MSG 1 a.host S 1700000000 10"), 0, "MSG");
	CHECK_EQ(feed(&rs, "MSG 2 b.host FS 1700000001 20 work $Junk"), 0,
	    "MSG with keywords");
	CHECK_EQ(feed(&rs, "MSG 2 c.host S 1 1"), -1, "MSG out of order");
	CHECK_EQ(feed(&rs, "SUB fred user.fred.Sent"), 0, "SUB");
	CHECK_EQ(feed(&rs, "SCRIPT fred main 12 1700000000 x"), -1,
	    "SCRIPT with a short hash");
	CHECK_EQ(feed(&rs, "%end 99"), -1, "tail with the wrong count");
	CHECK_EQ(feed(&rs, "%end 5"), 1, "tail");
	rstate_finish(&rs);
	CHECK(rstate_has_user(&rs, "fred"), "user known");
	CHECK(!rstate_has_user(&rs, "bob"), "user not mentioned: absent");
	mb = rstate_mailbox(&rs, "user.fred");
	CHECK(mb != NULL && mb->nmsgs == 2 && mb->uidnext == 3,
	    "mailbox with its messages");
	CHECK(mb != NULL && mb->msgs[1].keywords.n == 2,
	    "keywords of a message");
	CHECK(rstate_mailbox(&rs, "user.fred.Sent") == NULL,
	    "mailbox not mentioned: absent");
	CHECK(rstate_subs(&rs, "fred") != NULL &&
	    rstate_subs(&rs, "fred")->subs.n == 1, "subscriptions");
	rstate_free(&rs);
}

/* Bytes through deflate and back over a pipe. */
static void
test_deflate(void)
{
	struct conn *w, *r;
	char buf[200000], back[200000];
	size_t i, got = 0;
	ssize_t n;
	int p[2];

	for (i = 0; i < sizeof(buf); i++)
		buf[i] = "syncpipe\n"[i % 9];
	if (pipe(p) != 0)
		return;
	if (fork() == 0) {
		close(p[0]);
		w = conn_new(-1, p[1], "writer");
		conn_deflate(w, 0, 1);
		conn_write(w, buf, sizeof(buf));
		_exit(conn_shutdown_write(w));
	}
	close(p[1]);
	r = conn_new(p[0], -1, "reader");
	CHECK_EQ(conn_deflate(r, 1, 0), 0, "inflate starts");
	while (got < sizeof(back) &&
	    (n = conn_read(r, back + got, sizeof(back) - got)) > 0)
		got += n;
	CHECK_EQ(got, sizeof(buf), "every byte comes back");
	CHECK(memcmp(buf, back, sizeof(buf)) == 0, "the same bytes");
	CHECK(r->raw_in < got / 10, "repetitive bytes shrink");
	conn_free(r);
}

int
main(void)
{
	sp_verbosity = 0;
	test_endpoints();
	test_greeting();
	test_state();
	test_deflate();
	return unit_done();
}
