/*
 * diff: master against replica, object by object (see diff.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "diff.h"

static int
emit_mailbox_head(struct differ *d, const struct mailbox *m,
    const struct mailbox *r)
{
	struct strbuf *sb = sw_rec(d->out, R_MAILBOX);

	rec_word(sb, m->name);
	rec_word(sb, m->guid);
	sb_addf(sb, " %" PRIu32 " %" PRIu32, m->uidvalidity, m->uidnext);
	if (r->exists) {
		rec_word(sb, r->guid[0] ? r->guid : "-");
		sb_addf(sb, " %" PRIu32, r->uidvalidity);
	} else
		sb_adds(sb, " - 0");
	d->st.changes++;
	return sw_rec_end(d->out);
}

static void
add_flags(struct strbuf *sb, const struct msg *msg)
{
	size_t i;

	rec_word(sb, msg->flags);
	for (i = 0; i < msg->keywords.n; i++)
		rec_word(sb, msg->keywords.v[i]);
}

static int
emit_add(struct differ *d, const char *name, const struct msg *msg)
{
	struct strbuf *sb = sw_rec(d->out, R_ADD);

	rec_word(sb, name);
	sb_addf(sb, " %" PRIu32, msg->uid);
	rec_word(sb, msg->base);
	sb_addf(sb, " %" PRId64 " %" PRIu64, msg->mtime, msg->size);
	add_flags(sb, msg);
	d->st.changes++;
	d->st.adds++;
	d->st.add_bytes += msg->size;
	return sw_rec_end(d->out);
}

static int
emit_flags(struct differ *d, const char *name, const struct msg *msg)
{
	struct strbuf *sb = sw_rec(d->out, R_FLAGS);

	rec_word(sb, name);
	sb_addf(sb, " %" PRIu32, msg->uid);
	rec_word(sb, msg->base);
	add_flags(sb, msg);
	d->st.changes++;
	return sw_rec_end(d->out);
}

static int
emit_expunge(struct differ *d, const char *name, const struct msg *msg)
{
	struct strbuf *sb = sw_rec(d->out, R_EXPUNGE);

	rec_word(sb, name);
	sb_addf(sb, " %" PRIu32, msg->uid);
	rec_word(sb, msg->base);
	d->st.changes++;
	return sw_rec_end(d->out);
}

static int
emit_conflict(struct differ *d, const char *name, uint32_t uid,
    const char *what)
{
	struct strbuf *sb = sw_rec(d->out, R_CONFLICT);

	rec_word(sb, name);
	sb_addf(sb, " %" PRIu32, uid);
	rec_word(sb, what);
	d->st.changes++;
	d->st.conflicts++;
	sp_info("%s: UID %" PRIu32 ": %s", name, uid, what);
	return sw_rec_end(d->out);
}

static int
same_flags(const struct msg *a, const struct msg *b)
{
	size_t i;

	if (strcmp(a->flags, b->flags) != 0 ||
	    a->keywords.n != b->keywords.n)
		return 0;
	for (i = 0; i < a->keywords.n; i++)
		if (strcmp(a->keywords.v[i], b->keywords.v[i]) != 0)
			return 0;
	return 1;
}

/* Every message of m, as for a new or replaced mailbox. */
static int
emit_all(struct differ *d, const struct mailbox *m, const struct mailbox *r)
{
	size_t i;
	int st;

	if ((st = emit_mailbox_head(d, m, r)) != 0)
		return st;
	for (i = 0; i < m->nmsgs && m->msgs[i].uid != 0; i++)
		if ((st = emit_add(d, m->name, &m->msgs[i])) != 0)
			return st;
	return 0;
}

/*
 * One step of the walk over both message lists in UID order: what the
 * replica needs about the message pair (either may be NULL).
 */
static int
diff_pair(struct differ *d, const struct mailbox *m, const struct msg *mm,
    const struct msg *rm)
{
	char what[600];

	if (rm == NULL)
		return emit_add(d, m->name, mm);
	if (mm == NULL) {
		if (rm->uid < m->uidnext)
			return emit_expunge(d, m->name, rm);
		snprintf(what, sizeof(what), "only on the replica, at or "
		    "above the master's next UID: %s", rm->base);
		return emit_conflict(d, m->name, rm->uid, what);
	}
	if (strcmp(mm->base, rm->base) != 0) {
		snprintf(what, sizeof(what), "different messages: master "
		    "%.250s, replica %.250s", mm->base, rm->base);
		return emit_conflict(d, m->name, mm->uid, what);
	}
	if (!same_flags(mm, rm))
		return emit_flags(d, m->name, mm);
	return 0;
}

static size_t
listed(const struct mailbox *mb)
{
	size_t n = 0;

	while (n < mb->nmsgs && mb->msgs[n].uid != 0)
		n++;
	return n;
}

static int
diff_messages(struct differ *d, const struct mailbox *m,
    const struct mailbox *r)
{
	size_t i = 0, j = 0, mn = listed(m), rn = listed(r);
	const struct msg *mm, *rm;
	int st = 0, head = 0;

	if (strcmp(m->guid, r->guid) != 0 || r->uidnext < m->uidnext) {
		if ((st = emit_mailbox_head(d, m, r)) != 0)
			return st;
		head = 1;
	}
	while (st == 0 && (i < mn || j < rn)) {
		mm = i < mn ? &m->msgs[i] : NULL;
		rm = j < rn ? &r->msgs[j] : NULL;
		if (mm && rm && mm->uid < rm->uid)
			rm = NULL;
		else if (mm && rm && rm->uid < mm->uid)
			mm = NULL;
		if (!head && (rm == NULL || mm == NULL ||
		    strcmp(mm->base, rm->base) != 0 || !same_flags(mm, rm))) {
			/* XXX: a conflict-only mailbox still gets a head */
			if ((st = emit_mailbox_head(d, m, r)) != 0)
				return st;
			head = 1;
		}
		st = diff_pair(d, m, mm, rm);
		i += mm != NULL;
		j += rm != NULL;
	}
	if (r->nmsgs > rn)
		sp_debug("%s: %zu replica messages have no UID yet",
		    m->name, r->nmsgs - rn);
	return st;
}

int
diff_mailbox(struct differ *d, const char *name)
{
	struct mailbox m, r;
	struct strbuf *sb;
	int st;

	memset(&m, 0, sizeof(m));
	memset(&r, 0, sizeof(r));
	d->st.mailboxes++;
	if ((st = store_read_mailbox(d->master, name, &m, 1)) != 0 ||
	    (st = store_read_mailbox(d->replica, name, &r, 0)) != 0)
		goto out;
	if (!m.exists && r.exists) {
		sb = sw_rec(d->out, R_UNMAILBOX);
		rec_word(sb, name);
		rec_word(sb, r.guid[0] ? r.guid : "-");
		sb_addf(sb, " %" PRIu32, r.uidvalidity);
		d->st.changes++;
		st = sw_rec_end(d->out);
	} else if (m.exists && (!r.exists || r.uidvalidity != m.uidvalidity))
		st = emit_all(d, &m, &r);
	else if (m.exists)
		st = diff_messages(d, &m, &r);
out:
	mailbox_free(&m);
	mailbox_free(&r);
	return st;
}

/* Subscriptions are compared as sets but sent in the master's order, so
 * that the replica's file comes out the same. */
int
diff_subs(struct differ *d, const char *userid)
{
	struct strvec m = STRVEC_INIT, r = STRVEC_INIT, ms = STRVEC_INIT;
	struct strbuf *sb;
	size_t i;
	int st, same;

	if ((st = store_read_subs(d->master, userid, &m)) != 0 ||
	    (st = store_read_subs(d->replica, userid, &r)) != 0)
		goto out;
	for (i = 0; i < m.n; i++)
		sv_push(&ms, m.v[i]);
	sv_sort_uniq(&ms);
	sv_sort_uniq(&r);
	same = ms.n == r.n;
	for (i = 0; same && i < ms.n; i++)
		same = strcmp(ms.v[i], r.v[i]) == 0;
	if (!same) {
		sb = sw_rec(d->out, R_SUBS);
		rec_word(sb, userid);
		for (i = 0; i < m.n; i++)
			rec_word(sb, m.v[i]);
		d->st.changes++;
		st = sw_rec_end(d->out);
	}
out:
	sv_free(&m);
	sv_free(&ms);
	sv_free(&r);
	return st;
}

/* 1 if the two scripts have the same bytes, 0 if not, -1 on error. */
static int
same_script(struct differ *d, const char *userid, const char *name)
{
	char a[8192], b[8192];
	int fa = -1, fb = -1, same = -1;
	ssize_t na, nb;

	if (store_open_sieve(d->master, userid, name, &fa) != 0 ||
	    store_open_sieve(d->replica, userid, name, &fb) != 0)
		goto out;
	do {
		na = read_full(fa, a, sizeof(a));
		nb = read_full(fb, b, sizeof(b));
		if (na < 0 || nb < 0)
			goto out;
	} while (na == nb && memcmp(a, b, na) == 0 && na > 0);
	same = na == nb && memcmp(a, b, na) == 0;
out:
	if (fa >= 0)
		close(fa);
	if (fb >= 0)
		close(fb);
	return same;
}

static const struct sieve_script *
find_script(const struct sieve_script *s, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(s[i].name, name) == 0)
			return &s[i];
	return NULL;
}

static int
emit_script(struct differ *d, enum rec_type t, const char *userid,
    const struct sieve_script *s)
{
	struct strbuf *sb = sw_rec(d->out, t);

	rec_word(sb, userid);
	rec_word(sb, s->name);
	if (t == R_SIEVE)
		sb_addf(sb, " %" PRIu64 " %" PRId64, s->size, s->mtime);
	d->st.changes++;
	return sw_rec_end(d->out);
}

static int
diff_scripts(struct differ *d, const char *userid,
    const struct sieve_script *ms, size_t mn,
    const struct sieve_script *rs, size_t rn)
{
	const struct sieve_script *o;
	size_t i;
	int st = 0, same;

	for (i = 0; st == 0 && i < mn; i++) {
		o = find_script(rs, rn, ms[i].name);
		same = o != NULL && o->size == ms[i].size;
		if (same && (same = same_script(d, userid, ms[i].name)) < 0)
			return EX_IOERR;
		if (!same)
			st = emit_script(d, R_SIEVE, userid, &ms[i]);
	}
	for (i = 0; st == 0 && i < rn; i++)
		if (find_script(ms, mn, rs[i].name) == NULL)
			st = emit_script(d, R_UNSIEVE, userid, &rs[i]);
	return st;
}

int
diff_sieve(struct differ *d, const char *userid)
{
	struct sieve_script *ms = NULL, *rs = NULL;
	char *ma = NULL, *ra = NULL;
	size_t mn = 0, rn = 0;
	struct strbuf *sb;
	int st;

	if ((st = store_read_sieve(d->master, userid, &ms, &mn, &ma)) != 0 ||
	    (st = store_read_sieve(d->replica, userid, &rs, &rn, &ra)) != 0)
		goto out;
	st = diff_scripts(d, userid, ms, mn, rs, rn);
	if (st == 0 && !((ma == NULL && ra == NULL) ||
	    (ma && ra && strcmp(ma, ra) == 0))) {
		sb = sw_rec(d->out, R_ACTIVE);
		rec_word(sb, userid);
		if (ma != NULL)
			rec_word(sb, ma);
		d->st.changes++;
		st = sw_rec_end(d->out);
	}
out:
	sieve_scripts_free(ms, mn);
	sieve_scripts_free(rs, rn);
	free(ma);
	free(ra);
	return st;
}

int
diff_user(struct differ *d, const char *userid)
{
	struct strvec names = STRVEC_INIT, rnames = STRVEC_INIT;
	struct strbuf *sb;
	size_t i;
	int st;

	if (!store_user_exists(d->master, userid)) {
		if (!store_user_exists(d->replica, userid))
			return 0;
		sb = sw_rec(d->out, R_UNUSER);
		rec_word(sb, userid);
		d->st.changes++;
		return sw_rec_end(d->out);
	}
	if ((st = store_list_mailboxes(d->master, userid, &names)) != 0 ||
	    (st = store_list_mailboxes(d->replica, userid, &rnames)) != 0)
		goto out;
	for (i = 0; i < rnames.n; i++)
		sv_push(&names, rnames.v[i]);
	sv_sort_uniq(&names);
	for (i = 0; st == 0 && i < names.n; i++)
		st = diff_mailbox(d, names.v[i]);
	if (st == 0)
		st = diff_subs(d, userid);
	if (st == 0)
		st = diff_sieve(d, userid);
out:
	sv_free(&names);
	sv_free(&rnames);
	return st;
}
