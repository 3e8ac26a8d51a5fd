/*
 * slow-writer: a sync log writer that takes its time, to show that a
 * consumer waits for a writer that holds the lock.
 *
 *   slow-writer flock|fcntl LOG SECONDS
 *
 * Opens LOG for appending, locks it the given way (fcntl is what a Cyrus
 * server may use), writes the first half of the entry "MAILBOX
 * user.slow.writer", waits SECONDS, writes the rest and unlocks.
 */
#include <sys/file.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	static const char line[] = "MAILBOX user.slow.writer\n";
	struct flock fl;
	size_t	 rest;
	int	 fd;

	if (argc != 4) {
		fprintf(stderr, "usage: slow-writer flock|fcntl LOG SECONDS\n");
		return 64;
	}
	if ((fd = open(argv[2], O_WRONLY | O_APPEND | O_CREAT, 0600)) == -1) {
		perror(argv[2]);
		return 73;
	}
	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	if (strcmp(argv[1], "fcntl") == 0 ? fcntl(fd, F_SETLKW, &fl) :
	    flock(fd, LOCK_EX)) {
		perror("lock");
		return 75;
	}
	if (write(fd, line, 10) != 10)
		return 74;
	usleep((useconds_t)(atof(argv[3]) * 1e6));
	rest = sizeof(line) - 1 - 10;
	if (write(fd, line + 10, rest) != (ssize_t)rest)
		return 74;
	close(fd);
	return 0;
}
