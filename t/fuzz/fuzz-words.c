/*
 * fuzz-words: any bytes as one line for words_split; every word that comes
 * out must be written by word_add so that it splits back to itself.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "words.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
round_trip(const char *word)
{
	struct strbuf sb = STRBUF_INIT;
	const char *why;
	char	*w[2];
	int	 n;

	if (!word_ok(word))
		abort();
	word_add(&sb, word);
	n = words_split(sb.s, sb.len, w, 2, &why);
	if (n != 1 || strcmp(w[0], word) != 0)
		abort();
	sb_free(&sb);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *why = NULL;
	char	*line, *w[WORDS_MAX];
	int	 i, n;

	line = xmalloc(size + 1);
	memcpy(line, data, size);
	n = words_split(line, size, w, WORDS_MAX, &why);
	if (n == -1 && why == NULL)
		abort();
	for (i = 0; i < n; i++) {
		if (w[i] < line || w[i] > line + size)
			abort();
		round_trip(w[i]);
	}
	free(line);
	return 0;
}
