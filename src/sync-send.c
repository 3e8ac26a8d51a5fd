/*
 * sync-send: turn a change list into a bundle by inlining the bodies of new
 * messages and Sieve scripts from the master store; write the bundle on
 * stdout, or hand it to sync-apply for a local replica.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "endpoint.h"
#include "remote.h"
#include "store.h"
#include "stream.h"

struct sender {
	struct store	*master;
	struct sreader	 in;
	struct swriter	 out;
	unsigned long	 bodies;
	unsigned long	 gone;
	uint64_t	 bytes;
};

static void
usage(FILE *fp)
{
	fprintf(fp, "usage: sync-send [-qvVz] [--syslog] [options] master "
	    "[replica]\n");
}

static void
help(void)
{
	usage(stdout);
	printf("\n"
	    "Reads a change list on stdin and writes a bundle on stdout, with\n"
	    "the bodies of new messages and scripts taken from the master.\n"
	    "Given a local replica directory, applies the bundle there with\n"
	    "sync-apply and prints the applied entries instead; given an\n"
	    "endpoint (ssh://, sync://, syncs://), ships it there.\n"
	    "\n"
	    "  -z, --deflate   compress the bundle written on stdout\n"
	    "  -v, --verbose   say more; -q, --quiet: errors only\n"
	    "      --syslog    log to syslog instead of stderr\n"
	    "  -h, --help      this text; -V, --version: the version\n"
	    "For endpoints (see sync-net.md):\n%s", remote_help);
}

/* Copies a record unchanged. */
static int
pass(struct sender *s, const struct record *rec)
{
	struct strbuf *sb = sw_rec(&s->out, rec->type);
	int i;

	for (i = 1; i < rec->nw; i++)
		rec_word(sb, rec->w[i]);
	return sw_rec_end(&s->out);
}

static void
msg_clear(struct msg *m)
{
	free(m->base);
	free(m->file);
	sv_free(&m->keywords);
	memset(m, 0, sizeof(*m));
}

/* ADD m uid base mtime size flags kw...: the body from the master as it is
 * now (its flags may have changed since the diff: send the current ones). */
static int
send_add(struct sender *s, const struct record *rec)
{
	struct msg found;
	struct stat sb;
	struct strbuf *line;
	char what[PATH_MAX];
	size_t i;
	int fd, st;

	memset(&found, 0, sizeof(found));
	st = store_open_msg(s->master, rec->w[1], rec->w[3], &fd, &found);
	if (st == EX_NOINPUT) {
		sp_debug("%s: %s: gone since the diff", rec->w[1], rec->w[3]);
		s->gone++;
		msg_clear(&found);
		return 0;
	}
	if (st != 0)
		return st;
	if (fstat(fd, &sb) != 0) {
		sp_syserr("%s: %s", rec->w[1], rec->w[3]);
		st = sp_errno_status(errno);
		goto out;
	}
	line = sw_rec(&s->out, R_ADD);
	for (i = 1; i <= 3; i++)
		rec_word(line, rec->w[i]);
	sb_addf(line, " %" PRId64 " %" PRIu64, (int64_t)sb.st_mtime,
	    (uint64_t)sb.st_size);
	rec_word(line, found.flags);
	for (i = 0; i < found.keywords.n; i++)
		rec_word(line, found.keywords.v[i]);
	snprintf(what, sizeof(what), "%s: %s", rec->w[1], rec->w[3]);
	if ((st = sw_rec_end(&s->out)) == 0)
		st = sw_literal(&s->out, fd, sb.st_size, what);
	s->bodies++;
	s->bytes += sb.st_size;
out:
	close(fd);
	msg_clear(&found);
	return st;
}

/* SIEVE u name size mtime: the script as it is now on the master. */
static int
send_sieve(struct sender *s, const struct record *rec)
{
	struct stat sb;
	struct strbuf *line;
	char what[PATH_MAX];
	int fd, st;

	st = store_open_sieve(s->master, rec->w[1], rec->w[2], &fd);
	if (st == EX_NOINPUT) {
		sp_debug("%s: script %s gone since the diff", rec->w[1],
		    rec->w[2]);
		s->gone++;
		return 0;
	}
	if (st != 0)
		return st;
	if (fstat(fd, &sb) != 0) {
		sp_syserr("%s: script %s", rec->w[1], rec->w[2]);
		close(fd);
		return sp_errno_status(errno);
	}
	line = sw_rec(&s->out, R_SIEVE);
	rec_word(line, rec->w[1]);
	rec_word(line, rec->w[2]);
	sb_addf(line, " %" PRIu64 " %" PRId64, (uint64_t)sb.st_size,
	    (int64_t)sb.st_mtime);
	snprintf(what, sizeof(what), "%s: script %s", rec->w[1], rec->w[2]);
	if ((st = sw_rec_end(&s->out)) == 0)
		st = sw_literal(&s->out, fd, sb.st_size, what);
	close(fd);
	return st;
}

static int
send_all(struct sender *s)
{
	struct record rec;
	int got, st = 0;

	while (st == 0 && (got = sr_next(&s->in, &rec)) == 1) {
		if (rec.type == R_ADD)
			st = send_add(s, &rec);
		else if (rec.type == R_SIEVE)
			st = send_sieve(s, &rec);
		else
			st = pass(s, &rec);
	}
	if (st == 0 && got < 0)
		st = s->in.status;
	if (st == 0)
		st = sw_end(&s->out);
	return st;
}

/* sync-apply from our own directory if it is there, else from PATH. */
static char *
apply_path(void)
{
	char self[PATH_MAX], *slash, *p;
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n > 0) {
		self[n] = '\0';
		if ((slash = strrchr(self, '/')) != NULL) {
			*slash = '\0';
			p = xasprintf("%s/sync-apply", self);
			if (access(p, X_OK) == 0)
				return p;
			free(p);
		}
	}
	return xstrdup("sync-apply");
}

static pid_t
spawn_apply(const char *replica, FILE **to)
{
	char *path = apply_path(), *argv[5];
	int p[2], argc = 0;
	pid_t pid;

	if (pipe(p) != 0 || (pid = fork()) < 0) {
		sp_syserr("cannot start sync-apply");
		free(path);
		return -1;
	}
	if (pid == 0) {
		dup2(p[0], 0);
		close(p[0]);
		close(p[1]);
		argv[argc++] = path;
		if (sp_verbosity != 1)
			argv[argc++] = sp_verbosity ? "-v" : "-q";
		argv[argc++] = (char *)replica;
		argv[argc] = NULL;
		execvp(path, argv);
		sp_syserr("cannot run %s", path);
		_exit(EX_UNAVAILABLE);
	}
	free(path);
	close(p[0]);
	*to = fdopen(p[1], "w");
	return pid;
}

static int
wait_apply(pid_t pid)
{
	int ws;

	while (waitpid(pid, &ws, 0) < 0)
		if (errno != EINTR) {
			sp_syserr("waiting for sync-apply");
			return EX_OSERR;
		}
	if (WIFEXITED(ws))
		return WEXITSTATUS(ws);
	sp_err("sync-apply killed by signal %d", WTERMSIG(ws));
	return EX_TEMPFAIL;
}

static struct remote_opts ropts;

static int
run(const char *mroot, const char *replica)
{
	struct store master;
	struct sender s;
	struct sink *sink = NULL;
	FILE *out = stdout;
	pid_t pid = -1;
	int st, ast;

	if ((st = store_open(&master, mroot, STORE_RDONLY)) != 0)
		return st;
	if (master.absent) {
		sp_err("%s: master store not found", mroot);
		store_close(&master);
		return EX_NOINPUT;
	}
	if ((replica != NULL && endpoint_is_remote(replica)) ||
	    (replica == NULL && ropts.deflate_file)) {
		if ((st = sink_open(replica, &ropts, &out, &sink)) != 0) {
			store_close(&master);
			return st;
		}
	} else if (replica != NULL && (pid = spawn_apply(replica, &out)) < 0) {
		store_close(&master);
		return EX_OSERR;
	}
	memset(&s, 0, sizeof(s));
	s.master = &master;
	if ((st = sr_begin(&s.in, stdin, "stdin", SK_CHANGES)) == 0 &&
	    (st = sw_begin(&s.out, out, SK_BUNDLE)) == 0)
		st = send_all(&s);
	sp_debug("sent %lu records, %lu bodies, %" PRIu64 " bytes%s",
	    s.out.count, s.bodies, s.bytes, s.gone ? " (some gone)" : "");
	sr_free(&s.in);
	sw_free(&s.out);
	store_close(&master);
	if (pid > 0) {
		fclose(out);
		ast = wait_apply(pid);
		st = ast != 0 ? ast : st;
	}
	if (sink != NULL)
		st = sink_close(sink, out, st);
	return st;
}

int
main(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "verbose",	no_argument,	NULL, 'v' },
		{ "quiet",	no_argument,	NULL, 'q' },
		{ "syslog",	no_argument,	NULL, 'S' },
		{ "help",	no_argument,	NULL, 'h' },
		{ "version",	no_argument,	NULL, 'V' },
		{ "deflate",	no_argument,	NULL, 'z' },
		REMOTE_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	int c, n;

	sp_init(argv[0]);
	remote_opts_init(&ropts);
	while ((c = getopt_long(argc, argv, "vqhVz", opts, NULL)) != -1) {
		switch (c) {
		case 'v': sp_verbosity++; break;
		case 'q': sp_verbosity = 0; break;
		case 'S': sp_use_syslog(); break;
		case 'h': help(); return 0;
		case 'V': sp_print_version(); return 0;
		case 'z': ropts.deflate_file = 1; break;
		default:
			if (remote_option(&ropts, c, optarg) == 0)
				break;
			usage(stderr);
			return EX_USAGE;
		}
	}
	n = argc - optind;
	if (n < 1 || n > 2) {
		usage(stderr);
		return EX_USAGE;
	}
	sp_catch_signals();
	return run(argv[optind], n == 2 ? argv[optind + 1] : NULL);
}
