/*
 * test-store: the Maildir store in a temporary directory: transactions,
 * the uidlist and keywords files, UID assignment, locks, subscriptions,
 * Sieve, deletion and symlinks that lead out of the store.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store-int.h"
#include "unit.h"

#define GUID	"0123456789abcdef0123456789abcdef"
#define GUID2	"fedcba9876543210fedcba9876543210"

static char root[256];

static void
put(const char *rel, const char *text)
{
	char *path = xasprintf("%s/%s", root, rel);
	FILE *f = fopen(path, "w");

	if (f == NULL) {
		perror(path);
		exit(2);
	}
	fputs(text, f);
	fclose(f);
	free(path);
}

static char *
get(const char *rel)
{
	struct strbuf sb = STRBUF_INIT;
	char *path = xasprintf("%s/%s", root, rel);

	if (read_file(path, &sb) < 0) {
		free(path);
		return NULL;
	}
	free(path);
	return sb_detach(&sb);
}

static int
exists(const char *rel)
{
	struct stat sb;
	char *path = xasprintf("%s/%s", root, rel);
	int r = lstat(path, &sb) == 0;

	free(path);
	return r;
}

static void
mkdirs(const char *rel)
{
	char *path = xasprintf("%s/%s", root, rel);

	mkdir_p(path, 0700);
	free(path);
}

static char *
stage(struct store *st, const char *name, const char *text)
{
	const char *dir;
	char *path;
	FILE *f;

	if (store_stage_dir(st, &dir) != 0)
		return NULL;
	path = xasprintf("%s/%s", dir, name);
	f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
	return path;
}

static void
check_file(const char *rel, const char *want, const char *name)
{
	char *s = get(rel);

	CHECK_STR(s, want, name);
	free(s);
}

static int
add(struct store *st, struct mbtx *tx, uint32_t uid, const char *base,
    const char *flags, const char *kw1, const char *kw2, int64_t mtime)
{
	static int seq;
	struct strvec kw = STRVEC_INIT;
	char name[32], *staged;
	int r;

	snprintf(name, sizeof(name), "body%d", ++seq);
	staged = stage(st, name, "Subject: test\n\nbody\n");

	if (kw1 != NULL)
		sv_push(&kw, kw1);
	if (kw2 != NULL)
		sv_push(&kw, kw2);
	r = mbtx_add(tx, uid, base, flags, &kw, mtime, staged);
	sv_free(&kw);
	free(staged);
	return r;
}

static void
test_absent(void)
{
	struct store st;
	struct mailbox mb;
	struct strvec users = STRVEC_INIT;

	CHECK_EQ(store_open(&st, "/dev/null", 0), 0, "open /dev/null");
	CHECK(st.absent && st.readonly, "/dev/null is an absent store");
	CHECK_EQ(store_list_users(&st, &users), 0, "no users");
	CHECK_EQ(users.n, 0, "no users listed");
	CHECK_EQ(store_read_mailbox(&st, "user.fred", &mb, 1), 0,
	    "read a mailbox of an absent store");
	CHECK(!mb.exists, "it does not exist");
	mailbox_free(&mb);
	store_close(&st);
}

static void
test_create_and_add(void)
{
	struct store st;
	struct mbtx *tx;
	char hidden[128];

	CHECK_EQ(store_open(&st, root, STORE_CREATE), 0, "open the store");
	CHECK_EQ(mbtx_begin(&st, "user.fred", &tx), 0, "begin on INBOX");
	CHECK(!mbtx_mailbox(tx)->exists, "INBOX is not there yet");
	CHECK_EQ(mbtx_create(tx, GUID, 1234, 1), 0, "create INBOX");
	CHECK_EQ(add(&st, tx, 1, "1000.M1P1.host", "S", "$Label1", NULL,
	    1000000000), 0, "add uid 1");
	CHECK_EQ(add(&st, tx, 2, "1001.M1P1.host", "", NULL, NULL,
	    1000000001), 0, "add uid 2");
	CHECK_EQ(add(&st, tx, 5, "1002.M1P1.host", "SF", "work", "$label1",
	    1000000002), 0, "add uid 5, a keyword in another case");
	CHECK_EQ(add(&st, tx, 2, "other", "", NULL, NULL, 1), EX_TEMPFAIL,
	    "a UID holding another message is refused");
	CHECK_EQ(add(&st, tx, 7, "a/b", "", NULL, NULL, 1), EX_DATAERR,
	    "a base name with a slash is refused");
	CHECK_EQ(add(&st, tx, 7, "x", "Q", NULL, NULL, 1), EX_DATAERR,
	    "an unknown flag is refused");
	snprintf(hidden, sizeof(hidden),
	    "fred/Maildir.syncpipe.%ld/dovecot-uidlist.lock", (long)getpid());
	CHECK(exists(hidden), "lock held, in the new INBOX built hidden");
	CHECK(!exists("fred/Maildir"), "the new INBOX is not visible yet");
	CHECK_EQ(mbtx_commit(tx), 0, "commit");
	CHECK(exists("fred/Maildir/cur"), "the new INBOX is in place");
	CHECK(!exists("fred/Maildir/dovecot-uidlist.lock"), "lock released");
	store_close(&st);
}

static void
test_read_back(void)
{
	struct store st;
	struct mailbox mb;
	const struct msg *m;
	struct stat sb;
	char *path;

	store_open(&st, root, 0);

	check_file("fred/Maildir/dovecot-uidlist",
	    "3 V1234 N6 G" GUID "\n1 :1000.M1P1.host\n2 :1001.M1P1.host\n"
	    "5 :1002.M1P1.host\n", "uidlist written");
	check_file("fred/Maildir/dovecot-keywords", "0 $Label1\n1 work\n",
	    "keywords written");
	CHECK(exists("fred/Maildir/cur/1000.M1P1.host:2,Sa"), "file of uid 1");
	CHECK(exists("fred/Maildir/cur/1001.M1P1.host:2,"), "file of uid 2");
	CHECK(exists("fred/Maildir/cur/1002.M1P1.host:2,FSab"),
	    "file of uid 5");
	CHECK(exists("fred/Maildir/new") && exists("fred/Maildir/tmp"),
	    "new/ and tmp/ made");
	path = xasprintf("%s/fred/Maildir/cur/1000.M1P1.host:2,Sa", root);
	CHECK(stat(path, &sb) == 0 && sb.st_mtime == 1000000000,
	    "mtime of the body set");
	free(path);

	CHECK_EQ(store_read_mailbox(&st, "user.fred", &mb, 0), 0, "read");
	CHECK(mb.exists, "INBOX exists");
	CHECK_STR(mb.guid, GUID, "guid");
	CHECK_EQ(mb.uidvalidity, 1234, "uidvalidity");
	CHECK_EQ(mb.uidnext, 6, "uidnext");
	CHECK_EQ(mb.nmsgs, 3, "three messages");
	m = mailbox_find_uid(&mb, 5);
	CHECK(m != NULL, "uid 5 found");
	if (m != NULL) {
		CHECK_STR(m->base, "1002.M1P1.host", "base of uid 5");
		CHECK_STR(m->flags, "FS", "flags of uid 5");
		CHECK_EQ(m->keywords.n, 2, "two keywords");
		if (m->keywords.n == 2) {
			CHECK_STR(m->keywords.v[0], "$Label1", "keyword 1");
			CHECK_STR(m->keywords.v[1], "work", "keyword 2");
		}
		CHECK_EQ(m->mtime, 1000000002, "mtime");
		CHECK_EQ(m->size, 20, "size");
	}
	CHECK(mailbox_find_uid(&mb, 3) == NULL, "no uid 3");
	mailbox_free(&mb);
	store_close(&st);
}

static void
test_flags_expunge(void)
{
	struct store st;
	struct mbtx *tx;
	struct mailbox mb;
	struct strvec kw = STRVEC_INIT;
	const struct msg *m;

	store_open(&st, root, 0);
	CHECK_EQ(mbtx_begin(&st, "user.fred", &tx), 0, "begin again");
	sv_push(&kw, "urgent");
	CHECK_EQ(mbtx_set_flags(tx, 2, "SR", &kw), 0, "set flags of uid 2");
	CHECK_EQ(mbtx_expunge(tx, 1), 0, "expunge uid 1");
	CHECK_EQ(mbtx_expunge(tx, 1), 0, "expunge uid 1 again");
	CHECK_EQ(mbtx_set_flags(tx, 1, "S", NULL), EX_TEMPFAIL,
	    "flags of an expunged message");
	CHECK_EQ(mbtx_mailbox(tx)->nmsgs, 2, "two left in the transaction");
	mbtx_set_uidnext(tx, 10);
	CHECK_EQ(mbtx_commit(tx), 0, "commit");
	sv_free(&kw);

	CHECK(exists("fred/Maildir/cur/1001.M1P1.host:2,RSc"),
	    "renamed with new flags");
	CHECK(!exists("fred/Maildir/cur/1000.M1P1.host:2,Sa"), "unlinked");
	check_file("fred/Maildir/dovecot-keywords",
	    "0 $Label1\n1 work\n2 urgent\n", "new keyword appended");
	store_read_mailbox(&st, "user.fred", &mb, 0);
	CHECK_EQ(mb.nmsgs, 2, "two messages");
	CHECK_EQ(mb.uidnext, 10, "uidnext raised");
	m = mailbox_find_uid(&mb, 2);
	CHECK(m != NULL && strcmp(m->flags, "RS") == 0, "flags read back");
	CHECK(m != NULL && m->keywords.n == 1 &&
	    strcmp(m->keywords.v[0], "urgent") == 0, "keyword read back");
	mailbox_free(&mb);
	store_close(&st);
}

static void
test_assign_order(void)
{
	static const char *const order[] = {
		"999.x", "1100.M9P1.h", "1100.M9P2.h", "1100.M10P1.h",
		"1200.M5P1.h"
	};
	struct store st;
	struct mailbox mb;
	const struct msg *m;
	char *ul;
	size_t i;

	put("fred/Maildir/new/1100.M10P1.h", "a\n");
	put("fred/Maildir/cur/1100.M9P2.h:2,S", "b\n");
	put("fred/Maildir/new/1200.M5P1.h", "c\n");
	put("fred/Maildir/cur/1100.M9P1.h:2,", "d\n");
	put("fred/Maildir/cur/999.x:2,T", "e\n");
	put("fred/Maildir/cur/.hidden", "f\n");
	store_open(&st, root, STORE_RDONLY);
	store_read_mailbox(&st, "user.fred", &mb, 1);
	CHECK_EQ(mb.nmsgs, 7, "read-only: unlisted messages seen");
	CHECK(mb.msgs[6].uid == 0 && mb.msgs[2].uid == 0,
	    "read-only: no UIDs given");
	mailbox_free(&mb);
	store_close(&st);

	store_open(&st, root, 0);
	CHECK_EQ(store_read_mailbox(&st, "user.fred", &mb, 1), 0,
	    "read with UID assignment");
	CHECK_EQ(mb.nmsgs, 7, "seven messages");
	for (i = 0; i < 5; i++) {
		m = mailbox_find_uid(&mb, 10 + i);
		if (!CHECK(m != NULL, "new UID given"))
			continue;
		CHECK_STR(m->base, order[i], "in Dovecot's order");
	}
	CHECK_EQ(mb.uidnext, 15, "next UID after the new ones");
	mailbox_free(&mb);
	ul = get("fred/Maildir/dovecot-uidlist");
	CHECK(ul != NULL && strstr(ul, "N15 ") != NULL &&
	    strstr(ul, "\n10 :999.x\n11 :1100.M9P1.h\n") != NULL &&
	    strstr(ul, "\n14 :1200.M5P1.h\n") != NULL, "uidlist rewritten");
	free(ul);
	store_close(&st);
}

static void
test_uidlist_roundtrip(void)
{
	struct store st;
	struct mbtx *tx;
	struct mailbox mb;
	const struct msg *m;
	char *ul;

	mkdirs("fred/Maildir/.Lists/cur");
	mkdirs("fred/Maildir/.Lists/new");
	put("fred/Maildir/.Lists/dovecot-uidlist",
	    "3 V77 N3 G" GUID2 " Xfoo\n"
	    "4 W120 :50.M1P1.h:2,S\n"
	    "9 :51.M1P1.h\n"
	    "12 S99 :gone.M1P1.h\n"
	    "13 :partial");
	put("fred/Maildir/.Lists/cur/50.M1P1.h:2,S", "x\n");
	put("fred/Maildir/.Lists/new/51.M1P1.h", "y\n");
	store_open(&st, root, 0);
	CHECK_EQ(store_read_mailbox(&st, "user.fred.Lists", &mb, 1), 0,
	    "read a hand-written uidlist");
	CHECK_EQ(mb.uidnext, 13, "next UID from the last line");
	CHECK_EQ(mb.uidvalidity, 77, "uidvalidity");
	CHECK_STR(mb.guid, GUID2, "guid");
	m = mailbox_find_uid(&mb, 9);
	CHECK(m != NULL && strcmp(m->file, "new/51.M1P1.h") == 0,
	    "a message in new/");
	CHECK_EQ(mb.nmsgs, 2, "the record without a file is no message");
	mailbox_free(&mb);

	CHECK_EQ(mbtx_begin(&st, "user.fred.Lists", &tx), 0, "begin");
	CHECK_EQ(mbtx_set_flags(tx, 9, "S", NULL), 0, "flags for new/");
	mbtx_set_uidnext(tx, 14);
	CHECK_EQ(mbtx_commit(tx), 0, "commit");
	check_file("fred/Maildir/.Lists/dovecot-uidlist",
	    "3 V77 N14 G" GUID2 " Xfoo\n4 W120 :50.M1P1.h\n9 :51.M1P1.h\n"
	    "12 S99 :gone.M1P1.h\n", "fields and records kept");
	CHECK(exists("fred/Maildir/.Lists/cur/51.M1P1.h:2,S"),
	    "moved from new/ to cur/");
	ul = get("fred/Maildir/.Lists/dovecot-keywords");
	CHECK(ul == NULL, "no keywords file when none is used");
	free(ul);

	put("fred/Maildir/.Lists/dovecot-uidlist", "3 V77 N3 Gzz\n1 :a\n");
	CHECK_EQ(store_read_mailbox(&st, "user.fred.Lists", &mb, 0),
	    EX_DATAERR, "a bad GUID is malformed");
	mailbox_free(&mb);
	put("fred/Maildir/.Lists/dovecot-uidlist",
	    "3 V77 N3 G" GUID2 "\n5 :a\n4 :b\n");
	CHECK_EQ(store_read_mailbox(&st, "user.fred.Lists", &mb, 0),
	    EX_DATAERR, "UIDs out of order are malformed");
	mailbox_free(&mb);
	put("fred/Maildir/.Lists/dovecot-uidlist",
	    "3 V77 N3 G" GUID2 "\n4 W120 :50.M1P1.h\n9 :51.M1P1.h\n");
	store_close(&st);
}

static void
test_locks(void)
{
	struct store st;
	struct mailbox mb;
	char host[256], *s;
	pid_t pid;

	store_lock_timeout = 1;
	gethostname(host, sizeof(host));
	s = xasprintf("%ld:%s", (long)getppid(), host);
	put("fred/Maildir/dovecot-uidlist.lock", s);
	free(s);
	store_open(&st, root, 0);
	CHECK_EQ(store_read_mailbox(&st, "user.fred", &mb, 1), EX_TEMPFAIL,
	    "busy lock: temporary failure");
	mailbox_free(&mb);
	store_close(&st);

	store_open(&st, root, STORE_RDONLY);
	CHECK_EQ(store_read_mailbox(&st, "user.fred", &mb, 0), 0,
	    "read-only takes no lock");
	mailbox_free(&mb);
	store_close(&st);

	if ((pid = fork()) == 0)
		_exit(0);
	waitpid(pid, NULL, 0);
	s = xasprintf("%s/fred/Maildir/dovecot-uidlist.lock", root);
	put("fred/Maildir/dovecot-uidlist.lock", "");
	{
		FILE *f = fopen(s, "w");

		fprintf(f, "%ld:%s", (long)pid, host);
		fclose(f);
	}
	{
		struct timespec ts[2] = { { 0, UTIME_OMIT }, { 1000, 0 } };

		utimensat(AT_FDCWD, s, ts, 0);
	}
	free(s);
	store_open(&st, root, 0);
	CHECK_EQ(store_read_mailbox(&st, "user.fred", &mb, 1), 0,
	    "a dead holder's lock is overridden");
	CHECK(!exists("fred/Maildir/dovecot-uidlist.lock"), "and removed");
	mailbox_free(&mb);
	store_close(&st);
	store_lock_timeout = 122;
}

static void
test_adopt(void)
{
	struct store st;
	struct mbtx *tx;
	char *staged;
	const struct msg *m;

	put("fred/Maildir/cur/2000.M1P1.h:2,S", "left by a crash\n");
	store_open(&st, root, 0);
	CHECK_EQ(mbtx_begin(&st, "user.fred", &tx), 0, "begin");
	staged = stage(&st, "2000.M1P1.h", "left by a crash\n");
	CHECK_EQ(mbtx_add(tx, 20, "2000.M1P1.h", "SF", NULL, 5, staged), 0,
	    "a leftover file is adopted");
	m = mailbox_find_uid(mbtx_mailbox(tx), 20);
	CHECK(m != NULL && strcmp(m->file, "cur/2000.M1P1.h:2,FS") == 0,
	    "with the flags asked for");
	CHECK_EQ(mbtx_add(tx, 20, "2000.M1P1.h", "SF", NULL, 5, staged), 0,
	    "adding the same message twice is fine");
	CHECK_EQ(mbtx_add(tx, 21, "2000.M1P1.h", "S", NULL, 5, staged),
	    EX_TEMPFAIL, "but not under another UID");
	free(staged);
	CHECK_EQ(mbtx_commit(tx), 0, "commit");
	store_unstage(&st);
	store_close(&st);
}

static void
test_open_msg(void)
{
	struct store st;
	struct msg found;
	char *a, *b;
	int fd;

	store_open(&st, root, STORE_RDONLY);
	memset(&found, 0, sizeof(found));
	CHECK_EQ(store_open_msg(&st, "user.fred", "1002.M1P1.host", &fd,
	    &found), 0, "open a message by base");
	CHECK_STR(found.flags, "FS", "its flags");
	close(fd);
	free(found.base);
	free(found.file);
	sv_free(&found.keywords);
	a = xasprintf("%s/fred/Maildir/cur/1002.M1P1.host:2,FSab", root);
	b = xasprintf("%s/fred/Maildir/cur/1002.M1P1.host:2,T", root);
	rename(a, b);
	CHECK_EQ(store_open_msg(&st, "user.fred", "1002.M1P1.host", &fd,
	    NULL), 0, "found again after a rename");
	close(fd);
	rename(b, a);
	free(a);
	free(b);
	CHECK_EQ(store_open_msg(&st, "user.fred", "nothere", &fd, NULL),
	    EX_NOINPUT, "a missing message");
	store_close(&st);
}

static void
test_subs(void)
{
	struct store st;
	struct strvec subs = STRVEC_INIT, back = STRVEC_INIT;

	store_open(&st, root, 0);
	sv_push(&subs, "INBOX");
	sv_push(&subs, "Work.Projects");
	CHECK_EQ(store_write_subs(&st, "fred", &subs), 0, "write subs");
	check_file("fred/Maildir/subscriptions",
	    "V\t2\n\nINBOX\nWork\tProjects\n", "version 2 for a new file");
	CHECK_EQ(store_read_subs(&st, "fred", &back), 0, "read subs");
	CHECK(back.n == 2 && strcmp(back.v[1], "Work.Projects") == 0,
	    "read back");
	sv_free(&back);

	put("fred/Maildir/subscriptions", "V\t2\n\nINBOX\nA\tB\nC\001tD\n");
	CHECK_EQ(store_read_subs(&st, "fred", &back), 0, "read version 2");
	CHECK(back.n == 3 && strcmp(back.v[1], "A.B") == 0 &&
	    strcmp(back.v[2], "C\tD") == 0, "levels joined, file order");
	CHECK_EQ(store_write_subs(&st, "fred", &back), 0, "write version 2");
	check_file("fred/Maildir/subscriptions",
	    "V\t2\n\nINBOX\nA\tB\nC\001tD\n", "version 2 kept");
	sv_free(&back);
	put("fred/Maildir/subscriptions", "INBOX\nX.Y\n");
	sv_push(&subs, "Z");
	CHECK_EQ(store_write_subs(&st, "fred", &subs), 0, "write version 1");
	check_file("fred/Maildir/subscriptions",
	    "INBOX\nWork.Projects\nZ\n", "version 1 kept");
	sv_free(&subs);
	CHECK_EQ(store_read_subs(&st, "nobody", &back), 0, "no such user");
	CHECK_EQ(back.n, 0, "no subscriptions");
	store_close(&st);
}

static void
test_sieve(void)
{
	struct store st;
	struct sieve_script *s;
	size_t n;
	char *active, *staged, *path, buf[64];
	ssize_t len;

	store_open(&st, root, 0);
	staged = stage(&st, "main", "keep;\n");
	CHECK_EQ(store_put_sieve(&st, "fred", "main", staged, 12345), 0,
	    "put a script");
	free(staged);
	put("fred/sieve/main.svbin", "bytecode");
	put("fred/.dovecot.svbin", "bytecode");
	CHECK_EQ(store_set_active_sieve(&st, "fred", "main"), 0, "activate");
	path = xasprintf("%s/fred/.dovecot.sieve", root);
	len = readlink(path, buf, sizeof(buf) - 1);
	buf[len > 0 ? len : 0] = '\0';
	CHECK_STR(buf, "sieve/main.sieve", "relative link");
	CHECK(!exists("fred/.dovecot.svbin"), "active bytecode removed");
	CHECK_EQ(store_read_sieve(&st, "fred", &s, &n, &active), 0, "read");
	CHECK(n == 1 && strcmp(s[0].name, "main") == 0 &&
	    s[0].mtime == 12345 && s[0].size == 6, "script listed");
	CHECK_STR(active, "main", "active script");
	sieve_scripts_free(s, n);
	free(active);
	staged = stage(&st, "main", "discard;\n");
	CHECK_EQ(store_put_sieve(&st, "fred", "main", staged, 12346), 0,
	    "replace the script");
	free(staged);
	CHECK(!exists("fred/sieve/main.svbin"), "its bytecode removed");
	CHECK_EQ(store_put_sieve(&st, "fred", "../x", "/nonexistent", 1),
	    EX_NOPERM, "bad script name");
	CHECK_EQ(store_set_active_sieve(&st, "fred", NULL), 0, "deactivate");
	CHECK(!exists("fred/.dovecot.sieve"), "link removed");

	symlink("/etc/passwd", path);
	free(path);
	CHECK_EQ(store_read_sieve(&st, "fred", &s, &n, &active), 0, "read");
	CHECK(active == NULL, "a link out of the sieve dir is no script");
	sieve_scripts_free(s, n);
	CHECK_EQ(store_delete_sieve(&st, "fred", "main"), 0, "delete");
	CHECK(!exists("fred/sieve/main.sieve"), "script gone");
	store_unstage(&st);
	store_close(&st);
}

static void
test_symlinks(void)
{
	struct store st;
	struct mailbox mb;
	struct mbtx *tx;
	char *out, *link, *target;

	out = xasprintf("%s-outside", root);
	link = xasprintf("%s/Maildir/cur", out);
	mkdir_p(link, 0700);
	free(link);
	link = xasprintf("%s/evil", root);
	symlink(out, link);
	free(link);
	link = xasprintf("%s/fred/Maildir/.Sent", root);
	target = xasprintf("%s/Maildir", out);
	symlink(target, link);
	free(target);
	free(link);
	link = xasprintf("%s/fred/Maildir/cur/3000.M1P1.h:2,S", root);
	symlink("/etc/passwd", link);
	free(link);
	free(out);

	store_open(&st, root, 0);
	CHECK_EQ(store_read_mailbox(&st, "user.evil", &mb, 0), EX_NOPERM,
	    "a home that is a symlink is refused");
	mailbox_free(&mb);
	CHECK_EQ(store_read_mailbox(&st, "user.fred.Sent", &mb, 0),
	    EX_NOPERM, "a folder that is a symlink is refused");
	mailbox_free(&mb);
	CHECK_EQ(mbtx_begin(&st, "user.fred.Sent", &tx), EX_NOPERM,
	    "no transaction through a symlink");
	CHECK_EQ(store_read_mailbox(&st, "user.fred", &mb, 0), 0, "INBOX");
	CHECK(mailbox_find_uid(&mb, 1) == NULL || 1, "read");
	{
		size_t i;
		int seen = 0;

		for (i = 0; i < mb.nmsgs; i++)
			seen |= strcmp(mb.msgs[i].base, "3000.M1P1.h") == 0;
		CHECK(!seen, "a message that is a symlink is skipped");
	}
	mailbox_free(&mb);
	CHECK_EQ(store_read_mailbox(&st, "user.fred.a/b", &mb, 0), EX_NOPERM,
	    "an unsafe name is refused");
	mailbox_free(&mb);
	link = xasprintf("%s/fred/Maildir/.Sent", root);
	unlink(link);
	free(link);
	store_close(&st);
}

static void
test_lists(void)
{
	struct store st;
	struct strvec v = STRVEC_INIT;

	mkdirs("john.doe/Maildir/cur");
	mkdirs("example.com/bob/sieve");
	mkdirs("example.com/.hidden/Maildir");
	mkdirs(".syncpipe/x/Maildir");
	mkdirs("fred/Maildir/.Empty");
	store_open(&st, root, STORE_RDONLY);
	CHECK_EQ(store_list_users(&st, &v), 0, "list users");
	CHECK(v.n == 3 && strcmp(v.v[0], "bob@example.com") == 0 &&
	    strcmp(v.v[1], "fred") == 0 && strcmp(v.v[2], "john.doe") == 0,
	    "users, with a domain, not the dot names");
	sv_free(&v);
	CHECK(store_user_exists(&st, "bob@example.com"), "bob exists");
	CHECK(!store_user_exists(&st, "nobody"), "nobody does not");
	CHECK_EQ(store_list_mailboxes(&st, "fred", &v), 0, "list mailboxes");
	CHECK(v.n == 2 && strcmp(v.v[0], "user.fred") == 0 &&
	    strcmp(v.v[1], "user.fred.Lists") == 0,
	    "INBOX first, folders with cur/ only");
	sv_free(&v);
	store_close(&st);
}

static void
test_delete_replace(void)
{
	struct store st;
	struct mbtx *tx;
	struct mailbox mb;

	store_open(&st, root, 0);
	CHECK_EQ(store_delete_mailbox(&st, "user.fred.Lists", GUID, 77, 0),
	    EX_TEMPFAIL, "delete with another GUID is refused");
	CHECK(exists("fred/Maildir/.Lists/cur"), "still there");
	CHECK_EQ(mbtx_begin(&st, "user.fred.Lists", &tx), 0, "begin");
	CHECK_EQ(mbtx_replace(tx, GUID, 78, 5), 0, "replace");
	CHECK_EQ(mbtx_mailbox(tx)->nmsgs, 0, "empty afresh");
	CHECK_EQ(add(&st, tx, 5, "60.M1P1.h", "", NULL, NULL, 1), 0, "add");
	CHECK_EQ(mbtx_commit(tx), 0, "commit");
	CHECK(exists(".syncpipe/attic/fred"), "old one in the attic");
	store_read_mailbox(&st, "user.fred.Lists", &mb, 0);
	CHECK(mb.uidvalidity == 78 && mb.nmsgs == 1 && mb.uidnext == 6,
	    "new identity");
	mailbox_free(&mb);
	CHECK_EQ(store_delete_mailbox(&st, "user.fred.Lists", GUID, 78, 0), 0,
	    "delete");
	CHECK(!exists("fred/Maildir/.Lists"), "gone");
	CHECK_EQ(store_delete_mailbox(&st, "user.fred.Lists", GUID, 78, 0), 0,
	    "deleting it again is fine");
	mkdirs("fred/Maildir/.Keep/cur");
	CHECK_EQ(store_delete_mailbox(&st, "user.fred", GUID, 1234, 1), 0,
	    "delete INBOX, keeping it");
	CHECK(!exists("fred/Maildir/cur") && exists("fred/Maildir/.Keep/cur"),
	    "INBOX gone, folders stay");
	CHECK_EQ(store_delete_user(&st, "fred"), 0, "delete the user");
	CHECK(!exists("fred"), "home gone");
	store_close(&st);
}

static void
test_domain(void)
{
	struct store st;
	struct mbtx *tx;
	struct strvec v = STRVEC_INIT;

	store_open(&st, root, 0);
	CHECK_EQ(mbtx_begin(&st, "example.com!user.alice.Sent", &tx), 0,
	    "begin on a folder of a user with a domain");
	CHECK_EQ(mbtx_create(tx, GUID, 9, 1), 0, "create it");
	CHECK_EQ(mbtx_create(tx, "xyz", 9, 1), EX_DATAERR, "bad GUID");
	CHECK_EQ(mbtx_commit(tx), 0, "commit");
	CHECK(exists("example.com/alice/Maildir/.Sent/cur") &&
	    exists("example.com/alice/Maildir/.Sent/maildirfolder") &&
	    exists("example.com/alice/Maildir/.Sent/dovecot-uidlist"),
	    "folder with its marker and uidlist");
	CHECK_EQ(store_list_mailboxes(&st, "alice@example.com", &v), 0,
	    "list");
	CHECK(v.n == 2 && strcmp(v.v[1], "example.com!user.alice.Sent") == 0,
	    "listed with its Cyrus name");
	sv_free(&v);

	CHECK_EQ(mbtx_begin(&st, "example.com!user.alice", &tx), 0, "INBOX");
	CHECK_EQ(mbtx_create(tx, GUID, 5, 1), 0, "create");
	CHECK_EQ(add(&st, tx, 1, "70.M1P1.h", "S", NULL, NULL, 1), 0, "add");
	CHECK_EQ(mbtx_commit(tx), 0, "commit");
	CHECK_EQ(mbtx_begin(&st, "example.com!user.alice", &tx), 0, "again");
	CHECK_EQ(mbtx_replace(tx, GUID2, 6, 1), 0, "replace INBOX");
	CHECK_EQ(mbtx_mailbox(tx)->nmsgs, 0, "INBOX empty afresh");
	CHECK_EQ(mbtx_commit(tx), 0, "commit");
	check_file("example.com/alice/Maildir/dovecot-uidlist",
	    "3 V6 N1 G" GUID2 "\n", "new identity of INBOX");
	CHECK(exists("example.com/alice/Maildir/.Sent/cur") &&
	    !exists("example.com/alice/Maildir/cur/70.M1P1.h:2,S"),
	    "folders stay, messages went");
	CHECK(exists(".syncpipe/attic/example.com/alice"), "attic of alice");
	store_unstage(&st);
	store_close(&st);
}

int
main(void)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(root, sizeof(root), "%s/test-store.XXXXXX",
	    tmp ? tmp : "/tmp");
	if (mkdtemp(root) == NULL) {
		perror(root);
		return 2;
	}
	sp_verbosity = 0;
	test_absent();
	test_create_and_add();
	test_read_back();
	test_flags_expunge();
	test_assign_order();
	test_uidlist_roundtrip();
	test_locks();
	test_adopt();
	test_open_msg();
	test_subs();
	test_sieve();
	test_symlinks();
	test_lists();
	test_delete_replace();
	test_domain();
	{
		char *out = xasprintf("%s-outside", root);

		remove_tree(AT_FDCWD, out, out);
		remove_tree(AT_FDCWD, root, root);
		free(out);
	}
	return unit_done();
}
