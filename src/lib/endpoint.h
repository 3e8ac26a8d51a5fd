/*
 * endpoint: where a replica is reached.
 *
 *   /srv/mail, ./replica         a local store (any name without "://")
 *   ssh://[user@]host[:port]/path  sync-apply --serve /path run through
 *                                $SYNC_RSH (default "ssh")
 *   sync://host[:port]           TCP to sync-apply --listen; STARTTLS is
 *                                required before authentication
 *   syncs://host[:port]          the same with TLS from the first byte
 *
 * A host may be an IPv6 address in brackets.  The path of an ssh endpoint
 * is the rest of the text after the host, leading slash included; a
 * leading "/~/" means a path relative to the remote home.
 */
#ifndef SP_ENDPOINT_H
#define SP_ENDPOINT_H

#include "util.h"

#define SYNC_PORT	"7810"
#define SYNCS_PORT	"7811"

enum ep_kind { EP_LOCAL, EP_SSH, EP_SYNC, EP_SYNCS };

struct endpoint {
	enum ep_kind	 kind;
	char		*text;		/* as given, for messages */
	char		*user;		/* ssh only; NULL if not given */
	char		*host;
	char		*port;		/* NULL: the default */
	char		*path;		/* local and ssh */
};

/* Parses s.  0, or EX_USAGE with a message naming what is wrong. */
int	endpoint_parse(const char *s, struct endpoint *ep);
void	endpoint_free(struct endpoint *ep);
/* Nonzero when s names a remote endpoint (contains "://"). */
int	endpoint_is_remote(const char *s);

#endif
