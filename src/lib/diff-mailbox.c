/*
 * diff-mailbox: the mailboxes of one user, master against replica.
 *
 * Both sides of every mailbox named are read first, so that what moved
 * between mailboxes can be recognised:
 * - a master mailbox missing on the replica under its name, whose GUID a
 *   replica mailbox missing on the master has, was renamed: one RENAME
 *   record, and the messages are compared as usual afterwards;
 * - a message to add whose bytes the replica already holds in a mailbox
 *   read here (a copy or a move on the master) becomes a COPY record that
 *   names the replica's message instead of carrying the body.
 * Split brain (messages that exist only on the replica and that the master
 * never numbered) is resolved without loss before comparing: with rescue on,
 * such messages are copied into the master's mailbox, where they get new
 * UIDs, and the replica then renumbers its copies to match.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "diff.h"
#include "names.h"

#define COPY_CANDIDATES	4	/* same-size bodies compared per message */

struct pair {
	char		*name;
	struct mailbox	 m, r;
	int		 head;		/* MAILBOX record written */
};

/* A replica message that may serve as the source of a copy. */
struct body_ref {
	uint64_t	 size;
	const char	*mailbox;
	const struct msg *msg;
};

struct group {
	struct differ	*d;
	struct pair	*p;
	size_t		 n;
	struct body_ref	*refs;		/* by size */
	size_t		 nrefs;
};

static int
emit_head(struct group *g, struct pair *p)
{
	struct strbuf *sb;

	if (p->head)
		return 0;
	p->head = 1;
	sb = sw_rec(g->d->out, R_MAILBOX);
	rec_word(sb, p->name);
	rec_word(sb, p->m.guid);
	sb_addf(sb, " %" PRIu32 " %" PRIu32, p->m.uidvalidity, p->m.uidnext);
	if (p->r.exists) {
		rec_word(sb, p->r.guid[0] ? p->r.guid : "-");
		sb_addf(sb, " %" PRIu32 " %" PRIu32, p->r.uidvalidity,
		    p->r.uidnext);
	} else
		sb_adds(sb, " - 0 0");
	g->d->st.changes++;
	return sw_rec_end(g->d->out);
}

static void
add_flags(struct strbuf *sb, const struct msg *msg)
{
	size_t i;

	rec_word(sb, msg->flags);
	for (i = 0; i < msg->keywords.n; i++)
		rec_word(sb, msg->keywords.v[i]);
}

/* Starts a message record: MAILBOX head first if needed. */
static struct strbuf *
msg_rec(struct group *g, struct pair *p, enum rec_type t,
    const struct msg *msg)
{
	struct strbuf *sb;

	if (emit_head(g, p) != 0)
		return NULL;
	sb = sw_rec(g->d->out, t);
	rec_word(sb, p->name);
	sb_addf(sb, " %" PRIu32, msg->uid);
	rec_word(sb, msg->base);
	g->d->st.changes++;
	return sb;
}

static int
emit_flags(struct group *g, struct pair *p, const struct msg *msg)
{
	struct strbuf *sb = msg_rec(g, p, R_FLAGS, msg);

	if (sb == NULL)
		return g->d->out->failed;
	add_flags(sb, msg);
	return sw_rec_end(g->d->out);
}

static int
emit_expunge(struct group *g, struct pair *p, const struct msg *msg)
{
	if (msg_rec(g, p, R_EXPUNGE, msg) == NULL)
		return g->d->out->failed;
	return sw_rec_end(g->d->out);
}

static int
emit_conflict(struct group *g, struct pair *p, uint32_t uid,
    const char *what)
{
	struct strbuf *sb;

	if (emit_head(g, p) != 0)
		return g->d->out->failed;
	sb = sw_rec(g->d->out, R_CONFLICT);
	rec_word(sb, p->name);
	sb_addf(sb, " %" PRIu32, uid);
	rec_word(sb, what);
	g->d->st.changes++;
	g->d->st.conflicts++;
	sp_info("%s: UID %" PRIu32 ": %s", p->name, uid, what);
	return sw_rec_end(g->d->out);
}

/* Copies */

/* 1 if the master's message and the replica's candidate are the same. */
static int
same_body(struct group *g, const char *mailbox, const struct msg *mm,
    const struct body_ref *ref)
{
	int a = -1, b = -1, same = 0;

	if (store_open_msg(g->d->master, mailbox, mm->base, &a, NULL) == 0 &&
	    store_open_msg(g->d->replica, ref->mailbox, ref->msg->base, &b,
	    NULL) == 0)
		same = same_content(a, b) == 1;
	if (a >= 0)
		close(a);
	if (b >= 0)
		close(b);
	return same;
}

/*
 * A replica message with the same bytes as the master's message mm.  Among
 * the replica's messages of that size, one with the same base name comes
 * first (Dovecot keeps the name when it copies or moves); then a few others
 * are compared.
 */
static const struct body_ref *
find_copy(struct group *g, const char *mailbox, const struct msg *mm)
{
	size_t lo = 0, hi = g->nrefs, mid, i, tried = 0;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (g->refs[mid].size < mm->size)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (i = lo; i < g->nrefs && g->refs[i].size == mm->size; i++)
		if (strcmp(g->refs[i].msg->base, mm->base) == 0 &&
		    same_body(g, mailbox, mm, &g->refs[i]))
			return &g->refs[i];
	for (i = lo; i < g->nrefs && g->refs[i].size == mm->size &&
	    tried < COPY_CANDIDATES; i++) {
		if (strcmp(g->refs[i].msg->base, mm->base) == 0)
			continue;
		tried++;
		if (same_body(g, mailbox, mm, &g->refs[i]))
			return &g->refs[i];
	}
	return NULL;
}

/* ADD, or COPY when the replica already holds the same bytes. */
static int
emit_add(struct group *g, struct pair *p, const struct msg *mm)
{
	const struct body_ref *src = find_copy(g, p->name, mm);
	struct strbuf *sb = msg_rec(g, p, src ? R_COPY : R_ADD, mm);
	size_t i;

	if (sb == NULL)
		return g->d->out->failed;
	sb_addf(sb, " %" PRId64 " %" PRIu64, mm->mtime, mm->size);
	rec_word(sb, mm->flags);
	if (src != NULL) {
		rec_word(sb, src->mailbox);
		sb_addf(sb, " %" PRIu32, src->msg->uid);
		rec_word(sb, src->msg->base);
		g->d->st.copies++;
	} else {
		g->d->st.adds++;
		g->d->st.add_bytes += mm->size;
	}
	for (i = 0; i < mm->keywords.n; i++)
		rec_word(sb, mm->keywords.v[i]);
	return sw_rec_end(g->d->out);
}

static int
ref_cmp(const void *a, const void *b)
{
	const struct body_ref *x = a, *y = b;

	return x->size < y->size ? -1 : x->size > y->size;
}

static void
index_bodies(struct group *g)
{
	size_t i, j;

	for (i = 0; i < g->n; i++) {
		if (!g->p[i].r.exists)
			continue;
		for (j = 0; j < g->p[i].r.nmsgs; j++) {
			if (g->p[i].r.msgs[j].uid == 0)
				continue;
			g->refs = xreallocarray(g->refs, g->nrefs + 1,
			    sizeof(*g->refs));
			g->refs[g->nrefs].size = g->p[i].r.msgs[j].size;
			g->refs[g->nrefs].mailbox = g->p[i].name;
			g->refs[g->nrefs++].msg = &g->p[i].r.msgs[j];
		}
	}
	if (g->nrefs > 1)
		qsort(g->refs, g->nrefs, sizeof(*g->refs), ref_cmp);
}

/* Renames */

static int
is_inbox(const char *name)
{
	struct mbname mb;
	const char *why;
	int inbox;

	if (mbname_parse(name, &mb, &why) != 0)
		return 1;
	inbox = mb.folder == NULL;
	mbname_free(&mb);
	return inbox;
}

/* A replica mailbox j that is master mailbox i under its old name. */
static int
renamed(const struct pair *i, const struct pair *j)
{
	return i->m.exists && !i->r.exists && i->m.guid[0] != '\0' &&
	    j->r.exists && !j->m.exists &&
	    strcmp(i->m.guid, j->r.guid) == 0 &&
	    i->m.uidvalidity == j->r.uidvalidity &&
	    !is_inbox(i->name) && !is_inbox(j->name);
}

static int
emit_rename(struct group *g, struct pair *to, struct pair *from)
{
	struct strbuf *sb = sw_rec(g->d->out, R_RENAME);

	rec_word(sb, from->name);
	rec_word(sb, to->name);
	rec_word(sb, from->r.guid);
	sb_addf(sb, " %" PRIu32, from->r.uidvalidity);
	g->d->st.changes++;
	g->d->st.renames++;

	/* From here on the replica's mailbox is at the new name. */
	mailbox_free(&to->r);
	to->r = from->r;
	free(to->r.name);
	to->r.name = xstrdup(to->name);
	memset(&from->r, 0, sizeof(from->r));
	return sw_rec_end(g->d->out);
}

static int
find_renames(struct group *g)
{
	size_t i, j;
	int st = 0;

	for (i = 0; st == 0 && i < g->n; i++)
		for (j = 0; j < g->n; j++)
			if (i != j && renamed(&g->p[i], &g->p[j])) {
				st = emit_rename(g, &g->p[i], &g->p[j]);
				break;
			}
	return st;
}

/* Comparing */

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

static size_t
listed(const struct mailbox *mb)
{
	size_t n = 0;

	while (n < mb->nmsgs && mb->msgs[n].uid != 0)
		n++;
	return n;
}

/* Does the master's mailbox hold a message with this base name? */
static int
master_has(const struct mailbox *m, const char *base)
{
	size_t i;

	/* XXX: linear; a sorted index would do for very large mailboxes */
	for (i = 0; i < m->nmsgs; i++)
		if (strcmp(m->msgs[i].base, base) == 0)
			return 1;
	return 0;
}

static int
diff_pair(struct group *g, struct pair *p, const struct msg *mm,
    const struct msg *rm)
{
	char what[600];
	int st;

	if (rm == NULL)
		return emit_add(g, p, mm);
	if (mm == NULL) {
		/* Expunged on the master, or a copy of a master message
		 * that a reader on the replica numbered itself. */
		if (rm->uid < p->m.uidnext || master_has(&p->m, rm->base))
			return emit_expunge(g, p, rm);
		snprintf(what, sizeof(what), "only on the replica, at or "
		    "above the master's next UID: %s", rm->base);
		return emit_conflict(g, p, rm->uid, what);
	}
	if (strcmp(mm->base, rm->base) != 0) {
		if (master_has(&p->m, rm->base)) {
			/* The replica's message lives on elsewhere in the
			 * master's mailbox: this UID is the master's. */
			if ((st = emit_expunge(g, p, rm)) != 0)
				return st;
			return emit_add(g, p, mm);
		}
		snprintf(what, sizeof(what), "different messages: master "
		    "%.250s, replica %.250s", mm->base, rm->base);
		return emit_conflict(g, p, mm->uid, what);
	}
	if (!same_flags(mm, rm))
		return emit_flags(g, p, mm);
	return 0;
}

static int
diff_messages(struct group *g, struct pair *p)
{
	const struct mailbox *m = &p->m, *r = &p->r;
	size_t i = 0, j = 0, mn = listed(m), rn = listed(r);
	const struct msg *mm, *rm;
	int st = 0;

	if (strcmp(m->guid, r->guid) != 0 || r->uidnext < m->uidnext)
		st = emit_head(g, p);
	while (st == 0 && (i < mn || j < rn)) {
		mm = i < mn ? &m->msgs[i] : NULL;
		rm = j < rn ? &r->msgs[j] : NULL;
		if (mm && rm && mm->uid < rm->uid)
			rm = NULL;
		else if (mm && rm && rm->uid < mm->uid)
			mm = NULL;
		st = diff_pair(g, p, mm, rm);
		i += mm != NULL;
		j += rm != NULL;
	}
	if (r->nmsgs > rn)
		sp_debug("%s: %zu replica messages have no UID yet", p->name,
		    r->nmsgs - rn);
	return st;
}

static int rescue_mailbox(struct group *, struct pair *);
static int report_orphans(struct group *, struct pair *);

static int
named(const struct differ *d, const char *name)
{
	return d->named != NULL && sv_contains(d->named, name);
}

static int
diff_one(struct group *g, struct pair *p)
{
	struct strbuf *sb;
	size_t i;
	int st = 0;

	g->d->st.mailboxes++;
	if (!p->m.exists && p->r.exists && !named(g->d, p->name)) {
		/* Not deleted on the master by an entry that says so: a
		 * folder the replica made while it served (split brain). */
		if (!g->d->rescue)
			return emit_conflict(g, p, 0, "mailbox only on the "
			    "replica: not deleted");
		if ((st = rescue_mailbox(g, p)) != 0)
			return st;
	}
	if (!p->m.exists && p->r.exists) {
		sb = sw_rec(g->d->out, R_UNMAILBOX);
		rec_word(sb, p->name);
		rec_word(sb, p->r.guid[0] ? p->r.guid : "-");
		sb_addf(sb, " %" PRIu32, p->r.uidvalidity);
		g->d->st.changes++;
		return sw_rec_end(g->d->out);
	}
	if (!p->m.exists)
		return 0;
	if (p->r.exists && p->r.uidvalidity == p->m.uidvalidity)
		return diff_messages(g, p);
	if (p->r.exists && !g->d->rescue &&
	    (st = report_orphans(g, p)) != 0)
		return st;
	if ((st = emit_head(g, p)) != 0)
		return st;
	for (i = 0; st == 0 && i < p->m.nmsgs && p->m.msgs[i].uid != 0; i++)
		st = emit_add(g, p, &p->m.msgs[i]);
	return st;
}

/* Split brain */

/* Replica messages the master never numbered and does not hold.  When the
 * replica's mailbox is another one (its UIDVALIDITY differs: made anew on
 * the replica while it served), every message the master lacks is one. */
static int
orphan(const struct pair *p, const struct msg *rm)
{
	const struct msg *mm;

	if (rm->uid == 0 || master_has(&p->m, rm->base))
		return 0;
	if (p->r.uidvalidity != p->m.uidvalidity)
		return 1;
	if (rm->uid >= p->m.uidnext)
		return 1;
	mm = mailbox_find_uid(&p->m, rm->uid);
	return mm != NULL && strcmp(mm->base, rm->base) != 0;
}

/* Copies one replica message into the master's transaction. */
static int
rescue_one(struct group *g, struct pair *p, struct mbtx *tx,
    const struct msg *rm, uint32_t uid)
{
	const char *dir;
	char *staged;
	int in = -1, out = -1, st;

	if ((st = store_stage_dir(g->d->master, &dir)) != 0)
		return st;
	staged = xasprintf("%s/rescue.%" PRIu32, dir, uid);
	if ((st = store_open_msg(g->d->replica, p->name, rm->base, &in,
	    NULL)) != 0)
		goto out;
	if ((out = copy_to_new(in, staged)) < 0 || fsync(out) != 0) {
		sp_syserr("%s", staged);
		st = sp_errno_status(errno);
		goto out;
	}
	st = mbtx_add(tx, uid, rm->base, rm->flags, &rm->keywords, rm->mtime,
	    staged);
out:
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	free(staged);
	return st;
}

/* With --split-brain report: each orphan is a conflict, left alone. */
static int
report_orphans(struct group *g, struct pair *p)
{
	size_t i;
	int st = 0;

	if (p->r.uidvalidity == p->m.uidvalidity)
		return 0;	/* the comparison itself reports these */
	for (i = 0; st == 0 && i < p->r.nmsgs; i++)
		if (orphan(p, &p->r.msgs[i]))
			st = emit_conflict(g, p, p->r.msgs[i].uid, "only in "
			    "the replica's mailbox of another UIDVALIDITY, "
			    "which is kept aside when replaced");
	return st;
}

/*
 * Copies the replica's orphans into the master's mailbox with fresh UIDs,
 * then reads the master again: the comparison that follows renumbers the
 * replica's copies (EXPUNGE of the old UID, COPY to the new one).
 */
static int
rescue(struct group *g, struct pair *p)
{
	struct mbtx *tx;
	uint32_t uid, first;
	size_t i, n = 0;
	int st;

	for (i = 0; i < p->r.nmsgs; i++)
		n += orphan(p, &p->r.msgs[i]);
	if (n == 0)
		return 0;
	if ((st = mbtx_begin(g->d->master, p->name, &tx)) != 0)
		return st;
	/* An orphan keeps its UID where the master has not used it yet;
	 * the others get the next free ones. */
	first = 0;
	uid = mbtx_mailbox(tx)->uidnext;
	for (i = 0; st == 0 && i < p->r.nmsgs; i++) {
		if (!orphan(p, &p->r.msgs[i]))
			continue;
		if (p->r.msgs[i].uid > uid &&
		    p->r.uidvalidity == p->m.uidvalidity)
			uid = p->r.msgs[i].uid;
		if (first == 0)
			first = uid;
		st = rescue_one(g, p, tx, &p->r.msgs[i], uid++);
	}
	if (st != 0) {
		mbtx_abort(tx);
		return st;
	}
	mbtx_set_uidnext(tx, uid);
	if ((st = mbtx_commit(tx)) != 0)
		return st;
	sp_info("%s: %zu messages found only on the replica were copied to "
	    "the master as UIDs %" PRIu32 "-%" PRIu32, p->name, n, first,
	    uid - 1);
	g->d->st.rescued += n;
	mailbox_free(&p->m);
	memset(&p->m, 0, sizeof(p->m));
	return store_read_mailbox(g->d->master, p->name, &p->m, 1);
}

/*
 * A whole mailbox only on the replica, that no entry named: it is copied to
 * the master with its GUID, UIDVALIDITY and UIDs, and then compares equal.
 */
static int
rescue_mailbox(struct group *g, struct pair *p)
{
	struct mbtx *tx;
	size_t i;
	int st;

	if ((st = mbtx_begin(g->d->master, p->name, &tx)) != 0)
		return st;
	st = mbtx_create(tx, p->r.guid, p->r.uidvalidity, 1);
	for (i = 0; st == 0 && i < p->r.nmsgs; i++)
		if (p->r.msgs[i].uid != 0)
			st = rescue_one(g, p, tx, &p->r.msgs[i],
			    p->r.msgs[i].uid);
	if (st != 0) {
		mbtx_abort(tx);
		return st;
	}
	mbtx_set_uidnext(tx, p->r.uidnext);
	if ((st = mbtx_commit(tx)) != 0)
		return st;
	sp_info("%s: only on the replica: copied to the master with its %zu "
	    "messages", p->name, p->r.nmsgs);
	g->d->st.rescued += p->r.nmsgs;
	mailbox_free(&p->m);
	memset(&p->m, 0, sizeof(p->m));
	return store_read_mailbox(g->d->master, p->name, &p->m, 1);
}

int
diff_mailboxes(struct differ *d, const struct strvec *names)
{
	struct group g;
	size_t i;
	int st = 0;

	memset(&g, 0, sizeof(g));
	g.d = d;
	g.p = xcalloc(names->n ? names->n : 1, sizeof(*g.p));
	for (i = 0; st == 0 && i < names->n; i++, g.n++) {
		g.p[i].name = names->v[i];
		st = store_read_mailbox(d->master, names->v[i], &g.p[i].m, 1);
		if (st == 0)
			st = rview_read_mailbox(d->replica, d->remote,
			    names->v[i], &g.p[i].r);
	}
	for (i = 0; st == 0 && d->rescue && i < g.n; i++)
		if (g.p[i].m.exists && g.p[i].r.exists)
			st = rescue(&g, &g.p[i]);
	if (st == 0)
		st = find_renames(&g);
	if (st == 0)
		index_bodies(&g);
	for (i = 0; st == 0 && i < g.n; i++)
		st = diff_one(&g, &g.p[i]);
	for (i = 0; i < g.n; i++) {
		mailbox_free(&g.p[i].m);
		mailbox_free(&g.p[i].r);
	}
	free(g.p);
	free(g.refs);
	return st;
}
