/*
 * syncpipe-gen: makes Maildir stores laid out as Dovecot 2.3 keeps them, for
 * tests, benchmarks and the demo.
 *
 * Everything it writes follows from --seed: the same arguments give the same
 * tree, byte for byte, with the same file names and mtimes.  It writes what
 * a delivery agent and a mail client leave behind (messages in cur/ and new/,
 * dovecot-keywords where a keyword is used, subscriptions, Sieve scripts)
 * but no dovecot-uidlist:
 * giving UIDs is the reader's job.  With --deliver it plays the delivery
 * agent for an existing mailbox: new messages go through tmp/ into new/.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "store.h"
#include "util.h"

#define GEN_HOST	"mx1.example.net"
#define GEN_EPOCH	1700000000	/* first message time of a store */
#define MIN_SIZE	300
#define MAX_SIZE	100000

struct rng {
	uint64_t	 s;
};

struct gen {
	struct rng	 rng;
	const char	*root;
	const char	*domain;
	unsigned long	 seed;
	unsigned	 users;
	unsigned	 folders;
	unsigned	 messages;
	int64_t		 clock;		/* time of the next message */
	unsigned long	 q;		/* delivery counter of this process */
	long		 pid;		/* pid in file names */
	int		 keywords_used;	/* in the mailbox being made */
	unsigned long	 nmailboxes;
	unsigned long	 nmessages;
	unsigned long long nbytes;
};

/* Folders in the order --folders takes them; parents before children. */
static const char *folder_names[] = {
	"Sent", "Archive", "Archive.2024", "Work.Projects", "Drafts", "Trash",
	"Work", "Lists.announce", "Entw&APw-rfe", "Archive.2023",
	"Work.Projects.2026", "Family",
};
#define NFOLDER_NAMES	(sizeof(folder_names) / sizeof(folder_names[0]))

static const char *domain_users[] = {
	"fred", "wilma", "barney", "betty", "pebbles", "dino",
};
#define NDOMAIN_USERS	(sizeof(domain_users) / sizeof(domain_users[0]))

static const char *people[] = {
	"Ada Lovelace <ada@analytical.example>",
	"Grace Hopper <grace@navy.example>",
	"Alan Turing <alan@bletchley.example>",
	"\"Hedy Lamarr\" <hedy@spread.example>",
	"Claude Shannon <claude@bell.example>",
	"Kateryna Yushchenko <kateryna@kyiv.example>",
	"noreply@tickets.example",
	"Margaret Hamilton <mhamilton@apollo.example>",
};
#define NPEOPLE		(sizeof(people) / sizeof(people[0]))

static const char *subjects[] = {
	"Quarterly numbers", "Re: lunch on Friday?", "Meeting notes",
	"[announce] release 2.4 is out", "Fwd: invoice 2024-117",
	"Your ticket #4711 was updated", "Re: Re: the migration plan",
	"Photos from the weekend", "Caf\xc3\xa9 opening hours",
	"Build failed: main", "Reminder: review due", "Welcome aboard",
};
#define NSUBJECTS	(sizeof(subjects) / sizeof(subjects[0]))

static const char *words[] = {
	"the", "mail", "server", "replica", "message", "folder", "and", "of",
	"to", "a", "in", "we", "will", "schedule", "report", "quickly",
	"network", "storage", "backup", "plan", "tomorrow", "after", "before",
	"review", "change", "numbers", "caf\xc3\xa9", "na\xc3\xafve", "log",
	"meeting", "with", "please", "thanks", "draft", "is", "not", "yet",
	"ready", "for", "the", "team", "weekly", "summary", "attached",
};
#define NWORDS		(sizeof(words) / sizeof(words[0]))

static const char main_sieve[] =
	"require [\"fileinto\", \"include\"];\n"
	"\n"
	"# Mailing lists go to their own folder.\n"
	"if header :contains \"List-Id\" \"announce\" {\n"
	"\tfileinto \"Lists.announce\";\n"
	"\tstop;\n"
	"}\n"
	"include :personal \"vacation\";\n";

static const char vacation_sieve[] =
	"require [\"vacation\"];\n"
	"\n"
	"vacation :days 7 :subject \"Away\"\n"
	"\t\"I am away this week and will answer when I am back.\";\n";

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: syncpipe-gen [-qv] [--seed N] [--users N] [--folders N]\n"
	    "                    [--messages N] [--domain D] ROOT\n"
	    "       syncpipe-gen [-qv] [--seed N] --deliver N --user U"
	    " [--folder F] ROOT\n");
}

/* splitmix64: small, fast and the same on every platform. */
static uint64_t
rng_next(struct rng *r)
{
	uint64_t z;

	r->s += 0x9e3779b97f4a7c15ULL;
	z = r->s;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static unsigned long
rng_below(struct rng *r, unsigned long n)
{
	return n == 0 ? 0 : (unsigned long)(rng_next(r) % n);
}

/* Nonzero with probability pct percent. */
static int
rng_pct(struct rng *r, unsigned pct)
{
	return rng_below(r, 100) < pct;
}

/* A size from MIN_SIZE to MAX_SIZE, small ones far more often. */
static size_t
rng_size(struct rng *r)
{
	unsigned long span = MIN_SIZE;

	while (span < MAX_SIZE && rng_pct(r, 72))
		span *= 2;
	if (span > MAX_SIZE)
		span = MAX_SIZE;
	return MIN_SIZE + rng_below(r, span - MIN_SIZE + 1);
}

static void
add_date(struct strbuf *sb, const char *name, int64_t when)
{
	char buf[64];
	time_t t = (time_t)when;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, sizeof(buf), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	sb_addf(sb, "%s%s", name, buf);
}

/* The address part of "Name <addr>", or the whole string. */
static void
add_addr(struct strbuf *sb, const char *person)
{
	const char *lt = strchr(person, '<');

	if (lt == NULL)
		sb_adds(sb, person);
	else
		sb_add(sb, lt + 1, strcspn(lt + 1, ">"));
}

/* Trace fields a delivery adds on top of a received message. */
static void
add_trace(struct gen *g, struct strbuf *sb, const char *from,
    const char *rcpt, int64_t when)
{
	sb_adds(sb, "Return-Path: <");
	add_addr(sb, from);
	sb_addf(sb, ">\nDelivered-To: %s\n", rcpt);
	sb_addf(sb, "Received: from relay%lu.example.org "
	    "(relay%lu.example.org [192.0.2.%lu])\n"
	    "\tby %s (Postfix) with ESMTPS id %08lX\n\tfor <%s>; ",
	    rng_below(&g->rng, 9), rng_below(&g->rng, 9),
	    1 + rng_below(&g->rng, 250), GEN_HOST,
	    (unsigned long)(rng_next(&g->rng) & 0xffffffffUL), rcpt);
	add_date(sb, "", when);
	sb_addc(sb, '\n');
}

/* The header of a message to rcpt, or from rcpt when it was sent. */
static void
add_headers(struct gen *g, struct strbuf *sb, const char *rcpt, int64_t when,
    int sent)
{
	const char *peer = people[rng_below(&g->rng, NPEOPLE)];

	if (!sent)
		add_trace(g, sb, peer, rcpt, when);
	add_date(sb, "Date: ", when - (int64_t)rng_below(&g->rng, 90));
	sb_addf(sb, "\nFrom: %s\nTo: %s\nSubject: %s\n", sent ? rcpt : peer,
	    sent ? peer : rcpt, subjects[rng_below(&g->rng, NSUBJECTS)]);
	sb_addf(sb, "Message-ID: <%lld.%lu.%016llx@example.org>\n",
	    (long long)when, g->q, (unsigned long long)rng_next(&g->rng));
	if (!sent && rng_pct(&g->rng, 15))
		sb_adds(sb, "List-Id: Announcements <announce.example.org>\n");
	sb_adds(sb, "MIME-Version: 1.0\n");
}

/* Paragraphs of words, lines under 76 columns, until sb grew by n bytes. */
static void
add_text(struct gen *g, struct strbuf *sb, size_t n)
{
	size_t end = sb->len + n, col = 0;
	const char *w;

	while (sb->len < end) {
		w = words[rng_below(&g->rng, NWORDS)];
		if (col + strlen(w) + 1 > 72) {
			sb_addc(sb, '\n');
			col = 0;
			if (rng_pct(&g->rng, 12))
				sb_addc(sb, '\n');
		} else if (col > 0) {
			sb_addc(sb, ' ');
			col++;
		}
		sb_adds(sb, w);
		col += strlen(w);
	}
	sb_adds(sb, ".\n");
}

/* Base64 of n pseudo-random bytes in lines of 76, through libcrypto. */
static void
add_base64(struct gen *g, struct strbuf *sb, size_t n)
{
	unsigned char raw[57], enc[80];
	size_t i, chunk;
	int len;

	while (n > 0) {
		chunk = n < sizeof(raw) ? n : sizeof(raw);
		for (i = 0; i < chunk; i++)
			raw[i] = (unsigned char)rng_next(&g->rng);
		len = EVP_EncodeBlock(enc, raw, (int)chunk);
		sb_add(sb, enc, (size_t)len);
		sb_addc(sb, '\n');
		n -= chunk;
	}
}

static void
add_multipart(struct gen *g, struct strbuf *sb, size_t size)
{
	char boundary[40];
	size_t text = size / 8 + 100;

	snprintf(boundary, sizeof(boundary), "=_part_%016llx",
	    (unsigned long long)rng_next(&g->rng));
	sb_addf(sb, "Content-Type: multipart/mixed; boundary=\"%s\"\n\n"
	    "This is a multi-part message in MIME format.\n\n--%s\n",
	    boundary, boundary);
	sb_adds(sb, "Content-Type: text/plain; charset=utf-8\n"
	    "Content-Transfer-Encoding: 8bit\n\n");
	add_text(g, sb, text);
	sb_addf(sb, "\n--%s\nContent-Type: application/octet-stream; "
	    "name=\"data-%lu.bin\"\n"
	    "Content-Disposition: attachment; filename=\"data-%lu.bin\"\n"
	    "Content-Transfer-Encoding: base64\n\n", boundary, g->q, g->q);
	add_base64(g, sb, size > text ? (size - text) * 3 / 4 : 64);
	sb_addf(sb, "\n--%s--\n", boundary);
}

/* LF to CRLF throughout. */
static void
to_crlf(struct strbuf *sb)
{
	struct strbuf out = STRBUF_INIT;
	size_t i;

	sb_grow(&out, sb->len + sb->len / 30);
	for (i = 0; i < sb->len; i++) {
		if (sb->s[i] == '\n')
			sb_addc(&out, '\r');
		sb_addc(&out, sb->s[i]);
	}
	sb_free(sb);
	*sb = out;
}

/* One message for rcpt received (or sent) at when. */
static void
make_message(struct gen *g, const char *rcpt, int64_t when, int sent,
    struct strbuf *sb)
{
	size_t size = rng_size(&g->rng);

	sb_reset(sb);
	add_headers(g, sb, rcpt, when, sent);
	if (size > 4000 && rng_pct(&g->rng, 40))
		add_multipart(g, sb, size - sb->len);
	else {
		sb_adds(sb, "Content-Type: text/plain; charset=utf-8\n"
		    "Content-Transfer-Encoding: 8bit\n\n");
		add_text(g, sb, size > sb->len ? size - sb->len : 40);
	}
	if (rng_pct(&g->rng, 20))
		to_crlf(sb);
}

/* The size with every bare LF counted as CRLF (Dovecot's W=). */
static size_t
crlf_size(const struct strbuf *sb)
{
	size_t i, n = sb->len;

	for (i = 0; i < sb->len; i++)
		if (sb->s[i] == '\n' && (i == 0 || sb->s[i - 1] != '\r'))
			n++;
	return n;
}

/* Flags of a message that was read: sorted system flags, then keywords. */
static void
pick_flags(struct gen *g, char *out)
{
	char *p = out;

	if (rng_pct(&g->rng, 3))
		*p++ = 'D';
	if (rng_pct(&g->rng, 10))
		*p++ = 'F';
	if (rng_pct(&g->rng, 20))
		*p++ = 'R';
	if (rng_pct(&g->rng, 75))
		*p++ = 'S';
	if (rng_pct(&g->rng, 10))
		*p++ = 'a';
	if (rng_pct(&g->rng, 5))
		*p++ = 'b';
	*p = '\0';
	if (strpbrk(out, "ab") != NULL)
		g->keywords_used = 1;
}

/*
 * Writes a message the way a delivery agent does: into tmp/BASE with its
 * mtime set, then renamed to mbdir/DST (new/BASE or cur/BASE:2,FLAGS).
 * 0 or exit status.
 */
static int
store_message(const char *mbdir, const char *base, const char *dst,
    const struct strbuf *sb, int64_t mtime)
{
	struct timespec ts[2];
	char *tmp, *path;
	int fd, st = 0;

	tmp = xasprintf("%s/tmp/%s", mbdir, base);
	path = xasprintf("%s/%s", mbdir, dst);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0600);
	if (fd < 0 || write_all(fd, sb->s, sb->len) < 0) {
		sp_syserr("%s", tmp);
		st = fd < 0 ? EX_CANTCREAT : EX_IOERR;
		if (fd >= 0)
			close(fd);
		goto out;
	}
	ts[0].tv_sec = ts[1].tv_sec = (time_t)mtime;
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	if (futimens(fd, ts) < 0 || close(fd) < 0) {
		sp_syserr("%s", tmp);
		st = EX_IOERR;
	} else if (rename(tmp, path) < 0) {
		sp_syserr("%s: rename to %s", tmp, path);
		st = EX_IOERR;
	}
out:
	free(tmp);
	free(path);
	return st;
}

/* Makes one message in the mailbox directory mbdir and counts it. */
static int
gen_message(struct gen *g, const char *mbdir, const char *rcpt, int in_new,
    int sent, int64_t when, long usecs)
{
	struct strbuf sb = STRBUF_INIT;
	char flags[16], *base, *dst;
	int st;

	g->q++;
	make_message(g, rcpt, when, sent, &sb);
	base = xasprintf("%lld.M%ldP%ldQ%lu.%s,S=%zu,W=%zu", (long long)when,
	    usecs, g->pid, g->q, GEN_HOST, sb.len, crlf_size(&sb));
	if (in_new)
		dst = xasprintf("new/%s", base);
	else {
		pick_flags(g, flags);
		dst = xasprintf("cur/%s:2,%s", base, flags);
	}
	st = store_message(mbdir, base, dst, &sb, when);
	if (st == 0) {
		g->nmessages++;
		g->nbytes += sb.len;
		sp_debug("%s/%s", mbdir, dst);
	}
	free(base);
	free(dst);
	sb_free(&sb);
	return st;
}

/* A small file with a given mtime.  0 or exit status. */
static int
put_file(const char *path, const char *data, int64_t mtime)
{
	struct timespec ts[2];
	int st;

	st = write_file_atomic(path, data, strlen(data), 0600);
	if (st != 0)
		return st;
	ts[0].tv_sec = ts[1].tv_sec = (time_t)mtime;
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	if (utimensat(AT_FDCWD, path, ts, 0) < 0) {
		sp_syserr("%s", path);
		return EX_IOERR;
	}
	return 0;
}

static int
make_dir(const char *path)
{
	if (mkdir_p(path, 0700) < 0) {
		sp_syserr("%s", path);
		return EX_CANTCREAT;
	}
	return 0;
}

/* cur new tmp, and the maildirfolder marker of a folder. */
static int
make_mailbox(struct gen *g, const char *mbdir, int is_folder)
{
	static const char *subdirs[] = { "cur", "new", "tmp" };
	char *path;
	size_t i;
	int st = 0;

	for (i = 0; i < 3 && st == 0; i++) {
		path = xasprintf("%s/%s", mbdir, subdirs[i]);
		st = make_dir(path);
		free(path);
	}
	if (st == 0 && is_folder) {
		path = xasprintf("%s/maildirfolder", mbdir);
		st = put_file(path, "", g->clock);
		free(path);
	}
	return st;
}

/* dovecot-keywords, as Dovecot leaves it once a keyword was set. */
static int
make_keywords(struct gen *g, const char *mbdir)
{
	char *path;
	int st;

	path = xasprintf("%s/dovecot-keywords", mbdir);
	st = put_file(path, "0 $Forwarded\n1 Junk\n", g->clock);
	free(path);
	return st;
}

/* A mailbox with g->messages messages; in INBOX the newest quarter is
 * still unseen in new/. */
static int
gen_mailbox(struct gen *g, const char *maildir, const char *folder,
    const char *rcpt)
{
	char *mbdir;
	unsigned i, unseen;
	int st;

	if (folder == NULL)
		mbdir = xstrdup(maildir);
	else
		mbdir = xasprintf("%s/.%s", maildir, folder);
	st = make_mailbox(g, mbdir, folder != NULL);
	g->keywords_used = 0;
	unseen = folder == NULL ? g->messages / 4 : 0;
	for (i = 0; i < g->messages && st == 0; i++) {
		g->clock += 60 + (int64_t)rng_below(&g->rng, 86400);
		st = gen_message(g, mbdir, rcpt, i >= g->messages - unseen,
		    folder != NULL && strcmp(folder, "Sent") == 0, g->clock,
		    (long)rng_below(&g->rng, 1000000));
	}
	if (st == 0 && g->keywords_used)
		st = make_keywords(g, mbdir);
	if (st == 0)
		g->nmailboxes++;
	free(mbdir);
	return st;
}

static void
add_subscription(struct strbuf *sb, const char *name)
{
	subs_escape(sb, name);
	sb_addc(sb, '\n');
}

/* Subscribed: INBOX and every folder but Trash. */
static int
gen_subscriptions(struct gen *g, const char *maildir, unsigned nfolders,
    char **folders)
{
	struct strbuf sb = STRBUF_INIT;
	char *path;
	unsigned i;
	int st;

	sb_adds(&sb, "V\t2\n\n");
	add_subscription(&sb, "INBOX");
	for (i = 0; i < nfolders; i++)
		if (strcmp(folders[i], "Trash") != 0)
			add_subscription(&sb, folders[i]);
	path = xasprintf("%s/subscriptions", maildir);
	st = put_file(path, sb.s, g->clock);
	free(path);
	sb_free(&sb);
	return st;
}

/* sieve/main.sieve, sieve/vacation.sieve; .dovecot.sieve -> main. */
static int
gen_sieve(struct gen *g, const char *home)
{
	char *path;
	int st;

	path = xasprintf("%s/sieve", home);
	st = make_dir(path);
	free(path);
	if (st == 0) {
		path = xasprintf("%s/sieve/main.sieve", home);
		st = put_file(path, main_sieve, g->clock);
		free(path);
	}
	if (st == 0) {
		path = xasprintf("%s/sieve/vacation.sieve", home);
		st = put_file(path, vacation_sieve, g->clock);
		free(path);
	}
	if (st == 0) {
		path = xasprintf("%s/.dovecot.sieve", home);
		if (symlink("sieve/main.sieve", path) < 0) {
			sp_syserr("%s", path);
			st = EX_CANTCREAT;
		}
		free(path);
	}
	return st;
}

/* Folder names for a user: the table first, then Folder13, ... */
static char **
folder_list(unsigned n)
{
	char **v = xcalloc(n + 1, sizeof(*v));
	unsigned i;

	for (i = 0; i < n; i++)
		v[i] = i < NFOLDER_NAMES ? xstrdup(folder_names[i]) :
		    xasprintf("Folder%u", i + 1);
	return v;
}

static void
free_list(char **v)
{
	char **p;

	for (p = v; *p != NULL; p++)
		free(*p);
	free(v);
}

/* A new home: refuses to touch one that already exists. */
static int
make_home(const char *home)
{
	const char *slash = strrchr(home, '/');
	char *parent;
	int st = 0;

	if (slash != NULL && slash != home) {
		parent = xstrndup(home, (size_t)(slash - home));
		st = make_dir(parent);
		free(parent);
	}
	if (st == 0 && mkdir(home, 0700) < 0) {
		if (errno == EEXIST)
			sp_err("%s: already exists", home);
		else
			sp_syserr("%s", home);
		st = EX_CANTCREAT;
	}
	return st;
}

static int
gen_user(struct gen *g, const char *userid, const char *home)
{
	char **folders = folder_list(g->folders);
	char *maildir = xasprintf("%s/Maildir", home);
	char *rcpt;
	unsigned i;
	int st;

	rcpt = strchr(userid, '@') != NULL ? xstrdup(userid) :
	    xasprintf("%s@example.net", userid);
	st = make_home(home);
	if (st == 0)
		st = gen_mailbox(g, maildir, NULL, rcpt);
	for (i = 0; i < g->folders && st == 0; i++)
		st = gen_mailbox(g, maildir, folders[i], rcpt);
	if (st == 0)
		st = gen_subscriptions(g, maildir, g->folders, folders);
	if (st == 0)
		st = gen_sieve(g, home);
	free_list(folders);
	free(maildir);
	free(rcpt);
	return st;
}

static int
gen_store(struct gen *g)
{
	char *userid, *home;
	unsigned i;
	int st = 0;

	g->clock = GEN_EPOCH + (int64_t)rng_below(&g->rng, 86400);
	g->pid = 1000 + (long)rng_below(&g->rng, 30000);
	for (i = 0; i < g->users && st == 0; i++) {
		if (g->domain == NULL) {
			userid = xasprintf("user%u", i + 1);
			home = xasprintf("%s/%s", g->root, userid);
		} else {
			char *local = i < NDOMAIN_USERS ?
			    xstrdup(domain_users[i]) : xasprintf("user%u", i + 1);

			userid = xasprintf("%s@%s", local, g->domain);
			home = xasprintf("%s/%s/%s", g->root, g->domain, local);
			free(local);
		}
		st = gen_user(g, userid, home);
		free(userid);
		free(home);
	}
	if (st == 0)
		sp_info("%s: %u users, %lu mailboxes, %lu messages, "
		    "%llu bytes", g->root, g->users, g->nmailboxes,
		    g->nmessages, g->nbytes);
	return st;
}

/* Nonzero if s can name a user or a folder: no '/', no leading '.'. */
static int
safe_name(const char *s)
{
	return *s != '\0' && *s != '.' && strchr(s, '/') == NULL &&
	    strstr(s, "..") == NULL;
}

/* The mailbox directory of user (folder NULL: INBOX), or NULL. */
static char *
mailbox_dir(const char *root, const char *user, const char *folder)
{
	const char *at = strchr(user, '@');
	char *home, *dir;

	if (!safe_name(user) || (folder != NULL && !safe_name(folder)) ||
	    (at != NULL && (at == user || !safe_name(at + 1) ||
	    strchr(at + 1, '@') != NULL)))
		return NULL;
	if (at == NULL)
		home = xasprintf("%s/%s", root, user);
	else
		home = xasprintf("%s/%s/%.*s", root, at + 1,
		    (int)(at - user), user);
	if (folder == NULL || strcmp(folder, "INBOX") == 0)
		dir = xasprintf("%s/Maildir", home);
	else
		dir = xasprintf("%s/Maildir/.%s", home, folder);
	free(home);
	return dir;
}

/* --deliver: n new messages into new/ of an existing mailbox, named and
 * timed as a delivery agent would now. */
static int
deliver(struct gen *g, unsigned n, const char *user, const char *folder)
{
	struct timeval tv;
	struct stat sb;
	char *mbdir, *tmp, *rcpt;
	unsigned i;
	int st = 0;

	mbdir = mailbox_dir(g->root, user, folder);
	if (mbdir == NULL) {
		sp_err("%s%s%s: unsafe user or folder name", user,
		    folder ? " " : "", folder ? folder : "");
		return EX_USAGE;
	}
	tmp = xasprintf("%s/tmp", mbdir);
	if (stat(tmp, &sb) < 0 || !S_ISDIR(sb.st_mode)) {
		sp_err("%s: no such mailbox", mbdir);
		st = EX_NOINPUT;
	}
	rcpt = strchr(user, '@') ? xstrdup(user) :
	    xasprintf("%s@example.net", user);
	g->pid = (long)getpid();
	for (i = 0; i < n && st == 0; i++) {
		gettimeofday(&tv, NULL);
		st = gen_message(g, mbdir, rcpt, 1, 0, (int64_t)tv.tv_sec,
		    (long)tv.tv_usec);
	}
	if (st == 0)
		sp_info("%s: %u messages delivered", mbdir, n);
	free(rcpt);
	free(tmp);
	free(mbdir);
	return st;
}

/* A number argument: 0 and *out, or -1. */
static int
parse_num(const char *s, unsigned long max, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || *s == '-' || *out > max)
		return -1;
	return 0;
}

enum {
	OPT_SEED = 256, OPT_USERS, OPT_FOLDERS, OPT_MESSAGES, OPT_DOMAIN,
	OPT_DELIVER, OPT_USER, OPT_FOLDER
};

static const struct option longopts[] = {
	{ "help",	no_argument,		NULL, 'h' },
	{ "version",	no_argument,		NULL, 'V' },
	{ "verbose",	no_argument,		NULL, 'v' },
	{ "quiet",	no_argument,		NULL, 'q' },
	{ "seed",	required_argument,	NULL, OPT_SEED },
	{ "users",	required_argument,	NULL, OPT_USERS },
	{ "folders",	required_argument,	NULL, OPT_FOLDERS },
	{ "messages",	required_argument,	NULL, OPT_MESSAGES },
	{ "domain",	required_argument,	NULL, OPT_DOMAIN },
	{ "deliver",	required_argument,	NULL, OPT_DELIVER },
	{ "user",	required_argument,	NULL, OPT_USER },
	{ "folder",	required_argument,	NULL, OPT_FOLDER },
	{ NULL,		0,			NULL, 0 }
};

struct args {
	unsigned long	 seed, users, folders, messages, deliver;
	const char	*domain, *user, *folder;
	int		 deliver_mode;
};

/* 0, or -1 for a usage error (reported); exits for --help, --version. */
static int
parse_args(int argc, char **argv, struct args *a)
{
	unsigned long *num;
	int c;

	while ((c = getopt_long(argc, argv, "hVvq", longopts, NULL)) != -1) {
		num = NULL;
		switch (c) {
		case 'h':
			usage(stdout);
			exit(0);
		case 'V':
			sp_print_version();
			exit(0);
		case 'v':
			sp_verbosity++;
			break;
		case 'q':
			sp_verbosity = 0;
			break;
		case OPT_SEED:
			num = &a->seed;
			break;
		case OPT_USERS:
			num = &a->users;
			break;
		case OPT_FOLDERS:
			num = &a->folders;
			break;
		case OPT_MESSAGES:
			num = &a->messages;
			break;
		case OPT_DELIVER:
			num = &a->deliver;
			a->deliver_mode = 1;
			break;
		case OPT_DOMAIN:
			a->domain = optarg;
			break;
		case OPT_USER:
			a->user = optarg;
			break;
		case OPT_FOLDER:
			a->folder = optarg;
			break;
		default:
			return -1;
		}
		if (num != NULL && parse_num(optarg,
		    num == &a->seed ? (unsigned long)-1 : 1000000, num) < 0) {
			sp_err("%s: not a number in range", optarg);
			return -1;
		}
	}
	return 0;
}

/* Combinations of options that make no sense; 0 or -1 (reported). */
static int
check_args(const struct args *a, int nargs)
{
	if (nargs != 1) {
		sp_err("one store root expected");
		return -1;
	}
	if (a->deliver_mode && a->user == NULL) {
		sp_err("--deliver needs --user");
		return -1;
	}
	if (!a->deliver_mode && (a->user != NULL || a->folder != NULL)) {
		sp_err("--user and --folder go with --deliver");
		return -1;
	}
	if (a->domain != NULL && (!safe_name(a->domain) ||
	    strchr(a->domain, '@') != NULL)) {
		sp_err("%s: unsafe domain name", a->domain);
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct args a = { 1, 2, 4, 8, 0, NULL, NULL, NULL, 0 };
	struct gen g;

	sp_init(argv[0]);
	sp_verbosity = 0;
	if (parse_args(argc, argv, &a) < 0 ||
	    check_args(&a, argc - optind) < 0) {
		usage(stderr);
		return EX_USAGE;
	}
	memset(&g, 0, sizeof(g));
	g.root = argv[optind];
	g.domain = a.domain;
	g.seed = a.seed;
	g.users = (unsigned)a.users;
	g.folders = (unsigned)a.folders;
	g.messages = (unsigned)a.messages;
	g.rng.s = (uint64_t)a.seed;
	if (a.deliver_mode) {
		/* Deliveries differ from run to run, as real mail does. */
		g.rng.s ^= ((uint64_t)time(NULL) << 20) ^ (uint64_t)getpid();
		return deliver(&g, (unsigned)a.deliver, a.user, a.folder);
	}
	if (make_dir(g.root) != 0)
		return EX_CANTCREAT;
	return gen_store(&g);
}
