/*
 * Fuzz target: the bundle and change list readers.  The first byte picks
 * the kind; the rest is the stream.
 */
#include <stdint.h>
#include <stdio.h>

#include "stream.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum stream_kind kind;
	struct sreader r;
	struct record rec;
	uint64_t body;
	FILE *fp;

	if (size < 2)
		return 0;
	kind = data[0] & 1 ? SK_BUNDLE : SK_CHANGES;
	sp_verbosity = -1;
	if ((fp = fmemopen((void *)(data + 1), size - 1, "r")) == NULL)
		return 0;
	if (sr_begin(&r, fp, "fuzz", kind) == 0) {
		while (sr_next(&r, &rec) == 1) {
			if (kind != SK_BUNDLE ||
			    (rec.type != R_ADD && rec.type != R_SIEVE))
				continue;
			if (parse_u64(rec.w[rec.type == R_ADD ? 5 : 3],
			    &body) != 0 || body > size)
				break;
			if (sr_literal(&r, body, -1) != 0)
				break;
		}
	}
	sr_free(&r);
	fclose(fp);
	return 0;
}
