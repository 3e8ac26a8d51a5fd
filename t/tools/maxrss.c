/*
 * maxrss: how much memory a command needed at most.
 *
 *   maxrss FILE CMD [ARG ...]
 *
 * Runs CMD, writes its peak resident set size in kilobytes to FILE and
 * exits with CMD's status (128 + signal if it was killed).
 */
#include <sys/resource.h>
#include <sys/wait.h>

#include <stdio.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	struct rusage ru;
	FILE	*fp;
	pid_t	 pid;
	int	 ws;

	if (argc < 3) {
		fprintf(stderr, "usage: maxrss FILE CMD [ARG ...]\n");
		return 64;
	}
	if ((pid = fork()) == -1) {
		perror("maxrss: fork");
		return 71;
	}
	if (pid == 0) {
		execvp(argv[2], argv + 2);
		perror(argv[2]);
		_exit(127);
	}
	if (wait4(pid, &ws, 0, &ru) == -1) {
		perror("maxrss: wait4");
		return 71;
	}
	if ((fp = fopen(argv[1], "w")) == NULL) {
		perror(argv[1]);
		return 73;
	}
	fprintf(fp, "%ld\n", ru.ru_maxrss);
	fclose(fp);
	return WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
}
