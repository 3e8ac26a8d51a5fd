/*
 * coalesce: shrinking a batch of entries the way Cyrus's rolling client
 * does before it replays them (rules in synclog.h).
 *
 * APPEND m counts as MAILBOX m.  Every distinct canonical line is one
 * record, found again through an open-addressing hash table; every record
 * belongs to an owner (the user id an entry is about, "" for mailboxes
 * outside any user's or whose names mbox_owner() refuses: those are never
 * subsumed), and owners keep the list of their records.  An UNUSER marks
 * the records it subsumes dead; the same line coming again later revives it
 * at its new place, so that "UNUSER u" followed by a fresh "USER u" keeps
 * both, in that order.
 */
#include <stdlib.h>
#include <string.h>

#include "names.h"
#include "synclog.h"

struct record {
	char		*line;		/* canonical, with its LF */
	enum entry_type	 type;
	size_t		 owner;
	int		 all_owned;	/* every name in it is the owner's */
	int		 dead;
	unsigned long	 seq;
};

struct owner {
	char		*id;
	size_t		*recs;
	size_t		 nrecs;
	size_t		 cap;
};

/* A slot holds an index + 1 (0: empty) and the hash of its key. */
struct slot {
	size_t		 idx;
	size_t		 hash;
};

struct table {
	struct slot	*slots;
	size_t		 cap;		/* a power of two */
	size_t		 used;
};

struct coalescer {
	struct record	*recs;
	size_t		 nrecs, reccap;
	struct owner	*owners;
	size_t		 nowners, ownercap;
	struct table	 lines;
	struct table	 ids;
	unsigned long	 seq;
};

/* FNV-1a: a plain table hash, nothing rides on it but speed. */
static size_t
str_hash(const char *s)
{
	uint64_t h = 14695981039346656037ULL;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	/* FNV's low bits vary too little for names that differ at the end. */
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return (size_t)h;
}

static const char *
rec_key(const struct coalescer *c, const struct table *t, size_t i)
{
	return t == &c->lines ? c->recs[i].line : c->owners[i].id;
}

/* The slot where key is, or the empty slot where it would go. */
static size_t
table_slot(const struct coalescer *c, const struct table *t, const char *key,
    size_t hash)
{
	size_t	 mask = t->cap - 1, i = hash & mask;

	while (t->slots[i].idx != 0 && (t->slots[i].hash != hash ||
	    strcmp(rec_key(c, t, t->slots[i].idx - 1), key) != 0))
		i = (i + 1) & mask;
	return i;
}

static void
table_grow(struct table *t)
{
	struct table old = *t;
	size_t	 i, j, mask;

	t->cap = old.cap == 0 ? 64 : old.cap * 2;
	t->slots = xcalloc(t->cap, sizeof(*t->slots));
	mask = t->cap - 1;
	for (i = 0; i < old.cap; i++) {
		if (old.slots[i].idx == 0)
			continue;
		for (j = old.slots[i].hash & mask; t->slots[j].idx != 0;
		    j = (j + 1) & mask)
			;
		t->slots[j] = old.slots[i];
	}
	free(old.slots);
}

/*
 * The index stored for key, or -1: then *slot is where to store it (its
 * hash is there already; the caller sets idx and counts it in used).
 */
static long
table_find(struct coalescer *c, struct table *t, const char *key,
    size_t *slot)
{
	size_t	 hash = str_hash(key);

	if ((t->used + 1) * 2 > t->cap)
		table_grow(t);
	*slot = table_slot(c, t, key, hash);
	if (t->slots[*slot].idx != 0)
		return (long)(t->slots[*slot].idx - 1);
	t->slots[*slot].hash = hash;
	return -1;
}

static size_t
owner_index(struct coalescer *c, const char *id)
{
	size_t	 slot;
	long	 i;

	if ((i = table_find(c, &c->ids, id, &slot)) != -1)
		return (size_t)i;
	if (c->nowners == c->ownercap) {
		c->ownercap = c->ownercap == 0 ? 16 : c->ownercap * 2;
		c->owners = xreallocarray(c->owners, c->ownercap,
		    sizeof(*c->owners));
	}
	memset(&c->owners[c->nowners], 0, sizeof(*c->owners));
	c->owners[c->nowners].id = xstrdup(id);
	c->ids.slots[slot].idx = ++c->nowners;
	c->ids.used++;
	return c->nowners - 1;
}

static int
user_type(enum entry_type t)
{
	return t == E_USER || t == E_UNUSER || t == E_META || t == E_SIEVE ||
	    t == E_SEEN || t == E_SUB || t == E_UNSUB;
}

/* Owner of e into *owner (to free); returns whether all of e is its. */
static int
entry_owner(const struct entry *e, char **owner)
{
	char	*o2;
	int	 all;

	if (user_type(e->type)) {
		*owner = xstrdup(e->arg1);
		return 1;
	}
	*owner = mbox_owner(e->arg1);
	if (e->arg2 == NULL)
		all = *owner != NULL;
	else {
		o2 = mbox_owner(e->arg2);
		all = *owner != NULL && o2 != NULL && strcmp(*owner, o2) == 0;
		free(o2);
	}
	if (*owner == NULL)
		*owner = xstrdup("");
	return all;
}

static void
owner_push(struct owner *o, size_t rec)
{
	if (o->nrecs == o->cap) {
		o->cap = o->cap == 0 ? 8 : o->cap * 2;
		o->recs = xreallocarray(o->recs, o->cap, sizeof(*o->recs));
	}
	o->recs[o->nrecs++] = rec;
}

static size_t
record_new(struct coalescer *c, char *line, size_t slot,
    const struct entry *e)
{
	struct record *r;
	char	*owner;

	if (c->nrecs == c->reccap) {
		c->reccap = c->reccap == 0 ? 64 : c->reccap * 2;
		c->recs = xreallocarray(c->recs, c->reccap, sizeof(*c->recs));
	}
	r = &c->recs[c->nrecs];
	r->line = line;
	r->type = e->type;
	r->all_owned = entry_owner(e, &owner);
	r->dead = 0;
	r->seq = ++c->seq;
	c->lines.slots[slot].idx = ++c->nrecs;
	c->lines.used++;
	r->owner = owner_index(c, owner);
	free(owner);
	owner_push(&c->owners[r->owner], c->nrecs - 1);
	return c->nrecs - 1;
}

/* UNUSER: everything of the user before it is subsumed. */
static void
kill_owned(struct coalescer *c, size_t keep)
{
	struct owner *o = &c->owners[c->recs[keep].owner];
	size_t	 i;

	for (i = 0; i < o->nrecs; i++)
		if (o->recs[i] != keep && c->recs[o->recs[i]].all_owned)
			c->recs[o->recs[i]].dead = 1;
	c->recs[keep].seq = ++c->seq;
}

struct coalescer *
coalescer_new(void)
{
	return xcalloc(1, sizeof(struct coalescer));
}

void
coalescer_add(struct coalescer *c, const struct entry *e)
{
	struct strbuf sb = STRBUF_INIT;
	struct entry mbox;
	size_t	 slot, rec;
	long	 i;

	/* A delivery is one more change to the mailbox, as for Cyrus. */
	if (e->type == E_APPEND) {
		mbox = *e;
		mbox.type = E_MAILBOX;
		e = &mbox;
	}
	entry_format(&sb, e);
	if ((i = table_find(c, &c->lines, sb.s, &slot)) != -1) {
		rec = (size_t)i;
		sb_free(&sb);
		if (c->recs[rec].dead) {
			c->recs[rec].dead = 0;
			c->recs[rec].seq = ++c->seq;
		}
	} else
		rec = record_new(c, sb_detach(&sb), slot, e);
	if (e->type == E_UNUSER)
		kill_owned(c, rec);
}

static const struct coalescer *sort_ctx;

static int
by_seq(const void *a, const void *b)
{
	unsigned long x = sort_ctx->recs[*(const size_t *)a].seq;
	unsigned long y = sort_ctx->recs[*(const size_t *)b].seq;

	return x < y ? -1 : x > y;
}

static int
subsumed_by_user(enum entry_type t)
{
	return t == E_META || t == E_SIEVE || t == E_SEEN || t == E_SUB ||
	    t == E_UNSUB;
}

static size_t
emit_owner(struct coalescer *c, struct owner *o, struct strbuf *sb)
{
	const struct record *r;
	size_t	 i, n = 0;
	int	 user = 0;

	for (i = 0; i < o->nrecs; i++) {
		r = &c->recs[o->recs[i]];
		if (!r->dead && r->type == E_USER)
			user = 1;
	}
	sort_ctx = c;
	qsort(o->recs, o->nrecs, sizeof(*o->recs), by_seq);
	for (i = 0; i < o->nrecs; i++) {
		r = &c->recs[o->recs[i]];
		if (r->dead || (user && subsumed_by_user(r->type)))
			continue;
		sb_adds(sb, r->line);
		n++;
	}
	return n;
}

size_t
coalescer_emit(struct coalescer *c, struct strbuf *sb)
{
	size_t	 i, n = 0;

	for (i = 0; i < c->nowners; i++)
		n += emit_owner(c, &c->owners[i], sb);
	return n;
}

void
coalescer_free(struct coalescer *c)
{
	size_t	 i;

	if (c == NULL)
		return;
	for (i = 0; i < c->nrecs; i++)
		free(c->recs[i].line);
	for (i = 0; i < c->nowners; i++) {
		free(c->owners[i].id);
		free(c->owners[i].recs);
	}
	free(c->recs);
	free(c->owners);
	free(c->lines.slots);
	free(c->ids.slots);
	free(c);
}
