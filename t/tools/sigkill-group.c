/*
 * sigkill-group: run a command so that it can be killed with everything it
 * started, the way a crash or an OOM killer would stop it.
 *
 *   sigkill-group CMD [ARG ...]
 *
 * CMD runs in a process group of its own.  A SIGTERM or SIGINT to
 * sigkill-group sends SIGKILL to that whole group.  sigkill-group is the
 * subreaper of everything below it, so processes orphaned by the kill are
 * reaped here (and are gone for good when it exits) even where init does
 * not reap.  It exits once no descendant is left, with CMD's exit status,
 * or 128 + the signal that killed CMD.
 */
#include <sys/types.h>
#include <sys/wait.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t kill_now;

static void
on_signal(int sig)
{
	(void)sig;
	kill_now = 1;
}

int
main(int argc, char **argv)
{
	struct sigaction sa;
	pid_t	 child, pid;
	int	 ws, status = 0, killed = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: sigkill-group CMD [ARG ...]\n");
		return 64;
	}
#ifdef PR_SET_CHILD_SUBREAPER
	(void)prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
#endif
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	if ((child = fork()) == -1) {
		perror("sigkill-group: fork");
		return 71;
	}
	if (child == 0) {
		setpgid(0, 0);
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		execvp(argv[1], argv + 1);
		perror(argv[1]);
		_exit(127);
	}
	setpgid(child, child);
	/* Polled, so that a signal can never slip in before a wait. */
	for (;;) {
		if (kill_now && !killed) {
			kill(-child, SIGKILL);
			killed = 1;
		}
		pid = waitpid(-1, &ws, WNOHANG);
		if (pid == child)
			status = WIFEXITED(ws) ? WEXITSTATUS(ws) :
			    128 + WTERMSIG(ws);
		if (pid > 0)
			continue;
		if (pid == -1 && errno == ECHILD)
			break;
		usleep(5000);
	}
	return status;
}
