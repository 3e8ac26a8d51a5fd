/* Unit tests of util: strings, string arrays, statuses, files. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"
#include "unit.h"

static void
test_strbuf(void)
{
	struct strbuf sb = STRBUF_INIT;
	char *s;
	int i;

	sb_adds(&sb, "abc");
	sb_addc(&sb, '-');
	sb_addf(&sb, "%d:%s", 42, "x");
	CHECK_STR(sb.s, "abc-42:x", "sb_adds, sb_addc and sb_addf append");
	CHECK_EQ(sb.len, 8, "strbuf length follows");
	for (i = 0; i < 1000; i++)
		sb_add(&sb, "0123456789", 10);
	CHECK_EQ(sb.len, 10008, "strbuf grows");
	CHECK_EQ(sb.s[sb.len], '\0', "strbuf stays terminated");
	sb_reset(&sb);
	CHECK_STR(sb.s, "", "sb_reset empties");
	sb_adds(&sb, "kept");
	s = sb_detach(&sb);
	CHECK_STR(s, "kept", "sb_detach hands the string over");
	CHECK(sb.s == NULL && sb.len == 0, "sb_detach leaves an empty strbuf");
	free(s);
	s = sb_detach(&sb);
	CHECK_STR(s, "", "sb_detach of an empty strbuf gives \"\"");
	free(s);
	s = xasprintf("%s/%05d", "dir", 7);
	CHECK_STR(s, "dir/00007", "xasprintf formats");
	free(s);
	s = xstrndup("abcdef", 3);
	CHECK_STR(s, "abc", "xstrndup stops at n");
	free(s);
}

static void
test_strvec(void)
{
	struct strvec sv = STRVEC_INIT;

	sv_push(&sv, "pear");
	sv_push(&sv, "apple");
	sv_push(&sv, "pear");
	sv_push_owned(&sv, xstrdup("fig"));
	sv_sort_uniq(&sv);
	CHECK_EQ(sv.n, 3, "sv_sort_uniq drops duplicates");
	CHECK_STR(sv.v[0], "apple", "sv_sort_uniq sorts");
	CHECK_STR(sv.v[2], "pear", "sv_sort_uniq keeps the last one");
	CHECK(sv_contains(&sv, "fig"), "sv_contains finds a member");
	CHECK(!sv_contains(&sv, "plum"), "sv_contains refuses a stranger");
	sv_free(&sv);
	CHECK(sv.n == 0 && sv.v == NULL, "sv_free empties");
	CHECK(!sv_contains(&sv, "x"), "sv_contains on an empty strvec");
}

static void
test_status(void)
{
	CHECK_EQ(sp_status_worst(0, 0), 0, "worst of successes is 0");
	CHECK_EQ(sp_status_worst(0, EX_TEMPFAIL), EX_TEMPFAIL,
	    "temporary beats success");
	CHECK_EQ(sp_status_worst(EX_DATAERR, EX_TEMPFAIL), EX_DATAERR,
	    "permanent beats temporary");
	CHECK_EQ(sp_status_worst(EX_IOERR, EX_NOPERM), EX_NOPERM,
	    "permanent beats temporary, second place");
	CHECK_EQ(sp_status_worst(EX_DATAERR, EX_NOPERM), EX_DATAERR,
	    "the first of two permanents is kept");
	CHECK_EQ(sp_status_worst(EX_TEMPFAIL, EX_IOERR), EX_TEMPFAIL,
	    "the first of two temporaries is kept");
	CHECK_EQ(sp_status_worst(SP_EX_DIFF, EX_IOERR), EX_IOERR,
	    "a failure beats a difference");
	CHECK_EQ(sp_errno_status(ENOSPC), EX_TEMPFAIL, "ENOSPC is temporary");
	CHECK_EQ(sp_errno_status(EACCES), EX_NOPERM, "EACCES is permanent");
	CHECK_EQ(sp_errno_status(ENOTDIR), EX_CANTCREAT, "a wrong kind of file cannot be created");
	CHECK_EQ(sp_errno_status(EBADF), EX_IOERR, "others are I/O errors");
}

static void
test_files(void)
{
	char dir[] = "/tmp/sp-unit-XXXXXX";
	struct strbuf sb = STRBUF_INIT;
	struct stat st;
	char *path, *deep, *stale;
	char buf[16];
	int fd;

	if (mkdtemp(dir) == NULL) {
		CHECK(0, "mkdtemp");
		return;
	}
	path = xasprintf("%s/file", dir);
	CHECK_EQ(write_file_atomic(path, "hello\n", 6, 0640), 0,
	    "write_file_atomic succeeds");
	CHECK_EQ(read_file(path, &sb), 0, "read_file reads it back");
	CHECK_STR(sb.s, "hello\n", "the content is intact");
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0640,
	    "the mode is as asked");
	CHECK_EQ(write_file_atomic(path, "bye", 3, 0600), 0,
	    "write_file_atomic replaces a file");
	fd = open(path, O_RDONLY);
	CHECK_EQ(read_full(fd, buf, sizeof(buf)), 3, "read_full stops at EOF");
	close(fd);
	stale = xasprintf("%s.tmp.%ld", path, (long)getpid());
	fd = open(stale, O_WRONLY | O_CREAT, 0600);
	close(fd);
	CHECK_EQ(write_file_atomic(path, "again", 5, 0600), 0,
	    "write_file_atomic gets past a stale temporary file");
	CHECK(access(stale, F_OK) < 0, "no temporary file is left");
	free(stale);
	sb_free(&sb);
	CHECK(read_file("/nonexistent/x", &sb) < 0 && errno == ENOENT,
	    "read_file of a missing file fails with ENOENT");
	deep = xasprintf("%s/a/b/c", dir);
	CHECK_EQ(mkdir_p(deep, 0755), 0, "mkdir_p makes a path");
	CHECK_EQ(mkdir_p(deep, 0755), 0, "mkdir_p of an existing path");
	CHECK(mkdir_p("", 0755) < 0, "mkdir_p of an empty path fails");
	CHECK_EQ(fsync_parent(deep), 0, "fsync_parent works");
	CHECK(mkdir_p(path, 0755) < 0 && errno == ENOTDIR,
	    "mkdir_p over a file fails with ENOTDIR");
	unlink(path);
	free(path);
	free(deep);
	path = xasprintf("rm -rf '%s'", dir);
	CHECK_EQ(system(path), 0, "clean up");
	free(path);
}

static void
test_misc(void)
{
	unsigned char bytes[] = { 0x00, 0x9f, 0xff };
	char hex[7];
	double a, b;

	hex_encode(bytes, sizeof(bytes), hex);
	CHECK_STR(hex, "009fff", "hex_encode is lowercase hex");
	a = now_mono();
	b = now_mono();
	CHECK(b >= a && a > 0, "now_mono does not go back");
	sp_init("/usr/local/bin/sync-diff");
	CHECK_STR(sp_progname, "sync-diff", "sp_init takes the base name");
}

int
main(void)
{
	test_strbuf();
	test_strvec();
	test_status();
	test_files();
	test_misc();
	return unit_done();
}
