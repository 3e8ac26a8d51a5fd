/*
 * synclog-tail: print the entries of sync logs, or consume a sync log batch
 * by batch the way Cyrus's rolling sync_client does, handing each batch to a
 * command.
 */
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "json.h"
#include "names.h"
#include "synclog.h"
#include "util.h"
#include "words.h"

struct opts {
	int		 consume;
	int		 follow;
	int		 raw;
	const char	*exec;
	double		 interval;
	double		 max_backoff;
	const char	*shutdown_file;
	const char	*log;
	/* print mode */
	unsigned	 types;		/* bit per entry type; 0: all */
	struct strvec	 users;
	struct strvec	 globs;
	int		 json;
	int		 stats;
};

enum { OPT_MAX_BACKOFF = 256, OPT_SHUTDOWN, OPT_SYSLOG };

static const struct option longopts[] = {
	{ "consume",		no_argument,		NULL, 'c' },
	{ "exec",		required_argument,	NULL, 'e' },
	{ "follow",		no_argument,		NULL, 'f' },
	{ "help",		no_argument,		NULL, 'h' },
	{ "interval",		required_argument,	NULL, 'i' },
	{ "json",		no_argument,		NULL, 'j' },
	{ "mailbox",		required_argument,	NULL, 'm' },
	{ "max-backoff",	required_argument,	NULL, OPT_MAX_BACKOFF },
	{ "quiet",		no_argument,		NULL, 'q' },
	{ "raw",		no_argument,		NULL, 'r' },
	{ "shutdown-file",	required_argument,	NULL, OPT_SHUTDOWN },
	{ "stats",		no_argument,		NULL, 's' },
	{ "syslog",		no_argument,		NULL, OPT_SYSLOG },
	{ "type",		required_argument,	NULL, 't' },
	{ "user",		required_argument,	NULL, 'u' },
	{ "verbose",		no_argument,		NULL, 'v' },
	{ "version",		no_argument,		NULL, 'V' },
	{ NULL,			0,			NULL, 0 }
};

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: %s [-jqsvV] [-t TYPE] [-u USER] [-m GLOB] [--syslog] "
	    "[LOG ...]\n"
	    "       %s -c [-fqrvV] [-e CMD] [-i SECS] [--max-backoff SECS]\n"
	    "              [--shutdown-file PATH] [--syslog] LOG\n",
	    sp_progname, sp_progname);
	if (fp == stdout)
		fputs("\n"
		    "  -t, --type T[,T]        only entries of these types\n"
		    "  -u, --user USER         only entries about USER\n"
		    "  -m, --mailbox GLOB      only entries naming a mailbox "
		    "that matches\n"
		    "  -j, --json              one JSON object per entry\n"
		    "  -s, --stats             counts instead of entries\n"
		    "  -c, --consume           take the log batch by batch\n"
		    "  -e, --exec CMD          hand each batch to sh -c CMD\n"
		    "  -f, --follow            keep consuming\n"
		    "  -i, --interval SECS     time between polls (1)\n"
		    "      --max-backoff SECS  longest wait to retry (60)\n"
		    "      --shutdown-file F   stop when F appears\n"
		    "  -r, --raw               do not coalesce a batch\n"
		    "  -q, --quiet             report errors only\n"
		    "  -v, --verbose           report more\n"
		    "      --syslog            report to syslog\n"
		    "  -h, --help              this text\n"
		    "  -V, --version           the version\n", fp);
}

static int
parse_secs(const char *s, double *out)
{
	char	*end;
	double	 d;

	errno = 0;
	d = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !isfinite(d) ||
	    d < 0 || d > 86400) {
		sp_err("bad number of seconds: %s", s);
		return -1;
	}
	*out = d;
	return 0;
}

/* Print mode */

/* Where an entry was read, for --json and --stats. */
struct where {
	const char	*file;
	unsigned long	 line;
};

/* The user ids an entry is about (0, 1 or 2 of them, owned by the caller):
 * the first argument of a user's entry, the owners of its mailboxes
 * otherwise. */
static int
entry_users(const struct entry *e, char *users[2])
{
	int	 n = 0;

	switch (e->type) {
	case E_USER: case E_UNUSER: case E_META: case E_SIEVE:
	case E_SEEN: case E_SUB: case E_UNSUB:
		users[n++] = xstrdup(e->arg1);
		return n;
	default:
		break;
	}
	if ((users[n] = mbox_owner(e->arg1)) != NULL)
		n++;
	if (e->arg2 != NULL && (users[n] = mbox_owner(e->arg2)) != NULL) {
		if (n == 1 && strcmp(users[0], users[1]) == 0)
			free(users[1]);
		else
			n++;
	}
	return n;
}

/* The mailbox names of an entry (0, 1 or 2, pointing into e). */
static int
entry_mailboxes(const struct entry *e, const char *mb[2])
{
	switch (e->type) {
	case E_USER: case E_UNUSER: case E_META: case E_SIEVE: case E_SEEN:
		return 0;
	case E_SUB: case E_UNSUB:
		mb[0] = e->arg2;
		return 1;
	default:
		mb[0] = e->arg1;
		if (e->arg2 == NULL)
			return 1;
		mb[1] = e->arg2;
		return 2;
	}
}

static int
match_user(const struct opts *o, char *users[2], int n)
{
	size_t	 i;
	int	 j;

	if (o->users.n == 0)
		return 1;
	for (i = 0; i < o->users.n; i++)
		for (j = 0; j < n; j++)
			if (strcmp(o->users.v[i], users[j]) == 0)
				return 1;
	return 0;
}

static int
match_mailbox(const struct opts *o, const struct entry *e)
{
	const char *mb[2];
	size_t	 i;
	int	 j, n;

	if (o->globs.n == 0)
		return 1;
	n = entry_mailboxes(e, mb);
	for (i = 0; i < o->globs.n; i++)
		for (j = 0; j < n; j++)
			if (fnmatch(o->globs.v[i], mb[j], 0) == 0)
				return 1;
	return 0;
}

/* Whether e passes the filters; its users into users[] (to free). */
static int
entry_selected(const struct opts *o, const struct entry *e, char *users[2],
    int *nusers)
{
	*nusers = entry_users(e, users);
	if (o->types != 0 && (o->types & (1u << e->type)) == 0)
		return 0;
	return match_user(o, users, *nusers) && match_mailbox(o, e);
}

static void
json_entry(struct strbuf *sb, const struct entry *e, const struct where *w,
    char *users[2], int nusers)
{
	int	 i;

	sb_adds(sb, "{\"file\":");
	json_add_string(sb, w->file);
	sb_addf(sb, ",\"line\":%lu,\"type\":\"%s\",\"args\":[", w->line,
	    entry_type_name(e->type));
	json_add_string(sb, e->arg1);
	if (e->arg2 != NULL) {
		sb_addc(sb, ',');
		json_add_string(sb, e->arg2);
	}
	sb_adds(sb, "],\"users\":[");
	for (i = 0; i < nusers; i++) {
		if (i > 0)
			sb_addc(sb, ',');
		json_add_string(sb, users[i]);
	}
	sb_adds(sb, "]}");
}

/*
 * --stats: entries by type and by user, the first and the last.  Users are
 * counted in a small open-addressing table; an entry about two users counts
 * for both, one about no user's mailbox in nouser.
 */
struct ucount {
	char		*user;
	unsigned long	 n;
};

struct stats {
	unsigned long	 entries;
	unsigned long	 bytype[E_NTYPES];
	unsigned long	 nouser;
	struct ucount	*tab;
	size_t		 cap, used;
	struct strbuf	 first, last;	/* "file:line ENTRY" or JSON */
};

static size_t
ucount_hash(const char *s)
{
	size_t	 h = 5381;

	while (*s != '\0')
		h = h * 33 + (unsigned char)*s++;
	return h;
}

static void
stats_grow(struct stats *st)
{
	struct ucount *old = st->tab;
	size_t	 oldcap = st->cap, i, j;

	st->cap = oldcap == 0 ? 64 : oldcap * 2;
	st->tab = xcalloc(st->cap, sizeof(*st->tab));
	for (i = 0; i < oldcap; i++) {
		if (old[i].user == NULL)
			continue;
		j = ucount_hash(old[i].user) & (st->cap - 1);
		while (st->tab[j].user != NULL)
			j = (j + 1) & (st->cap - 1);
		st->tab[j] = old[i];
	}
	free(old);
}

/* Counts one entry for user (whose string it takes). */
static void
stats_user(struct stats *st, char *user)
{
	size_t	 j;

	if ((st->used + 1) * 2 > st->cap)
		stats_grow(st);
	j = ucount_hash(user) & (st->cap - 1);
	while (st->tab[j].user != NULL && strcmp(st->tab[j].user, user) != 0)
		j = (j + 1) & (st->cap - 1);
	if (st->tab[j].user == NULL) {
		st->tab[j].user = user;
		st->used++;
	} else
		free(user);
	st->tab[j].n++;
}

static void
stats_where(const struct opts *o, struct strbuf *sb, const struct entry *e,
    const struct where *w, char *users[2], int nusers)
{
	sb_reset(sb);
	if (o->json) {
		json_entry(sb, e, w, users, nusers);
		return;
	}
	sb_addf(sb, "%s:%lu ", w->file, w->line);
	entry_format(sb, e);
	sb->s[--sb->len] = '\0';
}

static void
stats_add(const struct opts *o, struct stats *st, const struct entry *e,
    const struct where *w, char *users[2], int nusers)
{
	int	 i;

	if (st->entries++ == 0)
		stats_where(o, &st->first, e, w, users, nusers);
	stats_where(o, &st->last, e, w, users, nusers);
	st->bytype[e->type]++;
	if (nusers == 0)
		st->nouser++;
	for (i = 0; i < nusers; i++)
		stats_user(st, users[i]);
}

static int
by_user(const void *a, const void *b)
{
	return strcmp(((const struct ucount *)a)->user,
	    ((const struct ucount *)b)->user);
}

static void
stats_text(const struct stats *st, struct strbuf *sb)
{
	size_t	 i;

	sb_addf(sb, "entries %lu\n", st->entries);
	if (st->entries > 0)
		sb_addf(sb, "first %s\nlast %s\n", st->first.s, st->last.s);
	for (i = 0; i < E_NTYPES; i++)
		if (st->bytype[i] > 0)
			sb_addf(sb, "type %s %lu\n",
			    entry_type_name((enum entry_type)i),
			    st->bytype[i]);
	for (i = 0; i < st->used; i++) {
		sb_adds(sb, "user ");
		word_add(sb, st->tab[i].user);
		sb_addf(sb, " %lu\n", st->tab[i].n);
	}
	if (st->nouser > 0)
		sb_addf(sb, "nouser %lu\n", st->nouser);
}

static void
stats_json(const struct stats *st, struct strbuf *sb)
{
	size_t	 i;
	int	 sep = 0;

	sb_addf(sb, "{\"entries\":%lu,\"first\":%s,\"last\":%s,\"types\":{",
	    st->entries, st->entries > 0 ? st->first.s : "null",
	    st->entries > 0 ? st->last.s : "null");
	for (i = 0; i < E_NTYPES; i++)
		if (st->bytype[i] > 0)
			sb_addf(sb, "%s\"%s\":%lu", sep++ ? "," : "",
			    entry_type_name((enum entry_type)i),
			    st->bytype[i]);
	sb_adds(sb, "},\"users\":{");
	for (i = 0; i < st->used; i++) {
		if (i > 0)
			sb_addc(sb, ',');
		json_add_string(sb, st->tab[i].user);
		sb_addf(sb, ":%lu", st->tab[i].n);
	}
	sb_addf(sb, "},\"nouser\":%lu}\n", st->nouser);
}

/* Prints the statistics, users in name order; frees them. */
static void
stats_print(const struct opts *o, struct stats *st)
{
	struct strbuf sb = STRBUF_INIT;
	size_t	 i, n = 0;

	for (i = 0; i < st->cap; i++)
		if (st->tab[i].user != NULL)
			st->tab[n++] = st->tab[i];
	if (n > 0)
		qsort(st->tab, n, sizeof(*st->tab), by_user);
	if (o->json)
		stats_json(st, &sb);
	else
		stats_text(st, &sb);
	fwrite(sb.s, 1, sb.len, stdout);
	for (i = 0; i < n; i++)
		free(st->tab[i].user);
	free(st->tab);
	sb_free(&st->first);
	sb_free(&st->last);
	sb_free(&sb);
}

/* One entry read in print mode: filtered, then printed or counted. */
static void
print_entry(const struct opts *o, struct stats *st, struct strbuf *out,
    const struct entry *e, const struct where *w)
{
	char	*users[2];
	int	 i, n;

	if (!entry_selected(o, e, users, &n))
		goto out;
	if (o->stats) {
		stats_add(o, st, e, w, users, n);
		return;		/* stats_add took the user strings */
	}
	sb_reset(out);
	if (o->json) {
		json_entry(out, e, w, users, n);
		sb_addc(out, '\n');
	} else
		entry_format(out, e);
	fwrite(out->s, 1, out->len, stdout);
out:
	for (i = 0; i < n; i++)
		free(users[i]);
}

/* Prints the entries of one file; the worst status met. */
static int
print_file(const struct opts *o, const char *path, struct stats *st,
    struct strbuf *out)
{
	struct entry_reader r;
	struct entry e;
	struct where w;
	FILE	*fp = stdin;
	const char *name = "stdin";
	int	 rc, status = 0;

	if (strcmp(path, "-") != 0) {
		if ((fp = fopen(path, "r")) == NULL) {
			sp_syserr("%s", path);
			return errno == ENOENT ? EX_NOINPUT :
			    sp_errno_status(errno);
		}
		name = path;
	}
	entry_reader_init(&r, fp, name);
	w.file = name;
	while (!ferror(stdout) &&
	    (rc = entry_reader_next(&r, &e, &status)) == 1) {
		w.line = r.lineno;
		print_entry(o, st, out, &e, &w);
		entry_free(&e);
	}
	if (rc == 0 && r.framed && !r.ended) {
		sp_err("%s: applied entries end without their %%end tail",
		    name);
		status = EX_DATAERR;
	}
	if (r.bad_lines > 0)
		status = sp_status_worst(status, EX_DATAERR);
	entry_reader_free(&r);
	if (fp != stdin)
		fclose(fp);
	return status;
}

static int
print_mode(const struct opts *o, int nfiles, char **files)
{
	struct strbuf out = STRBUF_INIT;
	struct stats st;
	int	 i, status = 0;

	memset(&st, 0, sizeof(st));
	if (nfiles == 0)
		status = print_file(o, "-", &st, &out);
	for (i = 0; i < nfiles && !ferror(stdout); i++)
		status = sp_status_worst(status,
		    print_file(o, files[i], &st, &out));
	if (o->stats)
		stats_print(o, &st);
	sb_free(&out);
	if (fflush(stdout) == EOF || ferror(stdout)) {
		if (errno == EPIPE)
			return status;	/* the reader has seen enough */
		sp_syserr("stdout");
		status = sp_status_worst(status, EX_IOERR);
	}
	return status;
}

/* Consume mode */

/* Takes LOG.consumer for the life of the process: -1 and *status if busy. */
static int
lock_consumer(const char *log, int *status)
{
	struct strbuf sb = STRBUF_INIT;
	char	*path, pid[32];
	ssize_t	 n;
	int	 fd;

	path = xasprintf("%s.consumer", log);
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) == -1) {
		sp_syserr("%s", path);
		*status = errno == ENOENT ? EX_NOINPUT : sp_errno_status(errno);
		goto out;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		n = read(fd, pid, sizeof(pid) - 1);
		pid[n > 0 ? n : 0] = '\0';
		pid[strcspn(pid, "\n")] = '\0';
		sp_err("%s: another consumer holds it (pid %s)", path,
		    *pid != '\0' ? pid : "unknown");
		*status = EX_TEMPFAIL;
		close(fd);
		fd = -1;
		goto out;
	}
	sb_addf(&sb, "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) == -1 || write_all(fd, sb.s, sb.len) == -1)
		sp_syserr("%s: cannot record the pid", path);
out:
	sb_free(&sb);
	free(path);
	return fd;
}

/* The status a failed CMD stands for: its own when it is a permanent one
 * of ours, EX_CONFIG when the shell could not run it (126, 127: a wrong
 * command, which no retry mends), EX_TEMPFAIL otherwise. */
static int
cmd_status_class(int code)
{
	if (code >= EX__BASE && code <= EX__MAX &&
	    !sp_status_is_temporary(code))
		return code;
	if (code == 126 || code == 127)
		return EX_CONFIG;
	return EX_TEMPFAIL;
}

static void
child_exec(const char *cmd, int rfd)
{
	signal(SIGPIPE, SIG_DFL);
	if (rfd != STDIN_FILENO) {
		if (dup2(rfd, STDIN_FILENO) == -1)
			_exit(EX_OSERR);
		close(rfd);
	}
	execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
	sp_syserr("/bin/sh");
	_exit(EX_UNAVAILABLE);
}

/*
 * Runs sh -c CMD with the batch on its stdin.  0 when it exited 0, else the
 * status class of its failure; *code gets its exit status.
 */
static int
run_cmd(const char *cmd, const struct strbuf *batch, int *code)
{
	int	 p[2], ws;
	pid_t	 pid;

	*code = 0;
	if (pipe(p) == -1) {
		sp_syserr("pipe");
		return EX_OSERR;
	}
	(void)fcntl(p[1], F_SETFD, FD_CLOEXEC);
	if ((pid = fork()) == -1) {
		sp_syserr("fork");
		close(p[0]);
		close(p[1]);
		return EX_OSERR;
	}
	if (pid == 0) {
		close(p[1]);
		child_exec(cmd, p[0]);
	}
	close(p[0]);
	/* A command that stops reading early is judged by its status. */
	if (write_all(p[1], batch->s, batch->len) == -1) {
		if (errno == EPIPE)
			sp_debug("the command did not read the whole batch");
		else
			sp_syserr("writing the batch to the command");
	}
	close(p[1]);
	while (waitpid(pid, &ws, 0) == -1) {
		if (errno != EINTR) {
			sp_syserr("waitpid");
			return EX_OSERR;
		}
	}
	if (WIFEXITED(ws))
		*code = WEXITSTATUS(ws);
	else
		*code = WIFSIGNALED(ws) ? 128 + WTERMSIG(ws) : 255;
	if (*code == 0)
		return 0;
	return WIFEXITED(ws) ? cmd_status_class(*code) : EX_TEMPFAIL;
}

/* Without --exec the batch goes to stdout. */
static int
print_batch(const struct strbuf *batch, int *code)
{
	*code = 0;
	if (write_all(STDOUT_FILENO, batch->s, batch->len) == -1) {
		sp_syserr("stdout");
		*code = EX_IOERR;
		return EX_IOERR;
	}
	return 0;
}

/*
 * Reads the batch's entries from fd (which it closes) into out, coalesced
 * unless raw.  The file is read line by line, so that memory grows with the
 * distinct objects of the batch, not with its entries.
 */
static int
batch_entries(const struct opts *o, const char *name, int fd,
    struct strbuf *out, unsigned long *nentries, size_t *nobjects)
{
	struct coalescer *c;
	struct entry_reader r;
	struct entry e;
	FILE	*fp;
	int	 rc, st = 0;

	*nentries = 0;
	*nobjects = 0;
	if ((fp = fdopen(fd, "r")) == NULL) {
		sp_syserr("%s: fdopen", name);
		close(fd);
		return EX_OSERR;
	}
	c = o->raw ? NULL : coalescer_new();
	entry_reader_init(&r, fp, name);
	while ((rc = entry_reader_next(&r, &e, &st)) != 0) {
		if (rc == -1) {
			/* A stray frame line: reported, the rest goes on. */
			if (ferror(fp))
				break;
			continue;
		}
		if (c != NULL)
			coalescer_add(c, &e);
		else {
			entry_format(out, &e);
			(*nobjects)++;
		}
		entry_free(&e);
	}
	if (!ferror(fp))
		st = 0;
	*nentries = r.count;
	if (c != NULL)
		*nobjects = coalescer_emit(c, out);
	coalescer_free(c);
	entry_reader_free(&r);
	fclose(fp);
	return st;
}

/*
 * Takes one batch and hands it on.  0 on success or when there was nothing
 * to do (*took says which), or the status of the failure.
 */
static int
one_batch(const struct opts *o, int *took)
{
	struct strbuf out = STRBUF_INIT;
	unsigned long nentries = 0;
	size_t	 nobjects = 0;
	double	 t0 = now_mono();
	char	*run;
	int	 fd, st, code = 0, leftover;

	*took = 0;
	if ((st = synclog_take_fd(o->log, &fd, &run, &leftover)) != 0 ||
	    run == NULL)
		return st;
	*took = 1;
	if (leftover)
		sp_debug("%s: taking a leftover batch first", run);
	st = batch_entries(o, run, fd, &out, &nentries, &nobjects);
	if (st == 0 && nobjects > 0)
		st = o->exec != NULL ? run_cmd(o->exec, &out, &code) :
		    print_batch(&out, &code);
	if (st == 0)
		st = synclog_done(run);
	if (st == 0)
		sp_info("batch: %lu entries, %zu objects, %.2fs, ok",
		    nentries, nobjects, now_mono() - t0);
	else
		sp_err("batch: %lu entries, %zu objects, %.2fs, failed "
		    "(status %d)", nentries, nobjects, now_mono() - t0,
		    code != 0 ? code : st);
	free(run);
	sb_free(&out);
	return st;
}

static int
shutdown_requested(const struct opts *o)
{
	if (o->shutdown_file == NULL || access(o->shutdown_file, F_OK) == -1)
		return 0;
	sp_info("%s: shutdown file found, stopping", o->shutdown_file);
	if (unlink(o->shutdown_file) == -1)
		sp_syserr("%s: unlink", o->shutdown_file);
	return 1;
}

/* Sleeps secs in short naps, waking early to stop.  1 if told to stop. */
static int
nap(const struct opts *o, double secs)
{
	struct timespec ts;
	double	 end = now_mono() + secs, left, step;

	for (;;) {
		if (sp_stop || shutdown_requested(o))
			return 1;
		if ((left = end - now_mono()) <= 0)
			return 0;
		step = left < 0.1 ? left : 0.1;
		ts.tv_sec = (time_t)step;
		ts.tv_nsec = (long)((step - (double)ts.tv_sec) * 1e9);
		nanosleep(&ts, NULL);
	}
}

static int
follow(const struct opts *o)
{
	double	 backoff = 0, t0, wait;
	int	 st, took;

	for (;;) {
		if (sp_stop || shutdown_requested(o))
			break;
		t0 = now_mono();
		st = one_batch(o, &took);
		if (sp_stop)
			break;
		if (st == 0) {
			backoff = 0;
			wait = o->interval - (now_mono() - t0);
			if (!took && wait < 0.01)
				wait = 0.01;
		} else if (!sp_status_is_temporary(st)) {
			/* Retrying cannot mend it: stop, so that a
			 * supervisor shows the failure to a person. */
			sp_err("stopping: the batch failed for good (status "
			    "%d); it stays in %s-run", st, o->log);
			return st;
		} else {
			backoff = backoff == 0 ? o->interval : backoff * 2;
			if (backoff < 0.1)
				backoff = 0.1;
			if (backoff > o->max_backoff)
				backoff = o->max_backoff;
			wait = backoff;
			sp_info("retrying in %.1fs", wait);
		}
		if (nap(o, wait))
			break;
	}
	sp_debug("stopped at a batch boundary");
	return 0;
}

static int
consume(const struct opts *o)
{
	int	 lockfd, st = 0, took;

	if ((lockfd = lock_consumer(o->log, &st)) == -1)
		return st;
	sp_catch_signals();
	if (o->follow)
		st = follow(o);
	else if (!shutdown_requested(o))
		st = one_batch(o, &took);
	close(lockfd);
	return st;
}

/* --type T[,T...]: adds the types to o->types.  0 or -1. */
static int
parse_types(struct opts *o, const char *arg)
{
	char	*copy = xstrdup(arg), *p, *t;
	int	 i, rc = 0;

	for (p = copy; (t = strsep(&p, ",")) != NULL; ) {
		if ((i = entry_type_lookup(t)) == -1) {
			sp_err("unknown entry type: %s", t);
			rc = -1;
			break;
		}
		o->types |= 1u << i;
	}
	free(copy);
	return rc;
}

static int
parse_opt(struct opts *o, int ch, char **argv)
{
	switch (ch) {
	case 'c': o->consume = 1; break;
	case 'e': o->exec = optarg; break;
	case 'f': o->follow = 1; break;
	case 'h': usage(stdout); exit(0);
	case 'i': return parse_secs(optarg, &o->interval) == -1 ? EX_USAGE : 0;
	case 'j': o->json = 1; break;
	case 'm': sv_push(&o->globs, optarg); break;
	case OPT_MAX_BACKOFF:
		return parse_secs(optarg, &o->max_backoff) == -1 ? EX_USAGE : 0;
	case OPT_SHUTDOWN: o->shutdown_file = optarg; break;
	case OPT_SYSLOG: sp_use_syslog(); break;
	case 'q': sp_verbosity = 0; break;
	case 'r': o->raw = 1; break;
	case 's': o->stats = 1; break;
	case 't': return parse_types(o, optarg) == -1 ? EX_USAGE : 0;
	case 'u': sv_push(&o->users, optarg); break;
	case 'v': sp_verbosity++; break;
	case 'V': sp_print_version(); exit(0);
	default:
		sp_err("bad option or missing argument: %s", argv[optind - 1]);
		return EX_USAGE;
	}
	return 0;
}

static int
parse_opts(int argc, char **argv, struct opts *o)
{
	int	 ch, st;

	opterr = 0;
	while ((ch = getopt_long(argc, argv, "ce:fhi:jm:qrst:u:vV", longopts,
	    NULL)) != -1)
		if ((st = parse_opt(o, ch, argv)) != 0)
			return st;
	return 0;
}

/* Checks the combinations of options; 0 or EX_USAGE. */
static int
check_opts(struct opts *o, int nargs, char **args)
{
	if (!o->consume) {
		if (o->follow || o->exec != NULL || o->shutdown_file != NULL) {
			sp_err("--follow, --exec and --shutdown-file need "
			    "--consume");
			return EX_USAGE;
		}
		return 0;
	}
	if (o->types != 0 || o->users.n > 0 || o->globs.n > 0 || o->json ||
	    o->stats) {
		sp_err("--type, --user, --mailbox, --json and --stats only "
		    "print, they do not go with --consume");
		return EX_USAGE;
	}
	if (nargs != 1 || strcmp(args[0], "-") == 0) {
		sp_err("--consume takes exactly one LOG file");
		return EX_USAGE;
	}
	o->log = args[0];
	return 0;
}

int
main(int argc, char **argv)
{
	struct opts o = { .interval = 1, .max_backoff = 60 };
	int	 st;

	sp_init(argv[0]);
	if ((st = parse_opts(argc, argv, &o)) == 0)
		st = check_opts(&o, argc - optind, argv + optind);
	if (st != 0) {
		usage(stderr);
		return st;
	}
	if (!o.consume) {
		signal(SIGPIPE, SIG_IGN);
		st = print_mode(&o, argc - optind, argv + optind);
	} else
		st = consume(&o);
	sv_free(&o.users);
	sv_free(&o.globs);
	return st;
}
