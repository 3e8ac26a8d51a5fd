/*
 * driver: a main() for fuzz targets built without libFuzzer.  Each argument
 * is a file, or a directory whose regular files are read; every file is fed
 * once to LLVMFuzzerTestOneInput.  A crash or sanitizer report is the
 * failure; otherwise it prints how many inputs ran.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
run_file(const char *path, unsigned long *count)
{
	struct strbuf sb = STRBUF_INIT;

	if (read_file(path, &sb) < 0) {
		sp_syserr("%s", path);
		return EX_NOINPUT;
	}
	LLVMFuzzerTestOneInput((const uint8_t *)sb.s, sb.len);
	sb_free(&sb);
	(*count)++;
	return 0;
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The regular files of a directory, in name order. */
static int
run_dir(const char *dir, unsigned long *count)
{
	struct strvec files = STRVEC_INIT;
	struct dirent *de;
	struct stat sb;
	DIR *d;
	size_t i;
	int st = 0;
	char *path;

	if ((d = opendir(dir)) == NULL) {
		sp_syserr("%s", dir);
		return EX_NOINPUT;
	}
	while ((de = readdir(d)) != NULL) {
		path = xasprintf("%s/%s", dir, de->d_name);
		if (stat(path, &sb) == 0 && S_ISREG(sb.st_mode))
			sv_push_owned(&files, path);
		else
			free(path);
	}
	closedir(d);
	qsort(files.v, files.n, sizeof(*files.v), cmp_names);
	for (i = 0; i < files.n; i++)
		st = sp_status_worst(st, run_file(files.v[i], count));
	sv_free(&files);
	return st;
}

int
main(int argc, char **argv)
{
	unsigned long count = 0;
	struct stat sb;
	int i, st = 0;

	sp_init(argv[0]);
	for (i = 1; i < argc; i++) {
		if (stat(argv[i], &sb) < 0) {
			sp_syserr("%s", argv[i]);
			st = sp_status_worst(st, EX_NOINPUT);
		} else if (S_ISDIR(sb.st_mode))
			st = sp_status_worst(st, run_dir(argv[i], &count));
		else
			st = sp_status_worst(st, run_file(argv[i], &count));
	}
	printf("%lu inputs\n", count);
	return st;
}
