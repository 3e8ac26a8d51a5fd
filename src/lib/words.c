/*
 * words: splitting a line into words and writing words back, quoted when
 * needed.  The grammar is described in words.h.
 *
 * Reading is a little more lenient than writing so that every line a Cyrus
 * server writes reads back: a bare word may hold '{', '}', '(' or ')', and
 * braces inside quotes need not be escaped.  What stays an error is anything
 * that could be read two ways: a '"' or '\\' inside a bare word, text glued
 * to a closing quote, an escape of any other character.
 */
#include <string.h>

#include "words.h"

/* Bytes that make a word need quotes when written. */
static int
needs_quote(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '(' || c == ')' || c == '\\' ||
	    c == '"' || c == '{' || c == '}';
}

/* Bytes that are escaped with a backslash inside quotes. */
static int
needs_escape(unsigned char c)
{
	return c == '\\' || c == '"' || c == '{' || c == '}';
}

static int
is_blank(unsigned char c)
{
	return c == ' ' || c == '\t';
}

/*
 * Unquotes the quoted word that starts at line[*pos] (the opening quote) in
 * place; the word ends up at line + start.  Returns 0 with *pos just past
 * the closing quote, or -1 with *why set.
 */
static int
split_quoted(char *line, size_t len, size_t *pos, const char **why)
{
	size_t	 i = *pos + 1, out = *pos;
	unsigned char c;

	for (;;) {
		if (i >= len) {
			*why = "unterminated quoted word";
			return -1;
		}
		c = (unsigned char)line[i];
		if (c == '"')
			break;
		if (c == '\\') {
			if (i + 1 >= len) {
				*why = "unterminated quoted word";
				return -1;
			}
			c = (unsigned char)line[i + 1];
			if (!needs_escape(c)) {
				*why = "invalid escape in quoted word";
				return -1;
			}
			i++;
		} else if (c == '\r' || c == '\n') {
			*why = "CR or LF inside a quoted word";
			return -1;
		}
		line[out++] = (char)c;
		i++;
	}
	i++;
	if (i < len && !is_blank((unsigned char)line[i])) {
		*why = "text right after a closing quote";
		return -1;
	}
	line[out] = '\0';
	*pos = i;
	return 0;
}

/* Scans the bare word at line[*pos]; 0 with *pos past it, or -1. */
static int
split_bare(char *line, size_t len, size_t *pos, const char **why)
{
	size_t	 i = *pos;
	unsigned char c;

	while (i < len && !is_blank((unsigned char)line[i])) {
		c = (unsigned char)line[i];
		if (c == '"') {
			*why = "quote inside an unquoted word";
			return -1;
		}
		if (c == '\\') {
			*why = "backslash inside an unquoted word";
			return -1;
		}
		if (c == '\r' || c == '\n') {
			*why = "CR or LF inside a line";
			return -1;
		}
		i++;
	}
	*pos = i;
	return 0;
}

int
words_split(char *line, size_t len, char **words, int max, const char **why)
{
	size_t	 pos = 0, start;
	int	 n = 0;

	if (memchr(line, '\0', len) != NULL) {
		*why = "NUL byte in line";
		return -1;
	}
	if (len > 0 && line[len - 1] == '\r')
		len--;

	for (;;) {
		while (pos < len && is_blank((unsigned char)line[pos]))
			pos++;
		if (pos >= len)
			break;
		if (n >= max) {
			*why = "too many words";
			return -1;
		}
		start = pos;
		if (line[pos] == '"') {
			/* Unquoting shrinks the word: its NUL fits inside. */
			if (split_quoted(line, len, &pos, why) == -1)
				return -1;
		} else {
			if (split_bare(line, len, &pos, why) == -1)
				return -1;
			line[pos] = '\0';	/* a blank, or line[len] */
		}
		words[n++] = line + start;
		if (pos < len)
			pos++;
	}
	return n;
}

void
word_add(struct strbuf *sb, const char *s)
{
	const unsigned char *p;
	int	 quote = (*s == '\0');

	for (p = (const unsigned char *)s; *p != '\0' && !quote; p++)
		quote = needs_quote(*p);
	if (!quote) {
		sb_adds(sb, s);
		return;
	}
	sb_addc(sb, '"');
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (needs_escape(*p))
			sb_addc(sb, '\\');
		sb_addc(sb, *p);
	}
	sb_addc(sb, '"');
}

int
word_ok(const char *s)
{
	return strpbrk(s, "\r\n") == NULL;
}
