/*
 * proto: greeting, replies and the state stream of the wire protocol (see
 * proto.h).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"
#include "stream.h"

static int
parse_range(const char *s, int *lo, int *hi)
{
	uint32_t a, b;
	char *dash = strchr(s, '-'), tmp[24];

	if (strlen(s) >= sizeof(tmp))
		return -1;
	if (dash == NULL) {
		if (parse_u32(s, &a) != 0 || a == 0 || a > 9999)
			return -1;
		*lo = *hi = a;
		return 0;
	}
	memcpy(tmp, s, dash - s);
	tmp[dash - s] = '\0';
	if (parse_u32(tmp, &a) != 0 || parse_u32(dash + 1, &b) != 0 ||
	    a == 0 || a > b || b > 9999)
		return -1;
	*lo = a;
	*hi = b;
	return 0;
}

int
greeting_parse(char *line, struct greeting *g, const char **why)
{
	char *w[WORDS_MAX];
	int nw, i;

	memset(g, 0, sizeof(*g));
	nw = words_split(line, strlen(line), w, WORDS_MAX, why);
	if (nw < 0)
		return -1;
	if (nw < 3 || strcmp(w[0], "%syncpipe") != 0 ||
	    strcmp(w[1], "server") != 0) {
		*why = "not a syncpipe server";
		return -1;
	}
	if (parse_range(w[2], &g->vmin, &g->vmax) != 0) {
		*why = "bad protocol version in the greeting";
		return -1;
	}
	for (i = 3; i < nw; i++) {
		if (strcmp(w[i], "STARTTLS") == 0)
			g->starttls = 1;
		else if (strcmp(w[i], "DEFLATE") == 0)
			g->deflate = 1;
		else if (strncmp(w[i], "AUTH=", 5) == 0 && w[i][5] != '\0')
			sv_push(&g->mechs, w[i] + 5);
		/* anything else: a feature this side does not know */
	}
	return 0;
}

void
greeting_free(struct greeting *g)
{
	sv_free(&g->mechs);
}

int
proto_common_version(int amin, int amax, int bmin, int bmax)
{
	int hi = amax < bmax ? amax : bmax;

	return hi >= amin && hi >= bmin ? hi : 0;
}

char *
proto_versions_text(int vmin, int vmax)
{
	if (vmin == vmax)
		return xasprintf("%d", vmin);
	return xasprintf("%d-%d", vmin, vmax);
}

int
reply_parse(char *line, struct reply *r, const char **why)
{
	char *sp;
	uint32_t code;

	memset(r, 0, sizeof(*r));
	sp = strchr(line, ' ');
	r->text = sp ? sp + 1 : "";
	if (sp != NULL)
		*sp = '\0';
	if (strcmp(line, "+") == 0)
		r->kind = '+';
	else if (strcmp(line, "OK") == 0)
		r->kind = 'O';
	else if (strcmp(line, "NO") == 0) {
		r->kind = 'N';
		sp = strchr(r->text, ' ');
		if (sp != NULL)
			*sp = '\0';
		if (parse_u32(r->text, &code) != 0 || code == 0 ||
		    code > 255) {
			*why = "NO without an exit status";
			return -1;
		}
		r->code = code;
		r->text = sp ? sp + 1 : "";
	} else {
		*why = "not a reply (OK, NO or +)";
		return -1;
	}
	return 0;
}

/* State stream: reading */

static int
state_mbox(struct rstate *rs, char **w, int nw, const char **why)
{
	struct mailbox *mb;

	if (nw != 5 || strlen(w[2]) > GUID_HEX_LEN) {
		*why = "bad MBOX record";
		return -1;
	}
	rs->mb = xreallocarray(rs->mb, rs->nmb + 1, sizeof(*rs->mb));
	mb = &rs->mb[rs->nmb];
	memset(mb, 0, sizeof(*mb));
	if (parse_u32(w[3], &mb->uidvalidity) != 0 ||
	    parse_u32(w[4], &mb->uidnext) != 0) {
		*why = "bad number in an MBOX record";
		return -1;
	}
	rs->nmb++;
	mb->name = xstrdup(w[1]);
	mb->exists = 1;
	if (strcmp(w[2], "-") != 0)
		strcpy(mb->guid, w[2]);
	return 0;
}

static int
state_msg(struct rstate *rs, char **w, int nw, const char **why)
{
	struct mailbox *mb;
	struct msg *m;
	uint64_t size;
	uint32_t uid;
	int64_t mtime;
	char flags[8];
	int i;

	if (rs->nmb == 0 || nw < 6) {
		*why = "MSG record outside a mailbox, or short";
		return -1;
	}
	if (parse_u32(w[1], &uid) != 0 || parse_i64(w[4], &mtime) != 0 ||
	    parse_u64(w[5], &size) != 0 || flags_normalize(w[3], flags) != 0) {
		*why = "bad field in a MSG record";
		return -1;
	}
	mb = &rs->mb[rs->nmb - 1];
	if (mb->nmsgs > 0 && uid != 0 && (mb->msgs[mb->nmsgs - 1].uid == 0 ||
	    mb->msgs[mb->nmsgs - 1].uid >= uid)) {
		*why = "MSG records out of UID order";
		return -1;
	}
	mb->msgs = xreallocarray(mb->msgs, mb->nmsgs + 1, sizeof(*mb->msgs));
	m = &mb->msgs[mb->nmsgs++];
	memset(m, 0, sizeof(*m));
	m->uid = uid;
	m->base = xstrdup(w[2]);
	memcpy(m->flags, flags, sizeof(flags));
	m->mtime = mtime;
	m->size = size;
	for (i = 6; i < nw; i++)
		sv_push(&m->keywords, w[i]);
	sv_sort_uniq(&m->keywords);
	return 0;
}

static struct rsieve *
sieve_of(struct rstate *rs, const char *user)
{
	struct rsieve *s;

	if (rs->nsieve > 0 && strcmp(rs->sieve[rs->nsieve - 1].user,
	    user) == 0)
		return &rs->sieve[rs->nsieve - 1];
	rs->sieve = xreallocarray(rs->sieve, rs->nsieve + 1,
	    sizeof(*rs->sieve));
	s = &rs->sieve[rs->nsieve++];
	memset(s, 0, sizeof(*s));
	s->user = xstrdup(user);
	return s;
}

static int
state_script(struct rstate *rs, char **w, int nw, const char **why)
{
	struct rsieve *s;
	struct sieve_script *sc;

	if (nw != 6 || strlen(w[5]) != 64) {
		*why = "bad SCRIPT record";
		return -1;
	}
	s = sieve_of(rs, w[1]);
	s->s = xreallocarray(s->s, s->n + 1, sizeof(*s->s));
	s->sha = xreallocarray(s->sha, s->n + 1, sizeof(*s->sha));
	sc = &s->s[s->n];
	memset(sc, 0, sizeof(*sc));
	if (parse_u64(w[3], &sc->size) != 0 ||
	    parse_i64(w[4], &sc->mtime) != 0) {
		*why = "bad number in a SCRIPT record";
		return -1;
	}
	sc->name = xstrdup(w[2]);
	strcpy(s->sha[s->n], w[5]);
	s->n++;
	return 0;
}

static int
state_sub(struct rstate *rs, char **w, int nw, const char **why)
{
	struct rsubs *s;

	if (nw != 3) {
		*why = "bad SUB record";
		return -1;
	}
	if (rs->nsubs == 0 || strcmp(rs->subs[rs->nsubs - 1].user, w[1])) {
		rs->subs = xreallocarray(rs->subs, rs->nsubs + 1,
		    sizeof(*rs->subs));
		s = &rs->subs[rs->nsubs++];
		memset(s, 0, sizeof(*s));
		s->user = xstrdup(w[1]);
	}
	sv_push(&rs->subs[rs->nsubs - 1].subs, w[2]);
	return 0;
}

static int
state_tail(struct rstate *rs, char **w, int nw, const char **why)
{
	uint64_t n;

	if (nw != 2 || parse_u64(w[1], &n) != 0 || n != rs->count) {
		*why = "state tail does not count the records read";
		return -1;
	}
	rs->ended = 1;
	return 1;
}

int
rstate_line(struct rstate *rs, char *line, size_t len, const char **why)
{
	char *w[WORDS_MAX];
	int nw, st = -1;

	if (rs->ended) {
		*why = "record after the tail";
		return -1;
	}
	if ((nw = words_split(line, len, w, WORDS_MAX, why)) < 0)
		return -1;
	if (nw == 0) {
		*why = "empty line";
		return -1;
	}
	if (strcmp(w[0], "%end") == 0)
		return state_tail(rs, w, nw, why);
	if (strcmp(w[0], "HOME") == 0 && nw == 2) {
		sv_push(&rs->users, w[1]);
		st = 0;
	} else if (strcmp(w[0], "MBOX") == 0)
		st = state_mbox(rs, w, nw, why);
	else if (strcmp(w[0], "MSG") == 0)
		st = state_msg(rs, w, nw, why);
	else if (strcmp(w[0], "SUB") == 0)
		st = state_sub(rs, w, nw, why);
	else if (strcmp(w[0], "SCRIPT") == 0)
		st = state_script(rs, w, nw, why);
	else if (strcmp(w[0], "ACTIVE") == 0 && nw == 3) {
		free(sieve_of(rs, w[1])->active);
		sieve_of(rs, w[1])->active = xstrdup(w[2]);
		st = 0;
	} else
		*why = "unknown or malformed state record";
	rs->count += st == 0;
	return st;
}

static int
mb_cmp(const void *a, const void *b)
{
	return strcmp(((const struct mailbox *)a)->name,
	    ((const struct mailbox *)b)->name);
}

void
rstate_finish(struct rstate *rs)
{
	sv_sort_uniq(&rs->users);
	if (rs->nmb > 1)
		qsort(rs->mb, rs->nmb, sizeof(*rs->mb), mb_cmp);
}

void
rstate_free(struct rstate *rs)
{
	size_t i;

	sv_free(&rs->users);
	for (i = 0; i < rs->nmb; i++)
		mailbox_free(&rs->mb[i]);
	free(rs->mb);
	for (i = 0; i < rs->nsubs; i++) {
		free(rs->subs[i].user);
		sv_free(&rs->subs[i].subs);
	}
	free(rs->subs);
	for (i = 0; i < rs->nsieve; i++) {
		free(rs->sieve[i].user);
		free(rs->sieve[i].active);
		sieve_scripts_free(rs->sieve[i].s, rs->sieve[i].n);
		free(rs->sieve[i].sha);
	}
	free(rs->sieve);
	memset(rs, 0, sizeof(*rs));
}

const struct mailbox *
rstate_mailbox(const struct rstate *rs, const char *name)
{
	struct mailbox key;

	if (rs->nmb == 0)
		return NULL;
	key.name = (char *)name;
	return bsearch(&key, rs->mb, rs->nmb, sizeof(*rs->mb), mb_cmp);
}

const struct rsubs *
rstate_subs(const struct rstate *rs, const char *user)
{
	size_t i;

	for (i = 0; i < rs->nsubs; i++)
		if (strcmp(rs->subs[i].user, user) == 0)
			return &rs->subs[i];
	return NULL;
}

const struct rsieve *
rstate_sieve(const struct rstate *rs, const char *user)
{
	size_t i;

	for (i = 0; i < rs->nsieve; i++)
		if (strcmp(rs->sieve[i].user, user) == 0)
			return &rs->sieve[i];
	return NULL;
}

int
rstate_has_user(const struct rstate *rs, const char *user)
{
	return sv_contains(&rs->users, user);
}

void
mailbox_copy(struct mailbox *dst, const struct mailbox *src)
{
	size_t i, j;

	*dst = *src;
	dst->name = xstrdup(src->name);
	dst->msgs = xcalloc(src->nmsgs ? src->nmsgs : 1, sizeof(*dst->msgs));
	for (i = 0; i < src->nmsgs; i++) {
		dst->msgs[i] = src->msgs[i];
		dst->msgs[i].base = xstrdup(src->msgs[i].base);
		dst->msgs[i].file = src->msgs[i].file ?
		    xstrdup(src->msgs[i].file) : NULL;
		memset(&dst->msgs[i].keywords, 0, sizeof(struct strvec));
		for (j = 0; j < src->msgs[i].keywords.n; j++)
			sv_push(&dst->msgs[i].keywords,
			    src->msgs[i].keywords.v[j]);
	}
}

/* State stream: writing */

void
state_put_mailbox(struct strbuf *sb, const struct mailbox *mb)
{
	sb_adds(sb, "MBOX");
	rec_word(sb, mb->name);
	rec_word(sb, mb->guid[0] ? mb->guid : "-");
	sb_addf(sb, " %" PRIu32 " %" PRIu32 "\n", mb->uidvalidity,
	    mb->uidnext);
}

void
state_put_msg(struct strbuf *sb, const struct msg *m)
{
	size_t i;

	sb_addf(sb, "MSG %" PRIu32, m->uid);
	rec_word(sb, m->base);
	rec_word(sb, m->flags);
	sb_addf(sb, " %" PRId64 " %" PRIu64, m->mtime, m->size);
	for (i = 0; i < m->keywords.n && i < WORDS_MAX - 6; i++)
		rec_word(sb, m->keywords.v[i]);
	sb_addc(sb, '\n');
}

void
state_put_script(struct strbuf *sb, const char *user,
    const struct sieve_script *s, const char *sha)
{
	sb_adds(sb, "SCRIPT");
	rec_word(sb, user);
	rec_word(sb, s->name);
	sb_addf(sb, " %" PRIu64 " %" PRId64 " %s\n", s->size, s->mtime, sha);
}
