/*
 * json: JSON strings from arbitrary bytes (rules in json.h).
 */
#include <string.h>

#include "json.h"

size_t
utf8_seqlen(const unsigned char *p, size_t n)
{
	unsigned char c = p[0];
	size_t	 len, i;

	if (n == 0)
		return 0;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4;
	else
		return 0;	/* a continuation byte, an overlong lead */
	if (n < len)
		return 0;
	for (i = 1; i < len; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	/* Overlong forms, surrogates and code points past U+10FFFF. */
	if ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] >= 0xa0) ||
	    (c == 0xf0 && p[1] < 0x90) || (c == 0xf4 && p[1] >= 0x90))
		return 0;
	return len;
}

static void
add_escaped(struct strbuf *sb, unsigned char c)
{
	switch (c) {
	case '"':  sb_adds(sb, "\\\""); break;
	case '\\': sb_adds(sb, "\\\\"); break;
	case '\b': sb_adds(sb, "\\b"); break;
	case '\f': sb_adds(sb, "\\f"); break;
	case '\n': sb_adds(sb, "\\n"); break;
	case '\r': sb_adds(sb, "\\r"); break;
	case '\t': sb_adds(sb, "\\t"); break;
	default:   sb_addf(sb, "\\u%04x", c); break;
	}
}

void
json_add_string(struct strbuf *sb, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t	 n = strlen(s), len;

	sb_addc(sb, '"');
	while (n > 0) {
		if (*p < 0x20 || *p == 0x7f || *p == '"' || *p == '\\') {
			add_escaped(sb, *p);
			len = 1;
		} else if ((len = utf8_seqlen(p, n)) == 0) {
			add_escaped(sb, *p);	/* not UTF-8: \u00XX */
			len = 1;
		} else
			sb_add(sb, p, len);
		p += len;
		n -= len;
	}
	sb_addc(sb, '"');
}
