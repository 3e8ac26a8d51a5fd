/*
 * Fuzz target: the parsers of the wire protocol that read what a peer sends
 * (greeting, replies, the replica's state stream) and endpoint names.  The
 * first byte picks the parser; the rest is its input, split into lines.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "endpoint.h"
#include "proto.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
one_line(int which, char *line, size_t len, struct rstate *rs)
{
	struct greeting g;
	struct endpoint ep;
	struct reply r;
	const char *why;

	switch (which) {
	case 0:
		if (greeting_parse(line, &g, &why) == 0)
			proto_common_version(PROTO_VERSION_MIN,
			    PROTO_VERSION_MAX, g.vmin, g.vmax);
		greeting_free(&g);
		break;
	case 1:
		reply_parse(line, &r, &why);
		break;
	case 2:
		rstate_line(rs, line, len, &why);
		break;
	default:
		if (endpoint_parse(line, &ep) == 0)
			endpoint_free(&ep);
		break;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rstate rs;
	char *buf, *p, *nl;
	size_t i;
	int which;

	if (size < 1)
		return 0;
	sp_verbosity = -1;
	which = data[0] & 3;
	/* room for the NUL that words_split may put after a line */
	buf = xmalloc(size + 1);
	memcpy(buf, data + 1, size - 1);
	buf[size - 1] = '\0';
	memset(&rs, 0, sizeof(rs));
	for (p = buf; p < buf + size - 1; p = nl + 1) {
		nl = memchr(p, '\n', buf + size - 1 - p);
		if (nl == NULL)
			nl = buf + size - 1;
		*nl = '\0';
		if (memchr(p, '\0', nl - p) == NULL)
			one_line(which, p, nl - p, &rs);
	}
	rstate_finish(&rs);
	for (i = 0; i < rs.nmb; i++)
		rstate_mailbox(&rs, rs.mb[i].name);
	rstate_free(&rs);
	free(buf);
	return 0;
}
