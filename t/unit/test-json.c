/* Unit tests of json: strings from arbitrary bytes. */
#include <stdlib.h>

#include "json.h"
#include "unit.h"

static void
check(const char *in, const char *want, const char *name)
{
	struct strbuf sb = STRBUF_INIT;

	json_add_string(&sb, in);
	CHECK_STR(sb.s, want, name);
	sb_free(&sb);
}

int
main(void)
{
	check("", "\"\"", "empty");
	check("user.fred", "\"user.fred\"", "plain");
	check("a\"b\\c", "\"a\\\"b\\\\c\"", "quote and backslash");
	check("\t\n\r\b\f", "\"\\t\\n\\r\\b\\f\"", "short escapes");
	check("\x01\x1f\x7f", "\"\\u0001\\u001f\\u007f\"", "controls");
	check("caf\xc3\xa9 \xe6\x97\xa5 \xf0\x9f\x98\x80",
	    "\"caf\xc3\xa9 \xe6\x97\xa5 \xf0\x9f\x98\x80\"", "valid UTF-8");
	check("\xff", "\"\\u00ff\"", "invalid byte");
	check("a\xc3", "\"a\\u00c3\"", "truncated sequence");
	check("\xc0\xaf", "\"\\u00c0\\u00af\"", "overlong");
	check("\xed\xa0\x80", "\"\\u00ed\\u00a0\\u0080\"", "surrogate");
	check("\xf4\x90\x80\x80", "\"\\u00f4\\u0090\\u0080\\u0080\"",
	    "past U+10FFFF");
	check("\x80x", "\"\\u0080x\"", "lone continuation byte");
	CHECK_EQ(utf8_seqlen((const unsigned char *)"\xe2\x82\xac", 3), 3,
	    "seqlen of a euro sign");
	CHECK_EQ(utf8_seqlen((const unsigned char *)"\xe2\x82", 2), 0,
	    "seqlen of a cut sequence");
	return unit_done();
}
