/*
 * apply: apply a bundle to a store and write the applied entries.
 *
 * The whole bundle is read first: every record is checked and every body is
 * staged inside the store (same file system, invisible to mail readers)
 * before anything changes, so a bundle that is cut short or damaged leaves
 * the store as it was.  Then the changes are made mailbox by mailbox, each
 * in one transaction; a change whose expectation no longer holds (the
 * replica moved on since the diff) is refused and reported, and the run
 * ends with EX_TEMPFAIL so that the caller diffs again.
 */
#define _GNU_SOURCE		/* syncfs() */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "apply.h"
#include "names.h"
#include "store.h"
#include "stream.h"

struct change {
	enum rec_type	 type;
	int		 nw;
	char		**w;		/* w[0] is the record type */
	char		*staged;	/* body of ADD / COPY / SIEVE */
	unsigned long	 lineno;
	int		 reused;	/* ADD / COPY of a UID the replica
					 * gave out and expunged before */
};

struct applier {
	struct store	 store;
	struct change	*ch;
	size_t		 nch;
	unsigned long	 staged;
	unsigned long	 entries;	/* applied entries written */
	int		 status;	/* worst refusal so far */
	unsigned long	 refused;	/* changes refused so far */
	struct strbuf	 out;
	FILE		*outfp;		/* applied entries */
	const char	*inname;	/* the bundle's name in messages */
};

/* Reading and checking */

static int
check_mailbox_name(struct sreader *r, const char *name)
{
	struct mbname mb;
	const char *why;

	if (mbname_parse(name, &mb, &why) != 0)
		return sr_bad(r, "bad mailbox name \"%s\": %s", name, why);
	mbname_free(&mb);
	return 0;
}

static int
check_user(struct sreader *r, const char *userid)
{
	const char *why;
	char *home = userid_home(userid, &why);

	if (home == NULL)
		return sr_bad(r, "bad user \"%s\": %s", userid, why);
	free(home);
	return 0;
}

static int
check_file_name(struct sreader *r, const char *what, const char *s)
{
	const char *why = "contains ':'";

	if (!name_component_ok(s, &why) || strchr(s, ':') != NULL)
		return sr_bad(r, "bad %s \"%s\": %s", what, s, why);
	return 0;
}

/* Fields from..to must be 32-bit unsigned numbers (UIDs, UIDVALIDITY). */
static int
check_numbers(struct sreader *r, const struct record *rec, int from, int to)
{
	uint32_t v;
	int i;

	for (i = from; i <= to; i++)
		if (parse_u32(rec->w[i], &v) != 0)
			return sr_bad(r, "%s: field %d is not a number: \"%s\"",
			    rec->w[0], i, rec->w[i]);
	return 0;
}

/* Field i is a size and field i + 1 a time, or the other way round. */
static int
check_size_time(struct sreader *r, const struct record *rec, int size,
    int time)
{
	uint64_t v;
	int64_t t;

	if (parse_u64(rec->w[size], &v) != 0)
		return sr_bad(r, "%s: bad size \"%s\"", rec->w[0],
		    rec->w[size]);
	if (parse_i64(rec->w[time], &t) != 0)
		return sr_bad(r, "%s: bad time \"%s\"", rec->w[0],
		    rec->w[time]);
	return 0;
}

static int
check_flags(struct sreader *r, const char *flags)
{
	char norm[8];

	if (flags_normalize(flags, norm) != 0)
		return sr_bad(r, "bad flags \"%s\"", flags);
	return 0;
}

static int
check_guid(struct sreader *r, const char *s, int dash_ok)
{
	size_t n = strspn(s, "0123456789abcdef");

	if ((dash_ok && strcmp(s, "-") == 0) ||
	    (n == GUID_HEX_LEN && s[n] == '\0'))
		return 0;
	return sr_bad(r, "bad mailbox GUID \"%s\"", s);
}

/* Checks the fields of one message record (ADD, COPY, FLAGS, EXPUNGE). */
static int
check_message(struct sreader *r, const struct record *rec)
{
	int st = check_mailbox_name(r, rec->w[1]);

	if (st == 0)
		st = check_numbers(r, rec, 2, 2);
	if (st == 0 && strcmp(rec->w[2], "0") == 0)
		st = sr_bad(r, "%s: UID 0", rec->w[0]);
	if (st == 0)
		st = check_file_name(r, "message name", rec->w[3]);
	if (st == 0 && (rec->type == R_ADD || rec->type == R_COPY))
		st = check_size_time(r, rec, 5, 4);
	if (st == 0 && (rec->type == R_ADD || rec->type == R_COPY))
		st = check_flags(r, rec->w[6]);
	if (st == 0 && rec->type == R_COPY &&
	    (st = check_mailbox_name(r, rec->w[7])) == 0 &&
	    (st = check_numbers(r, rec, 8, 8)) == 0)
		st = check_file_name(r, "message name", rec->w[9]);
	if (st == 0 && rec->type == R_FLAGS)
		st = check_flags(r, rec->w[4]);
	return st;
}

/* Checks the fields of one record; 0 or EX_DATAERR (reported). */
static int
check_record(struct sreader *r, const struct record *rec)
{
	int st = 0;

	switch (rec->type) {
	case R_MAILBOX:
		if ((st = check_mailbox_name(r, rec->w[1])) == 0 &&
		    (st = check_guid(r, rec->w[2], 0)) == 0 &&
		    (st = check_numbers(r, rec, 3, 4)) == 0 &&
		    (st = check_guid(r, rec->w[5], 1)) == 0)
			st = check_numbers(r, rec, 6, 7);
		return st;
	case R_UNMAILBOX:
		if ((st = check_mailbox_name(r, rec->w[1])) == 0 &&
		    (st = check_guid(r, rec->w[2], 1)) == 0)
			st = check_numbers(r, rec, 3, 3);
		return st;
	case R_CONFLICT:
		return check_mailbox_name(r, rec->w[1]);
	case R_RENAME:
		if ((st = check_mailbox_name(r, rec->w[1])) == 0 &&
		    (st = check_mailbox_name(r, rec->w[2])) == 0 &&
		    (st = check_guid(r, rec->w[3], 0)) == 0)
			st = check_numbers(r, rec, 4, 4);
		return st;
	case R_ADD:
	case R_COPY:
	case R_FLAGS:
	case R_EXPUNGE:
		return check_message(r, rec);
	case R_SIEVE:
		st = check_size_time(r, rec, 3, 4);
		/* FALLTHROUGH */
	case R_UNSIEVE:
		if (st == 0)
			st = check_file_name(r, "script name", rec->w[2]);
		return st ? st : check_user(r, rec->w[1]);
	case R_ACTIVE:
		if (rec->nw == 3)
			st = check_file_name(r, "script name", rec->w[2]);
		return st ? st : check_user(r, rec->w[1]);
	case R_SUBS:
	case R_UNUSER:
		return check_user(r, rec->w[1]);
	default:
		return sr_bad(r, "unexpected record");
	}
}

/* Gives a staged file its final mtime now, so that the one sync of all
 * staged files makes it durable too. */
static int
set_mtime(int fd, const char *path, const char *mtime)
{
	struct timespec ts[2];
	int64_t t;

	parse_i64(mtime, &t);
	ts[0].tv_sec = ts[1].tv_sec = (time_t)t;
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	if (futimens(fd, ts) != 0) {
		sp_syserr("%s: set mtime", path);
		return sp_errno_status(errno);
	}
	return 0;
}

/*
 * Makes every staged file durable before anything is renamed into place:
 * one syncfs() of the store's file system instead of an fsync() per body.
 */
static int
sync_staged(struct applier *a)
{
	const char *dir;
	int fd, st = 0;

	if (a->staged == 0 || store_stage_dir(&a->store, &dir) != 0)
		return 0;
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		sp_syserr("%s", dir);
		return sp_errno_status(errno);
	}
#ifdef __linux__
	if (syncfs(fd) != 0) {
		sp_syserr("%s: syncfs", dir);
		st = sp_errno_status(errno);
	}
#else
	sync();
#endif
	close(fd);
	return st;
}

/* Stages the body that follows an ADD or SIEVE record. */
static int
stage_body(struct applier *a, struct sreader *r, struct change *c,
    uint64_t size)
{
	const char *dir;
	int fd, st;

	if (size > STREAM_LITERAL_MAX)
		return sr_bad(r, "body of %" PRIu64 " bytes is too large",
		    size);
	if ((st = store_stage_dir(&a->store, &dir)) != 0)
		return st;
	c->staged = xasprintf("%s/%lu", dir, a->staged++);
	fd = open(c->staged, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
	if (fd < 0) {
		sp_syserr("%s", c->staged);
		return sp_errno_status(errno);
	}
	st = sr_literal(r, size, fd);
	if (st == 0)
		st = set_mtime(fd, c->staged, c->w[4]);
	close(fd);
	return st;
}

/*
 * Stages a copy of a message the replica already holds, for a COPY record.
 * This happens while the bundle is read, before any change is made, so a
 * message moved on the master is still at its old place here.  A source
 * that is gone or not what the record says leaves c->staged NULL: the
 * record is refused when applied.
 */
static int
stage_copy(struct applier *a, struct change *c)
{
	struct msg found;
	const char *dir;
	uint64_t size;
	uint32_t uid;
	int in = -1, out = -1, st;

	memset(&found, 0, sizeof(found));
	parse_u64(c->w[5], &size);
	parse_u32(c->w[8], &uid);
	st = store_open_msg(&a->store, c->w[7], c->w[9], &in, &found);
	if (st == EX_NOINPUT || (st == 0 && (found.size != size ||
	    (found.uid != 0 && found.uid != uid)))) {
		st = 0;
		goto out;
	}
	if (st != 0 || (st = store_stage_dir(&a->store, &dir)) != 0)
		goto out;
	c->staged = xasprintf("%s/%lu", dir, a->staged++);
	if ((out = copy_to_new(in, c->staged)) < 0) {
		sp_syserr("%s", c->staged);
		st = sp_errno_status(errno);
	} else
		st = set_mtime(out, c->staged, c->w[4]);
out:
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	free(found.base);
	free(found.file);
	sv_free(&found.keywords);
	return st;
}

static int
read_bundle(struct applier *a, FILE *fp)
{
	struct sreader r;
	struct record rec;
	struct change *c;
	uint64_t size;
	int got, i, st;

	if ((st = sr_begin(&r, fp, a->inname, SK_BUNDLE)) != 0)
		goto out;
	while ((got = sr_next(&r, &rec)) == 1) {
		if ((st = check_record(&r, &rec)) != 0)
			goto out;
		a->ch = xreallocarray(a->ch, a->nch + 1, sizeof(*a->ch));
		c = &a->ch[a->nch++];
		memset(c, 0, sizeof(*c));
		c->type = rec.type;
		c->nw = rec.nw;
		c->lineno = r.lineno;
		c->w = xcalloc(rec.nw, sizeof(char *));
		for (i = 0; i < rec.nw; i++)
			c->w[i] = xstrdup(rec.w[i]);
		if (rec.type == R_ADD || rec.type == R_SIEVE) {
			parse_u64(rec.w[rec.type == R_ADD ? 5 : 3], &size);
			if ((st = stage_body(a, &r, c, size)) != 0)
				goto out;
		}
	}
	st = got < 0 ? r.status : 0;
	for (i = 0; st == 0 && (size_t)i < a->nch; i++)
		if (a->ch[i].type == R_COPY)
			st = stage_copy(a, &a->ch[i]);
	if (st == 0)
		st = sync_staged(a);
out:
	if (st != 0)
		sp_err("%s: bundle refused, the store was not changed",
		    a->inname);
	sr_free(&r);
	return st;
}

/* Applying */

/* Writes one applied entry, unless it repeats the one before. */
static int
emit(struct applier *a, const char *type, const char *arg1, const char *arg2)
{
	char *last = sb_detach(&a->out);

	sb_adds(&a->out, type);
	rec_word(&a->out, arg1);
	if (arg2 != NULL)
		rec_word(&a->out, arg2);
	sb_addc(&a->out, '\n');
	if (last != NULL && strcmp(last, a->out.s) == 0) {
		free(last);
		return 0;
	}
	free(last);
	a->entries++;
	if (fwrite(a->out.s, 1, a->out.len, a->outfp) != a->out.len ||
	    fflush(a->outfp) == EOF) {
		sp_syserr("cannot write applied entries");
		return EX_IOERR;
	}
	return 0;
}

static void
refuse(struct applier *a, const struct change *c, const char *why)
{
	sp_err("%s:%lu: %s %s: refused: %s", a->inname, c->lineno, c->w[0],
	    c->w[1], why);
	a->status = sp_status_worst(a->status, EX_TEMPFAIL);
	a->refused++;
}

static void
keywords_of(const struct change *c, int from, struct strvec *kw)
{
	int i;

	for (i = from; i < c->nw; i++)
		sv_push(kw, c->w[i]);
	sv_sort_uniq(kw);
}

/*
 * Does the replica's mailbox match what the MAILBOX record expects (or is it
 * already what the record makes it)?  Then start or reshape it.
 */
static int
open_identity(struct applier *a, struct mbtx *tx, const struct change *c)
{
	const struct mailbox *mb = mbtx_mailbox(tx);
	const char *guid = c->w[2], *eguid = c->w[5];
	uint32_t uv, euv;

	parse_u32(c->w[3], &uv);
	parse_u32(c->w[6], &euv);
	if (!mb->exists) {
		if (strcmp(eguid, "-") != 0 || euv != 0) {
			refuse(a, c, "the replica's mailbox is gone");
			return EX_TEMPFAIL;
		}
		return mbtx_create(tx, guid, uv, 1);
	}
	if (strcmp(mb->guid, guid) == 0 && mb->uidvalidity == uv)
		return 0;
	if (!(strcmp(eguid, "-") == 0 ? mb->guid[0] == '\0' :
	    strcmp(eguid, mb->guid) == 0) || euv != mb->uidvalidity) {
		refuse(a, c, "another mailbox now holds the name");
		return EX_TEMPFAIL;
	}
	if (uv != mb->uidvalidity)
		return mbtx_replace(tx, guid, uv, 1);
	return mbtx_create(tx, guid, uv, mb->uidnext);
}

static int
apply_add(struct applier *a, struct mbtx *tx, struct change *c)
{
	const struct msg *m;
	struct strvec kw = STRVEC_INIT;
	uint32_t uid;
	int64_t mtime;
	int st = 0;

	parse_u32(c->w[2], &uid);
	parse_i64(c->w[4], &mtime);
	keywords_of(c, c->type == R_COPY ? 10 : 7, &kw);
	m = mailbox_find_uid(mbtx_mailbox(tx), uid);
	if (m != NULL && strcmp(m->base, c->w[3]) != 0)
		refuse(a, c, "the UID holds another message on the replica");
	else if (m != NULL)
		;	/* there already: its flags are FLAGS records' business */
	else if (c->reused)
		refuse(a, c, "the replica gave out this UID and expunged it");
	else if (c->staged == NULL)
		refuse(a, c, "the message to copy is not on the replica");
	else
		st = mbtx_add(tx, uid, c->w[3], c->w[6], &kw, mtime,
		    c->staged);
	sv_free(&kw);
	return st;
}

static int
apply_flags(struct applier *a, struct mbtx *tx, struct change *c)
{
	const struct msg *m;
	struct strvec kw = STRVEC_INIT;
	uint32_t uid;
	int st = 0;

	parse_u32(c->w[2], &uid);
	m = mailbox_find_uid(mbtx_mailbox(tx), uid);
	if (m == NULL || strcmp(m->base, c->w[3]) != 0)
		refuse(a, c, "the message is not on the replica");
	else {
		keywords_of(c, 5, &kw);
		st = mbtx_set_flags(tx, uid, c->w[4], &kw);
		sv_free(&kw);
	}
	return st;
}

static int
apply_expunge(struct applier *a, struct mbtx *tx, struct change *c)
{
	const struct msg *m;
	uint32_t uid;

	parse_u32(c->w[2], &uid);
	m = mailbox_find_uid(mbtx_mailbox(tx), uid);
	if (m == NULL)
		return 0;
	if (strcmp(m->base, c->w[3]) != 0) {
		refuse(a, c, "the UID holds another message on the replica");
		return 0;
	}
	return mbtx_expunge(tx, uid);
}

/*
 * The replica is as the diff saw it: same identity and next UID.  Then the
 * diff knew which UIDs the replica lacks, and adding them is right.
 */
static int
as_diffed(const struct mailbox *mb, const struct change *c)
{
	uint32_t euv, enext;

	parse_u32(c->w[6], &euv);
	parse_u32(c->w[7], &enext);
	return (strcmp(c->w[5], "-") == 0 ? mb->guid[0] == '\0' :
	    strcmp(c->w[5], mb->guid) == 0) && mb->uidvalidity == euv &&
	    mb->uidnext == enext;
}

/*
 * An ADD or COPY of a UID below the replica's next UID that the replica
 * does not hold (any more), when the replica moved on since the diff, comes
 * from an old bundle applied late: marked here, against the mailbox as it
 * was before this bundle, and refused, so that a later state is not undone.
 */
static void
mark_reused(struct applier *a, struct mbtx *tx, size_t i, size_t end)
{
	const struct mailbox *mb = mbtx_mailbox(tx);
	uint32_t uid, uv;

	parse_u32(a->ch[i].w[3], &uv);
	if (!mb->exists || mb->uidvalidity != uv || as_diffed(mb, &a->ch[i]))
		return;
	for (i++; i < end; i++) {
		if (a->ch[i].type != R_ADD && a->ch[i].type != R_COPY)
			continue;
		parse_u32(a->ch[i].w[2], &uid);
		a->ch[i].reused = uid < mb->uidnext &&
		    mailbox_find_uid(mb, uid) == NULL;
	}
}

/* The message records after a MAILBOX record: [*i, end). */
static size_t
mailbox_span(const struct applier *a, size_t i)
{
	const char *name = a->ch[i].w[1];

	for (i++; i < a->nch; i++) {
		if (a->ch[i].type != R_ADD && a->ch[i].type != R_COPY &&
		    a->ch[i].type != R_FLAGS &&
		    a->ch[i].type != R_EXPUNGE)
			break;
		if (strcmp(a->ch[i].w[1], name) != 0)
			break;
	}
	return i;
}

static int
apply_mailbox(struct applier *a, size_t i, size_t end)
{
	struct change *c = &a->ch[i];
	unsigned long refused = a->refused;
	struct mbtx *tx;
	uint32_t next;
	int st;

	parse_u32(c->w[4], &next);
	if ((st = mbtx_begin(&a->store, c->w[1], &tx)) != 0)
		return st;
	mark_reused(a, tx, i, end);
	if ((st = open_identity(a, tx, c)) != 0) {
		mbtx_abort(tx);
		return st == EX_TEMPFAIL ? 0 : st;
	}
	for (i++; st == 0 && i < end; i++) {
		c = &a->ch[i];
		if (c->type == R_ADD || c->type == R_COPY)
			st = apply_add(a, tx, c);
		else if (c->type == R_FLAGS)
			st = apply_flags(a, tx, c);
		else
			st = apply_expunge(a, tx, c);
	}
	if (st != 0) {
		mbtx_abort(tx);
		return st;
	}
	if (a->refused == refused)
		mbtx_set_uidnext(tx, next);
	/* Announced before the commit: a crash between the two leaves an
	 * extra entry, which is harmless, rather than a missing one. */
	if ((st = emit(a, "MAILBOX", a->ch[end - 1].w[1], NULL)) != 0) {
		mbtx_abort(tx);
		return st;
	}
	return mbtx_commit(tx);
}

/* The Cyrus-style name of a subscribed folder ("Archive/2024"). */
static char *
subs_mailbox(const char *userid, const char *name)
{
	char *inbox = userid_inbox(userid), *p, *full;

	if (strcmp(name, "INBOX") == 0)
		return inbox;
	full = xasprintf("%s.%s", inbox, name);
	for (p = full + strlen(inbox) + 1; *p != '\0'; p++)
		if (*p == '/')
			*p = '.';
	free(inbox);
	return full;
}

static int
emit_sub(struct applier *a, const char *type, const char *userid,
    const char *name)
{
	char *mbox = subs_mailbox(userid, name);
	int st = emit(a, type, userid, mbox);

	free(mbox);
	return st;
}

/* Writes the subscriptions in the order given (the master's) and names
 * each one added or removed as an applied entry. */
static int
apply_subs(struct applier *a, const struct change *c)
{
	struct strvec old = STRVEC_INIT, new = STRVEC_INIT, sorted = STRVEC_INIT;
	size_t i;
	int st;

	if ((st = store_read_subs(&a->store, c->w[1], &old)) != 0)
		return st;
	for (i = 2; i < (size_t)c->nw; i++) {
		sv_push(&new, c->w[i]);
		sv_push(&sorted, c->w[i]);
	}
	sv_sort_uniq(&old);
	sv_sort_uniq(&sorted);
	for (i = 0; st == 0 && i < sorted.n; i++)
		if (!sv_contains(&old, sorted.v[i]))
			st = emit_sub(a, "SUB", c->w[1], sorted.v[i]);
	for (i = 0; st == 0 && i < old.n; i++)
		if (!sv_contains(&sorted, old.v[i]))
			st = emit_sub(a, "UNSUB", c->w[1], old.v[i]);
	if (st == 0)
		st = store_write_subs(&a->store, c->w[1], &new);
	sv_free(&old);
	sv_free(&new);
	sv_free(&sorted);
	return st;
}

static int
apply_other(struct applier *a, struct change *c)
{
	uint32_t uv;
	int64_t mtime;
	int st;

	switch (c->type) {
	case R_UNMAILBOX:
		parse_u32(c->w[3], &uv);
		st = emit(a, "UNMAILBOX", c->w[1], NULL);
		if (st == 0)
			st = store_delete_mailbox(&a->store, c->w[1],
			    strcmp(c->w[2], "-") ? c->w[2] : "", uv, 1);
		if (st == EX_TEMPFAIL) {
			refuse(a, c, "another mailbox now holds the name");
			st = 0;
		}
		return st;
	case R_RENAME:
		parse_u32(c->w[4], &uv);
		if ((st = emit(a, "RENAME", c->w[1], c->w[2])) != 0)
			return st;
		st = store_rename_mailbox(&a->store, c->w[1], c->w[2], c->w[3],
		    uv);
		if (st == EX_TEMPFAIL) {
			refuse(a, c, "not the mailbox the change list saw");
			st = 0;
		}
		return st;
	case R_SUBS:
		return apply_subs(a, c);
	case R_SIEVE:
		parse_i64(c->w[4], &mtime);
		if ((st = emit(a, "SIEVE", c->w[1], NULL)) != 0)
			return st;
		return store_put_sieve(&a->store, c->w[1], c->w[2], c->staged,
		    mtime);
	case R_UNSIEVE:
		if ((st = emit(a, "SIEVE", c->w[1], NULL)) != 0)
			return st;
		return store_delete_sieve(&a->store, c->w[1], c->w[2]);
	case R_ACTIVE:
		if ((st = emit(a, "SIEVE", c->w[1], NULL)) != 0)
			return st;
		return store_set_active_sieve(&a->store, c->w[1],
		    c->nw == 3 ? c->w[2] : NULL);
	case R_UNUSER:
		if ((st = emit(a, "UNUSER", c->w[1], NULL)) != 0)
			return st;
		return store_delete_user(&a->store, c->w[1]);
	case R_CONFLICT:
		sp_info("%s: UID %s: %s", c->w[1], c->w[2], c->w[3]);
		return 0;
	default:
		sp_err("%s:%lu: %s record outside a mailbox", a->inname,
		    c->lineno, c->w[0]);
		return EX_DATAERR;
	}
}

static int
apply_all(struct applier *a)
{
	size_t i = 0, end;
	int st = 0;

	while (i < a->nch && st == 0) {
		if (a->ch[i].type == R_MAILBOX) {
			end = mailbox_span(a, i);
			st = apply_mailbox(a, i, end);
			i = end;
		} else
			st = apply_other(a, &a->ch[i++]);
		if (st == 0 && sp_stop) {
			sp_err("stopped by a signal after %zu of %zu records",
			    i, a->nch);
			st = EX_TEMPFAIL;
		}
	}
	/* A refused change leaves the applied entries without their tail:
	 * the batch is not done, and the pipeline's last program says so. */
	if (st == 0 && a->status == 0) {
		fprintf(a->outfp, "%%end %lu\n", a->entries);
		if (fflush(a->outfp) == EOF) {
			sp_syserr("cannot write applied entries");
			st = EX_IOERR;
		}
	}
	return st;
}

static void
applier_free(struct applier *a)
{
	size_t i;
	int j;

	for (i = 0; i < a->nch; i++) {
		for (j = 0; j < a->ch[i].nw; j++)
			free(a->ch[i].w[j]);
		free(a->ch[i].w);
		free(a->ch[i].staged);
	}
	free(a->ch);
	sb_free(&a->out);
}

int
apply_bundle(const char *root, FILE *in, const char *inname, FILE *out)
{
	struct applier a;
	double t0 = now_mono();
	int st, lockfd;

	memset(&a, 0, sizeof(a));
	a.outfp = out;
	a.inname = inname;
	/* The head goes out first: if anything below fails, the applied
	 * entries end without their tail and sync-relog fails as well. */
	fprintf(out, "%%syncpipe applied 1\n");
	fflush(out);
	if ((st = store_open(&a.store, root, STORE_CREATE)) != 0)
		return st;
	if (a.store.absent) {
		sp_err("%s: not a directory", root);
		store_close(&a.store);
		return EX_CANTCREAT;
	}
	if ((st = store_become_owner(&a.store)) != 0 ||
	    (st = store_lock_writer(&a.store, &lockfd)) != 0) {
		store_close(&a.store);
		return st;
	}
	if ((st = read_bundle(&a, in)) == 0)
		st = apply_all(&a);
	store_unstage(&a.store);
	st = sp_status_worst(st, a.status);
	sp_debug("applied %zu records, %lu entries, %.2fs%s", a.nch,
	    a.entries, now_mono() - t0, a.status ? ", some refused" : "");
	store_close(&a.store);
	close(lockfd);
	applier_free(&a);
	return st;
}

