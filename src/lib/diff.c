/*
 * diff: master against replica, object by object (see diff.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "diff.h"

int
diff_mailbox(struct differ *d, const char *name)
{
	struct strvec one = STRVEC_INIT;
	int st;

	sv_push(&one, name);
	st = diff_mailboxes(d, &one);
	sv_free(&one);
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
	    (st = rview_read_subs(d->replica, d->remote, userid, &r)) != 0)
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
	int fa = -1, fb = -1, same = -1;

	if (d->remote != NULL)
		return rview_same_script(d->master, d->remote, userid, name);
	if (store_open_sieve(d->master, userid, name, &fa) != 0 ||
	    store_open_sieve(d->replica, userid, name, &fb) != 0)
		goto out;
	same = same_content(fa, fb);
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
	    (st = rview_read_sieve(d->replica, d->remote, userid, &rs, &rn,
	    &ra)) != 0)
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

/*
 * A master without a single user is more likely unmounted than emptied:
 * deleting users on the replica is then refused.
 */
static int
master_not_empty(struct differ *d, const char *userid)
{
	struct strvec users = STRVEC_INIT;
	int st;

	if (d->master_users < 0) {
		if ((st = store_list_users(d->master, &users)) != 0)
			return st;
		d->master_users = users.n;
		sv_free(&users);
	}
	if (d->master_users > 0)
		return 0;
	sp_err("%s: the master has no users at all: user %s is not deleted "
	    "on the replica (is the master's file system mounted?)",
	    d->master->root, userid);
	return EX_NOINPUT;
}

int
diff_user(struct differ *d, const char *userid)
{
	struct strvec names = STRVEC_INIT, rnames = STRVEC_INIT;
	struct strbuf *sb;
	size_t i;
	int st;

	if (!store_user_exists(d->master, userid)) {
		if (!rview_user_exists(d->replica, d->remote, userid))
			return 0;
		if ((st = master_not_empty(d, userid)) != 0)
			return st;
		sb = sw_rec(d->out, R_UNUSER);
		rec_word(sb, userid);
		d->st.changes++;
		return sw_rec_end(d->out);
	}
	if ((st = store_list_mailboxes(d->master, userid, &names)) != 0 ||
	    (st = rview_list_mailboxes(d->replica, d->remote, userid,
	    &rnames)) != 0)
		goto out;
	for (i = 0; i < rnames.n; i++)
		sv_push(&names, rnames.v[i]);
	sv_sort_uniq(&names);
	st = diff_mailboxes(d, &names);
	if (st == 0)
		st = diff_subs(d, userid);
	if (st == 0)
		st = diff_sieve(d, userid);
out:
	sv_free(&names);
	sv_free(&rnames);
	return st;
}
