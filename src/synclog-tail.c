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
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "synclog.h"
#include "util.h"

struct opts {
	int		 consume;
	int		 follow;
	int		 raw;
	const char	*exec;
	double		 interval;
	double		 max_backoff;
	const char	*shutdown_file;
	const char	*log;
};

enum { OPT_MAX_BACKOFF = 256, OPT_SHUTDOWN, OPT_SYSLOG };

static const struct option longopts[] = {
	{ "consume",		no_argument,		NULL, 'c' },
	{ "exec",		required_argument,	NULL, 'e' },
	{ "follow",		no_argument,		NULL, 'f' },
	{ "help",		no_argument,		NULL, 'h' },
	{ "interval",		required_argument,	NULL, 'i' },
	{ "max-backoff",	required_argument,	NULL, OPT_MAX_BACKOFF },
	{ "quiet",		no_argument,		NULL, 'q' },
	{ "raw",		no_argument,		NULL, 'r' },
	{ "shutdown-file",	required_argument,	NULL, OPT_SHUTDOWN },
	{ "syslog",		no_argument,		NULL, OPT_SYSLOG },
	{ "verbose",		no_argument,		NULL, 'v' },
	{ "version",		no_argument,		NULL, 'V' },
	{ NULL,			0,			NULL, 0 }
};

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: %s [-qrvV] [--syslog] [LOG ...]\n"
	    "       %s -c [-fqrvV] [-e CMD] [-i SECS] [--max-backoff SECS]\n"
	    "              [--shutdown-file PATH] [--syslog] LOG\n",
	    sp_progname, sp_progname);
	if (fp == stdout)
		fputs("\n"
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

/* Prints the entries of one file; the worst status met. */
static int
print_file(const char *path, struct strbuf *out)
{
	struct entry_reader r;
	struct entry e;
	FILE	*fp = stdin;
	const char *name = "stdin";
	int	 rc, st = 0;

	if (strcmp(path, "-") != 0) {
		if ((fp = fopen(path, "r")) == NULL) {
			sp_syserr("%s", path);
			return errno == ENOENT ? EX_NOINPUT :
			    sp_errno_status(errno);
		}
		name = path;
	}
	entry_reader_init(&r, fp, name);
	while ((rc = entry_reader_next(&r, &e, &st)) == 1) {
		sb_reset(out);
		entry_format(out, &e);
		entry_free(&e);
		if (fwrite(out->s, 1, out->len, stdout) != out->len)
			break;
	}
	if (rc == 0 && r.framed && !r.ended) {
		sp_err("%s: applied entries end without their %%end tail",
		    name);
		st = EX_DATAERR;
	}
	if (r.bad_lines > 0)
		st = sp_status_worst(st, EX_DATAERR);
	entry_reader_free(&r);
	if (fp != stdin)
		fclose(fp);
	return st;
}

static int
print_mode(int nfiles, char **files)
{
	struct strbuf out = STRBUF_INIT;
	int	 i, st = 0;

	if (nfiles == 0)
		st = print_file("-", &out);
	for (i = 0; i < nfiles && !ferror(stdout); i++)
		st = sp_status_worst(st, print_file(files[i], &out));
	sb_free(&out);
	if (fflush(stdout) == EOF || ferror(stdout)) {
		if (errno == EPIPE)
			return st;	/* the reader has seen enough */
		sp_syserr("stdout");
		st = sp_status_worst(st, EX_IOERR);
	}
	return st;
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
 * of ours, EX_TEMPFAIL otherwise. */
static int
cmd_status_class(int code)
{
	if (code >= EX__BASE && code <= EX__MAX &&
	    !sp_status_is_temporary(code))
		return code;
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

/* Reads the batch's entries from data into out, coalesced unless raw. */
static void
batch_entries(const struct opts *o, const char *name, struct strbuf *data,
    struct strbuf *out, unsigned long *nentries, size_t *nobjects)
{
	struct coalescer *c;
	struct entry_reader r;
	struct entry e;
	FILE	*fp;
	int	 st;

	*nentries = 0;
	*nobjects = 0;
	if (data->len == 0)
		return;
	c = o->raw ? NULL : coalescer_new();
	if ((fp = fmemopen(data->s, data->len, "r")) == NULL) {
		sp_syserr("fmemopen");
		exit(EX_OSERR);
	}
	entry_reader_init(&r, fp, name);
	while (entry_reader_next(&r, &e, &st) == 1) {
		if (c != NULL)
			coalescer_add(c, &e);
		else {
			entry_format(out, &e);
			(*nobjects)++;
		}
		entry_free(&e);
	}
	*nentries = r.count;
	if (c != NULL)
		*nobjects = coalescer_emit(c, out);
	coalescer_free(c);
	entry_reader_free(&r);
	fclose(fp);
}

/*
 * Takes one batch and hands it on.  0 on success or when there was nothing
 * to do (*took says which), or the status of the failure.
 */
static int
one_batch(const struct opts *o, int *took)
{
	struct strbuf data = STRBUF_INIT, out = STRBUF_INIT;
	unsigned long nentries;
	size_t	 nobjects;
	double	 t0 = now_mono();
	char	*run;
	int	 st, code = 0, leftover;

	*took = 0;
	if ((st = synclog_take(o->log, &data, &run, &leftover)) != 0 ||
	    run == NULL)
		goto out;
	*took = 1;
	if (leftover)
		sp_debug("%s: taking a leftover batch first", run);
	batch_entries(o, run, &data, &out, &nentries, &nobjects);
	if (nobjects > 0)
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
out:
	sb_free(&data);
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

static int
parse_opts(int argc, char **argv, struct opts *o)
{
	int	 ch;

	opterr = 0;
	while ((ch = getopt_long(argc, argv, "ce:fhi:qrvV", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'c': o->consume = 1; break;
		case 'e': o->exec = optarg; break;
		case 'f': o->follow = 1; break;
		case 'h': usage(stdout); exit(0);
		case 'i':
			if (parse_secs(optarg, &o->interval) == -1)
				return EX_USAGE;
			break;
		case OPT_MAX_BACKOFF:
			if (parse_secs(optarg, &o->max_backoff) == -1)
				return EX_USAGE;
			break;
		case OPT_SHUTDOWN: o->shutdown_file = optarg; break;
		case OPT_SYSLOG: sp_use_syslog(); break;
		case 'q': sp_verbosity = 0; break;
		case 'r': o->raw = 1; break;
		case 'v': sp_verbosity++; break;
		case 'V': sp_print_version(); exit(0);
		default:
			sp_err("bad option or missing argument: %s",
			    argv[optind - 1]);
			return EX_USAGE;
		}
	}
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
		return print_mode(argc - optind, argv + optind);
	}
	return consume(&o);
}
