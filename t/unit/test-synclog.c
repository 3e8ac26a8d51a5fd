/* Unit tests of synclog: entries, the reader, coalescing, the log files. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "synclog.h"
#include "unit.h"

/* The canonical form of a parsed line, or NULL (and *why). */
static char *
canon(const char *line, const char **why)
{
	struct strbuf sb = STRBUF_INIT;
	struct entry e;

	if (entry_parse(line, strlen(line), &e, why) == -1)
		return NULL;
	entry_format(&sb, &e);
	entry_free(&e);
	return sb_detach(&sb);
}

static void
check_canon(const char *in, const char *want, const char *name)
{
	const char *why = NULL;
	char	*got = canon(in, &why);

	CHECK_STR(got, want, name);
	free(got);
}

static void
check_refused(const char *in, const char *want_why, const char *name)
{
	const char *why = NULL;
	char	*got = canon(in, &why);

	CHECK(got == NULL, name);
	CHECK_STR(why, want_why, name);
	free(got);
}

static void
test_parse(void)
{
	CHECK_EQ(entry_type_lookup("mailbox"), E_MAILBOX,
	    "lookup ignores case");
	CHECK_EQ(entry_type_lookup("MAILBOXES"), -1, "lookup: unknown");
	CHECK_EQ(entry_type_nargs(E_RENAME), 2, "RENAME takes two");
	CHECK_STR(entry_type_name(E_DOUBLEMAILBOX), "DOUBLEMAILBOX", "name");
	check_canon("mailbox user.a", "MAILBOX user.a\n", "type upper-cased");
	check_canon("RENAME  \"a b\"\tc\r", "RENAME \"a b\" c\n",
	    "blanks and CR normalised");
	check_canon("ANNOTATION \"\"", "ANNOTATION \"\"\n", "empty argument");
	check_canon("MAILBOX \"user.alice.Paren(1)\"",
	    "MAILBOX \"user.alice.Paren(1)\"\n", "Cyrus quoting kept");
	check_canon("MAILBOX a{b}", "MAILBOX \"a\\{b\\}\"\n",
	    "bare braces read, written quoted");
	check_refused("MAILBOX", "missing argument", "missing argument");
	check_refused("MAILBOX a b", "too many arguments", "extra argument");
	check_refused("SEEN fred", "missing argument", "SEEN needs two");
	check_refused("FROB x", "unknown entry type", "unknown type");
	check_refused("", "empty line", "empty line");
}

/* Reads all of text; entries canonical in *out, returns the last rc. */
static int
read_all(const char *text, struct strbuf *out, int *status,
    struct entry_reader *r)
{
	struct entry e;
	FILE	*fp = fmemopen((void *)text, strlen(text), "r");
	int	 rc;

	entry_reader_init(r, fp, "test");
	while ((rc = entry_reader_next(r, &e, status)) == 1) {
		entry_format(out, &e);
		entry_free(&e);
	}
	entry_reader_free(r);
	fclose(fp);
	return rc;
}

static void
test_reader(void)
{
	struct strbuf out = STRBUF_INIT;
	struct entry_reader r;
	int	 st, rc;

	rc = read_all("USER a\n\nbad line here\nSUB a b\nMAILBOX x", &out,
	    &st, &r);
	CHECK_EQ(rc, 0, "plain: end of input");
	CHECK_STR(out.s, "USER a\nSUB a b\nMAILBOX x\n", "plain: entries");
	CHECK_EQ(r.bad_lines, 1, "plain: bad line counted");
	CHECK_EQ(r.lineno, 5, "plain: lines counted");
	CHECK(!r.framed, "plain: not framed");

	sb_reset(&out);
	rc = read_all("%syncpipe applied 1\nUSER a\nUSER b\n%end 2\n", &out,
	    &st, &r);
	CHECK(rc == 0 && r.framed && r.ended, "framed: tail read");
	CHECK_STR(out.s, "USER a\nUSER b\n", "framed: entries");

	rc = read_all("%syncpipe applied 1.3\nUSER a\n", &out, &st, &r);
	CHECK(rc == 0 && r.framed && !r.ended, "framed: missing tail seen");

	rc = read_all("%syncpipe applied 1\nUSER a\n%end 3\n", &out, &st, &r);
	CHECK(rc == -1 && st == EX_DATAERR, "framed: wrong count is 65");
	rc = read_all("%syncpipe applied 2\nUSER a\n", &out, &st, &r);
	CHECK(rc == -1 && st == EX_PROTOCOL, "framed: newer major is 76");
	rc = read_all("%syncpipe applied x\n", &out, &st, &r);
	CHECK(rc == -1 && st == EX_DATAERR, "framed: bad version is 65");
	rc = read_all("%syncpipe bundle 1\n", &out, &st, &r);
	CHECK(rc == -1 && st == EX_DATAERR, "another stream's head is 65");
	rc = read_all("%end 0\n", &out, &st, &r);
	CHECK(rc == -1 && st == EX_DATAERR, "tail without head is 65");
	rc = read_all("%syncpipe applied 1\n%end 0\nUSER a\n", &out, &st, &r);
	CHECK(rc == -1 && st == EX_DATAERR, "entry after the tail is 65");
	rc = read_all("%syncpipe applied 1\nFOO\n%end 1\n", &out, &st, &r);
	CHECK(rc == 0 && r.ended && r.bad_lines == 1,
	    "a bad line in a frame counts towards %end");
	sb_free(&out);
}

/* Coalesces the lines of text. */
static char *
coalesce(const char *text, size_t *n)
{
	struct strbuf in = STRBUF_INIT, out = STRBUF_INIT;
	struct coalescer *c = coalescer_new();
	struct entry_reader r;
	struct entry e;
	FILE	*fp = fmemopen((void *)text, strlen(text), "r");
	int	 st;

	entry_reader_init(&r, fp, "test");
	while (entry_reader_next(&r, &e, &st) == 1) {
		coalescer_add(c, &e);
		entry_free(&e);
	}
	*n = coalescer_emit(c, &out);
	coalescer_free(c);
	entry_reader_free(&r);
	fclose(fp);
	sb_free(&in);
	return sb_detach(&out);
}

static void
check_coalesce(const char *in, const char *want, const char *name)
{
	size_t	 n;
	char	*got = coalesce(in, &n);

	CHECK_STR(got, want, name);
	free(got);
}

static void
test_coalesce(void)
{
	struct strbuf big = STRBUF_INIT;
	size_t	 n;
	char	*got;
	int	 i;

	check_coalesce("MAILBOX user.a\nMAILBOX user.a\nmailbox user.a\n",
	    "MAILBOX user.a\n", "duplicates collapse");
	check_coalesce("SUB a user.b\nMETA a\nUSER a\nSEEN a x\n"
	    "MAILBOX user.a\n",
	    "USER a\nMAILBOX user.a\n", "USER subsumes META SEEN SUB");
	check_coalesce("MAILBOX user.a.X\nUSER a\nSUB a user.a\nUNUSER a\n",
	    "UNUSER a\n", "UNUSER subsumes everything of the user");
	check_coalesce("MAILBOX user.a\nUNUSER a\nUSER a\nMAILBOX user.a\n",
	    "UNUSER a\nUSER a\nMAILBOX user.a\n",
	    "a user made again after UNUSER is kept, in order");
	check_coalesce("MAILBOX user.a\nMAILBOX user.b\nMAILBOX user.a.X\n"
	    "MAILBOX user.b.Y\n",
	    "MAILBOX user.a\nMAILBOX user.a.X\nMAILBOX user.b\n"
	    "MAILBOX user.b.Y\n", "mailboxes grouped by owner");
	check_coalesce("MAILBOX ex.org!user.j^d\nUNUSER j.d@ex.org\n",
	    "UNUSER j.d@ex.org\n", "owner of a domain mailbox with ^");
	check_coalesce("RENAME user.a user.b\nUNUSER a\n",
	    "RENAME user.a user.b\nUNUSER a\n",
	    "a rename to another user survives UNUSER");
	check_coalesce("APPEND user.a\nMAILBOX user.b\nMAILBOX user.a\n"
	    "APPEND user.a\n", "MAILBOX user.a\nMAILBOX user.b\n",
	    "APPEND counts as MAILBOX");

	for (i = 0; i < 20000; i++)
		sb_addf(&big, "MAILBOX user.u%d\nMAILBOX user.u%d\n", i % 5000,
		    i % 5000);
	got = coalesce(big.s, &n);
	CHECK_EQ(n, 5000, "many duplicates: one line per object");
	free(got);
	sb_free(&big);
}

static void
test_files(void)
{
	struct strbuf data = STRBUF_INIT;
	char	 dir[] = "/tmp/test-synclog.XXXXXX", *log, *run;
	int	 st, leftover;

	if (mkdtemp(dir) == NULL) {
		CHECK(0, "mkdtemp");
		return;
	}
	log = xasprintf("%s/log", dir);
	st = synclog_take(log, &data, &run, &leftover);
	CHECK(st == 0 && run == NULL, "take: nothing to do");
	CHECK_EQ(synclog_append(log, "USER a\n", 7), 0, "append creates");
	CHECK_EQ(synclog_append(log, "USER b\n", 7), 0, "append appends");
	st = synclog_take(log, &data, &run, &leftover);
	CHECK(st == 0 && run != NULL && !leftover, "take renames");
	CHECK_STR(data.s, "USER a\nUSER b\n", "take reads it all");
	CHECK(access(log, F_OK) == -1 && errno == ENOENT, "LOG gone");
	CHECK_EQ(synclog_append(log, "USER c\n", 7), 0, "append after take");
	free(run);
	st = synclog_take(log, &data, &run, &leftover);
	CHECK(st == 0 && run != NULL && leftover, "leftover taken first");
	CHECK_STR(data.s, "USER a\nUSER b\n", "leftover content");
	CHECK_EQ(synclog_done(run), 0, "done unlinks");
	free(run);
	st = synclog_take(log, &data, &run, &leftover);
	CHECK_STR(data.s, "USER c\n", "then the new log");
	synclog_done(run);
	free(run);
	rmdir(dir);
	free(log);
	sb_free(&data);
}

int
main(void)
{
	test_parse();
	test_reader();
	test_coalesce();
	test_files();
	return unit_done();
}
