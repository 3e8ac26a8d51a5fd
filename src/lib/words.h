/*
 * words: the one line grammar shared by the sync log, the change list, the
 * bundle and the applied entries.
 *
 * A line is words separated by single spaces (runs of spaces and tabs between
 * words are accepted on input), ended by LF; a CR before the LF is dropped.
 * A word is written bare unless it is empty or holds a space, tab, '(', ')',
 * '\\', '"', '{' or '}'; then it is wrapped in double quotes and each of
 * '\\', '"', '{', '}' inside is preceded by a backslash.  This is the rule a
 * Cyrus server follows for its sync log; input quoted by Cyrus (which quotes
 * fewer words) reads the same.  CR, LF and NUL can never be part of a word.
 */
#ifndef SP_WORDS_H
#define SP_WORDS_H

#include <stddef.h>

#include "util.h"

#define WORDS_MAX	64

/*
 * Splits line[0..len) (without its LF) into at most max words, unquoting in
 * place; words[i] point into line, which gets NUL terminators.  Returns the
 * number of words, or -1 with *why set to a static description ("unterminated
 * quoted word", "NUL byte in line", "too many words", ...).  line[len] must
 * be writable (it may receive the last NUL): keep the LF's byte or room for
 * a terminator.
 */
int	words_split(char *line, size_t len, char **words, int max,
	    const char **why);

/* Appends s as one word, quoted when needed.  s must not hold CR or LF. */
void	word_add(struct strbuf *sb, const char *s);

/* Nonzero when s can be written as a word (no CR, LF). */
int	word_ok(const char *s);

#endif
