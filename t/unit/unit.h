/*
 * unit: the smallest test harness that prints TAP.
 *
 * Each CHECK prints "ok N - name" or "not ok N - name" (with the file, line
 * and values on a "#" line below a failure); main() ends with
 * "return unit_done();", which prints the plan and returns 1 if anything
 * failed.
 */
#ifndef SP_UNIT_H
#define SP_UNIT_H

#include <stdio.h>
#include <string.h>

static int unit_n, unit_failed;

static inline int
unit_check(int ok, const char *name, const char *file, int line,
    const char *expr)
{
	unit_n++;
	printf("%sok %d - %s\n", ok ? "" : "not ", unit_n, name);
	if (!ok) {
		unit_failed++;
		printf("#   %s:%d: %s\n", file, line, expr);
	}
	fflush(stdout);
	return ok;
}

static inline int
unit_check_eq(long long a, long long b, const char *name, const char *file,
    int line)
{
	if (!unit_check(a == b, name, file, line, "values differ"))
		printf("#   got %lld, expected %lld\n", a, b);
	return a == b;
}

static inline int
unit_check_str(const char *a, const char *b, const char *name,
    const char *file, int line)
{
	int ok = a != NULL && b != NULL ? strcmp(a, b) == 0 : a == b;

	if (!unit_check(ok, name, file, line, "strings differ"))
		printf("#   got \"%s\", expected \"%s\"\n",
		    a ? a : "(null)", b ? b : "(null)");
	return ok;
}

static inline int
unit_done(void)
{
	printf("1..%d\n", unit_n);
	return unit_failed != 0;
}

#define CHECK(cond, name) \
	unit_check(!!(cond), (name), __FILE__, __LINE__, #cond)
#define CHECK_EQ(a, b, name) \
	unit_check_eq((long long)(a), (long long)(b), (name), __FILE__, \
	    __LINE__)
#define CHECK_STR(a, b, name) \
	unit_check_str((a), (b), (name), __FILE__, __LINE__)

#endif
