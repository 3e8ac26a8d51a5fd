/*
 * sync-diff: compare master and replica for the objects named by sync log
 * entries (or every user) and print the change list that makes the replica
 * equal to the master.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diff.h"
#include "endpoint.h"
#include "names.h"
#include "synclog.h"

/* The objects a run compares, each list sorted and unique at the end. */
struct selection {
	struct strvec	users;		/* everything of these users */
	struct strvec	mailboxes;
	struct strvec	sieve;		/* users whose scripts to compare */
	struct strvec	subs;		/* users whose subscriptions to compare */
	int		all;
	int		status;		/* worst of the bad names seen */
};

static void
usage(FILE *fp)
{
	fprintf(fp, "usage: sync-diff [-aqvV] [--exit-code] [-u user] "
	    "[-m mailbox]\n"
	    "                 [--split-brain rescue|report] [--syslog] "
	    "master replica\n");
}

static void
help(void)
{
	usage(stdout);
	printf("\n"
	    "Reads sync log entries on stdin and prints the change list that\n"
	    "makes the replica equal to the master for the objects they name.\n"
	    "\n"
	    "  -a, --all           compare every user of both stores\n"
	    "  -u, --user USER     compare this user (repeatable)\n"
	    "  -m, --mailbox NAME  compare this mailbox (repeatable)\n"
	    "      --exit-code     exit 1 if there are differences\n"
	    "      --split-brain P rescue (the default: copy replica-only\n"
	    "                      messages to the master) or report them\n"
	    "  -v, --verbose       say more; -q, --quiet: errors only\n"
	    "      --syslog        log to syslog instead of stderr\n"
	    "  -h, --help          this text; -V, --version: the version\n"
	    "The replica may be an endpoint (ssh://, sync://, syncs://):\n%s",
	    remote_help);
}

static int
bad_name(struct selection *sel, const char *where, const char *name,
    const char *why)
{
	sp_err("%s: refusing name \"%s\": %s", where, name, why);
	sel->status = sp_status_worst(sel->status, EX_DATAERR);
	return -1;
}

static void
select_user(struct selection *sel, struct strvec *into, const char *userid,
    const char *where)
{
	const char *why;
	char *home = userid_home(userid, &why);

	if (home == NULL) {
		bad_name(sel, where, userid, why);
		return;
	}
	free(home);
	sv_push(into, userid);
}

/* A name with a '/', a control character or a "." or ".." level. */
static int
unsafe(const char *name)
{
	const unsigned char *p;

	for (p = (const unsigned char *)name; *p != '\0'; p++)
		if (*p == '/' || *p < 0x20 || *p == 0x7f)
			return 1;
	return strncmp(name, "..", 2) == 0 || strstr(name, "...") != NULL ||
	    name[0] == '.' || strstr(name, "..") != NULL;
}

static void
select_mailbox(struct selection *sel, const char *name, const char *where)
{
	struct mbname mb;
	const char *why;
	char *owner;

	if (mbname_parse(name, &mb, &why) != 0) {
		/* Cyrus logs shared and DELETED.* mailboxes too: those
		 * are none of ours.  Names that could never be safe are
		 * reported all the same. */
		if (strncmp(name, "user.", 5) == 0 || strchr(name, '!') ||
		    unsafe(name))
			bad_name(sel, where, name, why);
		else
			sp_debug("%s: skipping \"%s\": not a user's mailbox",
			    where, name);
		return;
	}
	if (mb.folder != NULL && strcmp(mb.folder, "#sieve") == 0) {
		/* Cyrus keeps a user's Sieve scripts in this mailbox. */
		owner = userid_make(mb.user, mb.domain);
		sv_push_owned(&sel->sieve, owner);
	} else
		sv_push(&sel->mailboxes, name);
	mbname_free(&mb);
}

static void
select_entry(struct selection *sel, const struct entry *e, const char *where)
{
	switch (e->type) {
	case E_USER:
	case E_UNUSER:
		select_user(sel, &sel->users, e->arg1, where);
		break;
	case E_META:
		/* Cyrus: seen state, subscriptions and Sieve of a user */
		select_user(sel, &sel->subs, e->arg1, where);
		/* FALLTHROUGH */
	case E_SIEVE:
		select_user(sel, &sel->sieve, e->arg1, where);
		break;
	case E_SUB:
	case E_UNSUB:
		select_user(sel, &sel->subs, e->arg1, where);
		break;
	case E_MAILBOX:
	case E_APPEND:
	case E_UNMAILBOX:
		select_mailbox(sel, e->arg1, where);
		break;
	case E_DOUBLEMAILBOX:
	case E_RENAME:
		select_mailbox(sel, e->arg1, where);
		select_mailbox(sel, e->arg2, where);
		break;
	case E_QUOTA:
	case E_ANNOTATION:
	case E_SEEN:
	default:
		sp_debug("%s: %s: nothing to replicate in a Maildir store",
		    where, entry_type_name(e->type));
		break;
	}
}

static int
read_entries(struct selection *sel)
{
	struct entry_reader r;
	struct entry e;
	char where[64];
	int got, st = 0;

	entry_reader_init(&r, stdin, "stdin");
	while ((got = entry_reader_next(&r, &e, &st)) == 1) {
		snprintf(where, sizeof(where), "stdin:%lu", r.lineno);
		select_entry(sel, &e, where);
		entry_free(&e);
	}
	if (r.bad_lines > 0)
		sel->status = sp_status_worst(sel->status, EX_DATAERR);
	if (got == 0 && r.framed && !r.ended) {
		sp_err("stdin: applied entries end without their %%end tail");
		sel->status = sp_status_worst(sel->status, EX_DATAERR);
	}
	entry_reader_free(&r);
	return got < 0 ? st : 0;
}

/* Drops the objects covered by a whole-user comparison. */
static void
prune(struct strvec *sv, const struct strvec *users, int mailboxes)
{
	size_t i, n = 0;
	char *owner;

	for (i = 0; i < sv->n; i++) {
		owner = mailboxes ? mbox_owner(sv->v[i]) : xstrdup(sv->v[i]);
		if (owner != NULL && sv_contains(users, owner))
			free(sv->v[i]);
		else
			sv->v[n++] = sv->v[i];
		free(owner);
	}
	sv->n = n;
}

/* The named mailboxes of one owner, compared together so that renames and
 * copies between them are recognised. */
static int
compare_owner(struct differ *d, const struct strvec *mailboxes,
    const char *owner)
{
	struct strvec mine = STRVEC_INIT;
	size_t i;
	char *o;
	int st;

	for (i = 0; i < mailboxes->n; i++) {
		o = mbox_owner(mailboxes->v[i]);
		if (o != NULL && strcmp(o, owner) == 0)
			sv_push(&mine, mailboxes->v[i]);
		free(o);
	}
	st = diff_mailboxes(d, &mine);
	sv_free(&mine);
	return st;
}

static int
compare(struct differ *d, struct selection *sel)
{
	struct strvec owners = STRVEC_INIT, named = STRVEC_INIT;
	size_t i;
	int st = 0;

	sv_sort_uniq(&sel->users);
	sv_sort_uniq(&sel->mailboxes);
	for (i = 0; i < sel->mailboxes.n; i++)
		sv_push(&named, sel->mailboxes.v[i]);
	d->named = &named;
	sv_sort_uniq(&sel->sieve);
	sv_sort_uniq(&sel->subs);
	prune(&sel->mailboxes, &sel->users, 1);
	prune(&sel->sieve, &sel->users, 0);
	prune(&sel->subs, &sel->users, 0);
	for (i = 0; st == 0 && i < sel->users.n; i++)
		st = diff_user(d, sel->users.v[i]);
	for (i = 0; i < sel->mailboxes.n; i++)
		sv_push_owned(&owners, mbox_owner(sel->mailboxes.v[i]));
	sv_sort_uniq(&owners);
	for (i = 0; st == 0 && i < owners.n; i++)
		st = compare_owner(d, &sel->mailboxes, owners.v[i]);
	sv_free(&owners);
	for (i = 0; st == 0 && i < sel->subs.n; i++)
		st = diff_subs(d, sel->subs.v[i]);
	for (i = 0; st == 0 && i < sel->sieve.n; i++)
		st = diff_sieve(d, sel->sieve.v[i]);
	d->named = NULL;
	sv_free(&named);
	return st;
}

static int
list_all(struct selection *sel, struct store *m, struct store *r)
{
	int st;

	if ((st = store_list_users(m, &sel->users)) != 0)
		return st;
	return store_list_users(r, &sel->users);
}

static void
selection_free(struct selection *sel)
{
	sv_free(&sel->users);
	sv_free(&sel->mailboxes);
	sv_free(&sel->sieve);
	sv_free(&sel->subs);
}

static struct remote_opts ropts;

static int
run(const char *mroot, const char *rroot, struct selection *sel, int excode,
    int rescue)
{
	struct store master, replica;
	struct swriter out;
	struct differ d;
	struct remote *rem = NULL;
	struct rstate rs;
	double t0 = now_mono();
	int st;

	if ((st = store_open(&master, mroot, 0)) != 0)
		return st;
	if (master.absent) {
		sp_err("%s: master store not found", mroot);
		store_close(&master);
		return EX_NOINPUT;
	}
	if ((st = store_become_owner(&master)) != 0) {
		store_close(&master);
		return st;
	}
	memset(&rs, 0, sizeof(rs));
	if (endpoint_is_remote(rroot) &&
	    (st = remote_open(rroot, &ropts, &rem)) != 0) {
		store_close(&master);
		return remote_close(rem, st, 0);
	}
	if ((st = store_open(&replica, rem ? "/dev/null" : rroot,
	    STORE_RDONLY)) != 0) {
		store_close(&master);
		return st;
	}
	if (sel->all)
		st = list_all(sel, &master, &replica);
	else if (sel->users.n + sel->mailboxes.n == 0)
		st = read_entries(sel);
	if (st == 0 && rem != NULL)
		st = remote_prefetch(rem, sel->all, &sel->users,
		    &sel->mailboxes, &sel->sieve, &sel->subs, &rs);
	memset(&d, 0, sizeof(d));
	d.master = &master;
	d.replica = &replica;
	d.out = &out;
	d.rescue = rescue;
	d.master_users = -1;
	if (rem != NULL) {
		/* XXX: rescuing needs the replica's bodies; not fetched yet */
		d.rescue = 0;
		d.remote = &rs;
	}
	if (st == 0 && (st = sw_begin(&out, stdout, SK_CHANGES)) == 0) {
		st = compare(&d, sel);
		if (st == 0)
			st = sw_end(&out);
		sw_free(&out);
	}
	sp_debug("compared %lu mailboxes: %lu changes (%lu adds, %lu copies, "
	    "%lu renames), %lu conflicts, %lu rescued, %.2fs",
	    d.st.mailboxes, d.st.changes, d.st.adds, d.st.copies,
	    d.st.renames, d.st.conflicts, d.st.rescued, now_mono() - t0);
	store_close(&master);
	store_close(&replica);
	if (rem != NULL) {
		st = remote_close(rem, st, 0);
		rstate_free(&rs);
	}
	st = sp_status_worst(st, sel->status);
	if (st == 0 && excode && d.st.changes > 0)
		st = SP_EX_DIFF;
	return st;
}

int
main(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "all",	no_argument,		NULL, 'a' },
		{ "user",	required_argument,	NULL, 'u' },
		{ "mailbox",	required_argument,	NULL, 'm' },
		{ "exit-code",	no_argument,		NULL, 'x' },
		{ "split-brain", required_argument,	NULL, 'B' },
		{ "verbose",	no_argument,		NULL, 'v' },
		{ "quiet",	no_argument,		NULL, 'q' },
		{ "syslog",	no_argument,		NULL, 'S' },
		{ "help",	no_argument,		NULL, 'h' },
		{ "version",	no_argument,		NULL, 'V' },
		REMOTE_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	struct selection sel;
	int c, excode = 0, rescue = 1, st;

	sp_init(argv[0]);
	remote_opts_init(&ropts);
	memset(&sel, 0, sizeof(sel));
	while ((c = getopt_long(argc, argv, "au:m:vqhV", opts, NULL)) != -1) {
		switch (c) {
		case 'a': sel.all = 1; break;
		case 'u': select_user(&sel, &sel.users, optarg, "--user"); break;
		case 'm': select_mailbox(&sel, optarg, "--mailbox"); break;
		case 'x': excode = 1; break;
		case 'B':
			if (strcmp(optarg, "rescue") != 0 &&
			    strcmp(optarg, "report") != 0) {
				sp_err("--split-brain: rescue or report, not "
				    "\"%s\"", optarg);
				return EX_USAGE;
			}
			rescue = strcmp(optarg, "rescue") == 0;
			break;
		case 'v': sp_verbosity++; break;
		case 'q': sp_verbosity = 0; break;
		case 'S': sp_use_syslog(); break;
		case 'h': help(); return 0;
		case 'V': sp_print_version(); return 0;
		default:
			if (remote_option(&ropts, c, optarg) == 0)
				break;
			usage(stderr);
			return EX_USAGE;
		}
	}
	if (argc - optind != 2 || (sel.all && sel.users.n +
	    sel.mailboxes.n + sel.sieve.n > 0)) {
		if (sel.all && argc - optind == 2)
			sp_err("--all compares everything: no --user or "
			    "--mailbox with it");
		usage(stderr);
		return EX_USAGE;
	}
	if (sel.status != 0)
		return EX_USAGE;
	sp_catch_signals();
	st = run(argv[optind], argv[optind + 1], &sel, excode, rescue);
	selection_free(&sel);
	return st;
}
