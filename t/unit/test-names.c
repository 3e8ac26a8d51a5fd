/*
 * test-names: Cyrus-style names to users, folders and homes, and the names
 * that are refused.
 */
#include <stdlib.h>
#include <string.h>

#include "names.h"
#include "unit.h"

static void
check_parse(const char *name, const char *user, const char *domain,
    const char *folder)
{
	struct mbname mb;
	const char *why = NULL;
	char *back;

	if (!CHECK(mbname_parse(name, &mb, &why) == 0, name)) {
		printf("#   refused: %s\n", why);
		return;
	}
	CHECK_STR(mb.user, user, "user of the name");
	CHECK_STR(mb.domain, domain, "domain of the name");
	CHECK_STR(mb.folder, folder, "folder of the name");
	back = mbname_format(&mb);
	CHECK_STR(back, name, "formats back to the same name");
	free(back);
	mbname_free(&mb);
}

static void
check_refused(const char *name)
{
	struct mbname mb;
	const char *why = NULL;
	int r = mbname_parse(name, &mb, &why);

	CHECK(r == -1 && why != NULL, name);
}

static void
test_mbnames(void)
{
	check_parse("user.fred", "fred", NULL, NULL);
	check_parse("user.fred.Sent", "fred", NULL, "Sent");
	check_parse("user.fred.Work.Projects", "fred", NULL, "Work.Projects");
	check_parse("user.john^doe", "john.doe", NULL, NULL);
	check_parse("user.john^doe.Archive.2020", "john.doe", NULL,
	    "Archive.2020");
	check_parse("example.com!user.fred", "fred", "example.com", NULL);
	check_parse("example.com!user.fred.Trash", "fred", "example.com",
	    "Trash");
	check_parse("user.fred.&AOQ-rger", "fred", NULL, "&AOQ-rger");

	check_refused("");
	check_refused("shared.folder");
	check_refused("user.");
	check_refused("user.fred.");
	check_refused("user.fred..x");
	check_refused("user.fred.a/b");
	check_refused("user.fred/x");
	check_refused("user.^fred");
	check_refused("user.fred.a\tb");
	check_refused("user.fred.a\x7f");
	check_refused("user.fred@x");
	check_refused("localhost!user.fred");
	check_refused("..!user.fred");
	check_refused("exa/mple.com!user.fred");
	check_refused("a.b!c.d!user.fred");
}

static void
test_long_names(void)
{
	char buf[1100], name[1200];
	size_t i;

	memset(buf, 'a', 300);
	buf[300] = '\0';
	snprintf(name, sizeof(name), "user.fred.%s", buf);
	check_refused(name);
	snprintf(name, sizeof(name), "user.%s", buf);
	check_refused(name);

	strcpy(buf, "user.fred");
	for (i = 0; strlen(buf) < 1030; i++)
		strcat(buf, ".abcdefgh");
	check_refused(buf);
}

static void
test_components(void)
{
	const char *why;

	CHECK(name_component_ok("Sent", &why), "plain component");
	CHECK(name_component_ok("a..b", &why), "dots inside are fine");
	CHECK(!name_component_ok("", &why), "empty");
	CHECK(!name_component_ok(".", &why), "dot");
	CHECK(!name_component_ok("..", &why), "dot dot");
	CHECK(!name_component_ok(".hidden", &why), "leading dot");
	CHECK(!name_component_ok("a/b", &why), "slash");
	CHECK(!name_component_ok("a\nb", &why), "newline");
	CHECK(!name_component_ok("a\rb", &why), "carriage return");
}

static void
test_userids(void)
{
	char *u, *d, *s;
	const char *why;

	CHECK(userid_parse("fred", &u, &d, &why) == 0 && d == NULL,
	    "plain user id");
	CHECK_STR(u, "fred", "user part");
	free(u);
	CHECK(userid_parse("fred@example.com", &u, &d, &why) == 0,
	    "user id with a domain");
	CHECK_STR(u, "fred", "user part");
	CHECK_STR(d, "example.com", "domain part");
	free(u);
	free(d);
	CHECK(userid_parse("../x", &u, &d, &why) != 0, "dot dot user");
	CHECK(userid_parse("fred@..", &u, &d, &why) != 0, "dot dot domain");
	CHECK(userid_parse("fred@", &u, &d, &why) != 0, "empty domain");
	CHECK(userid_parse("@example.com", &u, &d, &why) != 0, "empty user");
	CHECK(userid_parse("a^b", &u, &d, &why) != 0, "hat in user");
	CHECK(userid_parse("a@b@example.com", &u, &d, &why) != 0, "two @");

	s = userid_make("fred", NULL);
	CHECK_STR(s, "fred", "make without domain");
	free(s);
	s = userid_make("fred", "example.com");
	CHECK_STR(s, "fred@example.com", "make with domain");
	free(s);

	s = userid_inbox("fred");
	CHECK_STR(s, "user.fred", "inbox of fred");
	free(s);
	s = userid_inbox("john.doe");
	CHECK_STR(s, "user.john^doe", "inbox of john.doe");
	free(s);
	s = userid_inbox("fred@example.com");
	CHECK_STR(s, "example.com!user.fred", "inbox with domain");
	free(s);
	CHECK(userid_inbox("..") == NULL, "no inbox for a bad user id");

	s = mbox_owner("user.fred.Sent");
	CHECK_STR(s, "fred", "owner of a folder");
	free(s);
	s = mbox_owner("example.com!user.john^doe.Sent");
	CHECK_STR(s, "john.doe@example.com", "owner with domain");
	free(s);
	CHECK(mbox_owner("shared.x") == NULL, "no owner of a shared mailbox");

	s = userid_home("fred", &why);
	CHECK_STR(s, "fred", "home of fred");
	free(s);
	s = userid_home("fred@example.com", &why);
	CHECK_STR(s, "example.com/fred", "home with domain");
	free(s);
	CHECK(userid_home(".fred", &why) == NULL, "no home for .fred");
	CHECK(userid_home("fred/x", &why) == NULL, "no home for fred/x");
}

int
main(void)
{
	test_mbnames();
	test_long_names();
	test_components();
	test_userids();
	return unit_done();
}
