/* Unit tests of words: splitting, quoting, and the round trip. */
#include <stdlib.h>
#include <string.h>

#include "words.h"
#include "unit.h"

/* Splits s (a copy with room for the terminator); words joined by '|'. */
static char *
split(const char *s, const char **why)
{
	struct strbuf sb = STRBUF_INIT;
	size_t	 len = strlen(s);
	char	*line = xmalloc(len + 1), *w[8];
	int	 i, n;

	memcpy(line, s, len + 1);
	*why = NULL;
	n = words_split(line, len, w, 8, why);
	if (n == -1) {
		free(line);
		return NULL;
	}
	for (i = 0; i < n; i++) {
		if (i > 0)
			sb_addc(&sb, '|');
		sb_adds(&sb, w[i]);
	}
	free(line);
	return sb_detach(&sb);
}

static void
check_split(const char *in, const char *want, const char *name)
{
	const char *why;
	char	*got = split(in, &why);

	CHECK_STR(got, want, name);
	free(got);
}

static void
check_bad(const char *in, const char *want_why, const char *name)
{
	const char *why;
	char	*got = split(in, &why);

	CHECK(got == NULL, name);
	CHECK_STR(why, want_why, name);
	free(got);
}

static void
test_split(void)
{
	check_split("MAILBOX user.alice", "MAILBOX|user.alice", "bare words");
	check_split("  A \t B  ", "A|B", "runs of blanks");
	check_split("", "", "empty line has no words");
	check_split("A \"\"", "A|", "empty quoted word");
	check_split("A \"x y\"", "A|x y", "quoted space");
	check_split("A \"Say \\\"hi\\\"\"", "A|Say \"hi\"", "escaped quotes");
	check_split("A \"b\\\\s\"", "A|b\\s", "escaped backslash");
	check_split("A \"B\\{x\\}\"", "A|B{x}", "escaped braces");
	check_split("A \"B{x}\"", "A|B{x}", "braces need no escape");
	check_split("A \"t\th\"", "A|t\th", "raw tab inside quotes");
	check_split("A b{x}(1)", "A|b{x}(1)", "braces and parens bare");
	check_split("A b\r", "A|b", "CR before the end dropped");
	check_split("A user.a&AOk-[x]*~@+'^-", "A|user.a&AOk-[x]*~@+'^-",
	    "punctuation Cyrus leaves bare");
}

static void
test_split_errors(void)
{
	const char *why;
	char	 line[] = "A\0B";
	char	*w[8];

	check_bad("A \"abc", "unterminated quoted word", "unterminated");
	check_bad("A \"abc\\", "unterminated quoted word", "escape at end");
	check_bad("A \"a\\nb\"", "invalid escape in quoted word",
	    "escape of n");
	check_bad("A \"ab\"c", "text right after a closing quote", "glued");
	check_bad("A a\"b", "quote inside an unquoted word", "bare quote");
	check_bad("A a\\b", "backslash inside an unquoted word",
	    "bare backslash");
	check_bad("A a\rb", "CR or LF inside a line", "CR in the middle");
	check_bad("1 2 3 4 5 6 7 8 9", "too many words", "too many");
	CHECK_EQ(words_split(line, 3, w, 8, &why), -1, "NUL refused");
	CHECK_STR(why, "NUL byte in line", "NUL reason");
}

static char *
quoted(const char *s)
{
	struct strbuf sb = STRBUF_INIT;

	word_add(&sb, s);
	return sb_detach(&sb);
}

static void
check_word(const char *in, const char *want, const char *name)
{
	char	*got = quoted(in);

	CHECK_STR(got, want, name);
	free(got);
}

static void
test_word_add(void)
{
	check_word("user.alice", "user.alice", "bare");
	check_word("", "\"\"", "empty quoted");
	check_word("a b", "\"a b\"", "space quoted");
	check_word("a\tb", "\"a\tb\"", "tab quoted");
	check_word("P(1)", "\"P(1)\"", "parens quoted");
	check_word("x{y}", "\"x\\{y\\}\"", "braces quoted and escaped");
	check_word("b\\s", "\"b\\\\s\"", "backslash quoted and escaped");
	check_word("a\"b", "\"a\\\"b\"", "quote quoted and escaped");
	check_word("&AOk-[x]^", "&AOk-[x]^", "Cyrus's bare punctuation");
	CHECK(word_ok("a b"), "word_ok: plain");
	CHECK(!word_ok("a\nb"), "word_ok: LF");
	CHECK(!word_ok("a\rb"), "word_ok: CR");
}

static void
test_round_trip(void)
{
	static const char *const words[] = {
		"", " ", "a b", "\\", "\"", "{}", "()", "\t", "x\\\"y{z}",
		"user.alice.Caf&AOk- Cr&AOg-me", "\"\"\"", "\\\\",
	};
	const char *why;
	size_t	 i;
	char	*q, *back;
	int	 ok = 1;

	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		q = quoted(words[i]);
		back = split(q, &why);
		if (back == NULL || strcmp(back, words[i]) != 0)
			ok = 0;
		free(q);
		free(back);
	}
	CHECK(ok, "every word reads back as written");
}

int
main(void)
{
	test_split();
	test_split_errors();
	test_word_add();
	test_round_trip();
	return unit_done();
}
