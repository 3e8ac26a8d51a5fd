/*
 * endpoint: parsing replica endpoints (see endpoint.h).
 */
#include <stdlib.h>
#include <string.h>

#include "endpoint.h"

int
endpoint_is_remote(const char *s)
{
	return strstr(s, "://") != NULL;
}

static int
bad(const char *s, const char *why)
{
	sp_err("%s: bad endpoint: %s", s, why);
	return EX_USAGE;
}

static int
port_ok(const char *p)
{
	size_t n = strspn(p, "0123456789");

	return n > 0 && n <= 5 && p[n] == '\0' && atoi(p) > 0 &&
	    atoi(p) < 65536;
}

/* host[:port] from [a, end): brackets allowed around an IPv6 address. */
static int
parse_hostport(const char *s, const char *a, const char *end,
    struct endpoint *ep)
{
	const char *colon, *close;

	if (a == end)
		return bad(s, "no host");
	if (*a == '[') {
		close = memchr(a, ']', end - a);
		if (close == NULL)
			return bad(s, "unterminated [ in the host");
		ep->host = xstrndup(a + 1, close - a - 1);
		colon = close + 1 < end && close[1] == ':' ? close + 1 : NULL;
		if (colon == NULL && close + 1 != end)
			return bad(s, "text after the ] of the host");
	} else {
		colon = memchr(a, ':', end - a);
		ep->host = xstrndup(a, (colon ? colon : end) - a);
	}
	/* A host starting with '-' would be an option to ssh. */
	if (ep->host[0] == '\0' || ep->host[0] == '-' ||
	    strpbrk(ep->host, " \t/@") != NULL)
		return bad(s, "bad host name");
	if (colon != NULL) {
		ep->port = xstrndup(colon + 1, end - colon - 1);
		if (!port_ok(ep->port))
			return bad(s, "the port must be a number 1-65535");
	}
	return 0;
}

static int
parse_ssh(const char *s, const char *rest, struct endpoint *ep)
{
	const char *slash = strchr(rest, '/'), *at;

	if (slash == NULL || slash[1] == '\0')
		return bad(s, "ssh endpoints need a path: "
		    "ssh://[user@]host[:port]/path");
	at = memchr(rest, '@', slash - rest);
	if (at != NULL) {
		if (at == rest)
			return bad(s, "empty user name");
		ep->user = xstrndup(rest, at - rest);
		rest = at + 1;
	}
	ep->path = xstrdup(strncmp(slash, "/~/", 3) == 0 ? slash + 3 : slash);
	if (ep->path[0] == '-')
		return bad(s, "a path may not start with '-'");
	return parse_hostport(s, rest, slash, ep);
}

int
endpoint_parse(const char *s, struct endpoint *ep)
{
	const char *rest, *end;
	int st;

	memset(ep, 0, sizeof(*ep));
	ep->text = xstrdup(s);
	if (!endpoint_is_remote(s)) {
		ep->kind = EP_LOCAL;
		ep->path = xstrdup(s);
		return 0;
	}
	if (strncmp(s, "ssh://", 6) == 0) {
		ep->kind = EP_SSH;
		st = parse_ssh(s, s + 6, ep);
	} else if (strncmp(s, "sync://", 7) == 0 ||
	    strncmp(s, "syncs://", 8) == 0) {
		ep->kind = s[4] == 's' ? EP_SYNCS : EP_SYNC;
		rest = s + (ep->kind == EP_SYNCS ? 8 : 7);
		end = rest + strlen(rest);
		if (end > rest && end[-1] == '/')
			end--;
		if (memchr(rest, '/', end - rest) != NULL)
			st = bad(s, "sync:// endpoints take no path: the "
			    "server serves one store");
		else
			st = parse_hostport(s, rest, end, ep);
	} else
		st = bad(s, "unknown scheme: ssh://, sync:// and syncs:// "
		    "are known");
	if (st != 0)
		endpoint_free(ep);
	return st;
}

void
endpoint_free(struct endpoint *ep)
{
	free(ep->text);
	free(ep->user);
	free(ep->host);
	free(ep->port);
	free(ep->path);
	memset(ep, 0, sizeof(*ep));
}
