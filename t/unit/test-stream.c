/*
 * Unit tests for the change list and bundle streams.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stream.h"
#include "unit.h"

/* A bundle with one ADD record and a 5-byte body, in a malloc'd string. */
static char *
make_bundle(size_t *len)
{
	struct swriter w;
	struct strbuf *sb;
	char *buf = NULL, path[] = "/tmp/test-stream.XXXXXX";
	FILE *fp = open_memstream(&buf, len);
	int fd = mkstemp(path);

	write_all(fd, "hello", 5);
	lseek(fd, 0, SEEK_SET);
	sw_begin(&w, fp, SK_BUNDLE);
	sb = sw_rec(&w, R_MAILBOX);
	rec_word(sb, "user.fred");
	sb_adds(sb, " 0123456789abcdef0123456789abcdef 7 2 - 0 0");
	sw_rec_end(&w);
	sb = sw_rec(&w, R_ADD);
	rec_word(sb, "user.fred");
	sb_adds(sb, " 1 base 1700000000 5");
	rec_word(sb, "S");
	rec_word(sb, "$Forwarded");
	sw_rec_end(&w);
	sw_literal(&w, fd, 5, "test");
	sw_end(&w);
	sw_free(&w);
	fclose(fp);
	close(fd);
	unlink(path);
	return buf;
}

static int
read_all(const char *data, size_t len, unsigned long *records)
{
	FILE *fp = fmemopen((void *)data, len, "r");
	struct sreader r;
	struct record rec;
	int st, got;

	*records = 0;
	if ((st = sr_begin(&r, fp, "test", SK_BUNDLE)) != 0)
		goto out;
	while ((got = sr_next(&r, &rec)) == 1) {
		(*records)++;
		if (rec.type == R_ADD && (st = sr_literal(&r, 5, -1)) != 0)
			goto out;
	}
	st = got < 0 ? r.status : 0;
out:
	sr_free(&r);
	fclose(fp);
	return st;
}

static void
test_round_trip(void)
{
	size_t len;
	char *b = make_bundle(&len);
	unsigned long n;

	CHECK(strncmp(b, "%syncpipe bundle 1\n", 19) == 0, "bundle head");
	CHECK(strstr(b, "\nhello\n=") != NULL, "body inlined");
	CHECK_EQ(read_all(b, len, &n), 0, "bundle reads back");
	CHECK_EQ(n, 2, "two records");
	free(b);
}

static void
test_truncated(void)
{
	size_t len, cut;
	char *b = make_bundle(&len);
	unsigned long n;
	int bad = 0;

	for (cut = 0; cut < len; cut++)
		if (read_all(b, cut, &n) == 0)
			bad++;
	CHECK_EQ(bad, 0, "every truncation is refused");
	free(b);
}

static void
test_damaged(void)
{
	size_t len;
	char *b = make_bundle(&len), *p = strstr(b, "hello");
	unsigned long n;

	p[0] = 'j';
	CHECK_EQ(read_all(b, len, &n), EX_DATAERR, "changed body refused");
	free(b);
}

static void
test_version(void)
{
	const char *v2 = "%syncpipe bundle 2\n%end 0 x\n";
	const char *chg = "%syncpipe changes 1\n%end 0\n";
	unsigned long n;

	CHECK_EQ(read_all(v2, strlen(v2), &n), EX_PROTOCOL,
	    "newer version refused");
	CHECK_EQ(read_all(chg, strlen(chg), &n), EX_DATAERR,
	    "change list is not a bundle");
}

static void
test_numbers(void)
{
	uint32_t u;
	int64_t i;
	uint64_t v;

	CHECK(parse_u32("4294967295", &u) == 0 && u == 4294967295u, "u32 max");
	CHECK(parse_u32("4294967296", &u) != 0, "u32 overflow");
	CHECK(parse_u32("", &u) != 0, "empty");
	CHECK(parse_u32("12a", &u) != 0, "junk");
	CHECK(parse_i64("-5", &i) == 0 && i == -5, "negative");
	CHECK(parse_u64("18446744073709551616", &v) != 0, "u64 overflow");
}

int
main(void)
{
	sp_init("test-stream");
	sp_verbosity = 0;
	test_round_trip();
	test_truncated();
	test_damaged();
	test_version();
	test_numbers();
	return unit_done();
}
