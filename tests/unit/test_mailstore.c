/* The maildir store on a real temp dir: names, walks that skip links and odd files, removals
 * that never leave mailboxes_dir, homes made and looked up without following a link. */
#include "mailstore.h"
#include "smtp.h"
#include "test.h"
#include "test_files.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* The two bounds come from the same RFC 5321 path limit: an address that SMTP carries is
 * exactly one that can name a home. */
_Static_assert(MAILSTORE_ADDRESS_MAX == SMTP_ADDRESS_MAX, "SMTP and the store disagree");

static struct config config;

static int collect(const struct mailstore_mail *mail, void *context)
{
	char *seen = context;
	size_t len = strlen(seen);
	snprintf(seen + len, 1024 - len, "%s%s%s/%s=%llu ", mail->folder, *mail->folder ? "/" : "",
		 mail->sub, mail->name, (unsigned long long)mail->size);
	return 0;
}

static void test_walk(int root)
{
	const char *dirs[] = {"mail/a@example.org",
			      "mail/a@example.org/cur",
			      "mail/a@example.org/new",
			      "mail/a@example.org/tmp",
			      "mail/a@example.org/.Sent",
			      "mail/a@example.org/.Sent/cur",
			      "mail/a@example.org/cur/subdir",
			      "outside"};
	for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++)
		CHECK(mkdir(at(dirs[i]), 0700) == 0);
	make("mail/a@example.org/cur/m1", "12345");
	make("mail/a@example.org/new/m2", "1");
	make("mail/a@example.org/tmp/m3", "in delivery");
	make("mail/a@example.org/.Sent/cur/m4", "1234");
	make("mail/a@example.org/cur/.hidden", "x");
	make("mail/a@example.org/dovecot-uidlist", "not a mail");
	make("outside/secret", "never seen");
	link_to("outside/secret", "mail/a@example.org/cur/link");
	link_to("outside", "mail/a@example.org/.Evil");

	char seen[1024] = "";
	struct mailstore_problems problems = {0, 0};
	int home = mailstore_open_home(root, "a@example.org");
	CHECK(home >= 0);
	CHECK(mailstore_walk(home, "a@example.org", collect, seen, &problems) == 0);
	/* readdir order is the file system's: check each part */
	CHECK(strstr(seen, "cur/m1=5 ") != NULL);
	CHECK(strstr(seen, "new/m2=1 ") != NULL);
	CHECK(strstr(seen, ".Sent/cur/m4=4 ") != NULL);
	CHECK(strstr(seen, "m3") == NULL && strstr(seen, "secret") == NULL);
	CHECK(strstr(seen, "link") == NULL && strstr(seen, "hidden") == NULL);
	CHECK(problems.skipped == 3); /* the file link, the subdir, the folder link */
	CHECK(problems.errors == 0);
	close(home);

	/* a home that is a link is refused */
	link_to("outside", "mail/b@example.org");
	CHECK(mailstore_open_home(root, "b@example.org") < 0);
}

static void test_remove_tree(int root)
{
	/* links inside go as links; what they point to stays */
	CHECK(mailstore_remove_tree(root, "a@example.org", MAILSTORE_TREE_DEPTH_MAX) == 0);
	CHECK(!exists("mail/a@example.org"));
	CHECK(exists("outside/secret"));
	CHECK(mailstore_remove_tree(root, "b@example.org", MAILSTORE_TREE_DEPTH_MAX) == 0);
	CHECK(!exists("mail/b@example.org") && exists("outside/secret"));
	CHECK(mailstore_remove_tree(root, "nothing-here", 3) == 0);

	/* deeper than allowed: refused, and the part it could not reach stays */
	CHECK(mkdir(at("mail/deep"), 0700) == 0 && mkdir(at("mail/deep/1"), 0700) == 0 &&
	      mkdir(at("mail/deep/1/2"), 0700) == 0);
	CHECK(mailstore_remove_tree(root, "deep", 2) != 0);
	CHECK(exists("mail/deep/1"));
	CHECK(mailstore_remove_tree(root, "deep", 3) == 0);
	CHECK(!exists("mail/deep"));
}

static bool config_for(struct config *c, const char *domain)
{
	char ini[256];
	struct config_error error;
	int n = snprintf(ini, sizeof ini, "[params]\nmail_domain = %s\n", domain);
	return config_parse(c, ini, (size_t)n, &error, NULL, NULL) == 0;
}

static void test_names(void)
{
	struct config c;
	CHECK(config_for(&c, "example.org"));
#define HOME(s) mailstore_home_name(&c, (s), sizeof(s) - 1)
	CHECK(HOME("abcdefghi@example.org"));
	CHECK(HOME("a@example.org")); /* lengths are not this check's business */
	CHECK(HOME("a.b-c_d9@example.org"));
	CHECK(!HOME("Abc@example.org")); /* Dovecot lower-cases: never two spellings */
	CHECK(!HOME("abc@example.com"));
	CHECK(!HOME("abc@example.org.evil"));
	CHECK(!HOME("abc@sub.example.org"));
	CHECK(!HOME("@example.org"));
	CHECK(!HOME(".abc@example.org"));
	CHECK(!HOME("a/b@example.org"));
	CHECK(!HOME("..@example.org"));
	CHECK(!HOME("a@b@example.org"));
	CHECK(!HOME("abc"));
	CHECK(!HOME(""));
	CHECK(!HOME(".deleted"));
	CHECK(!HOME("lost+found"));
	CHECK(!HOME("ab\0c@example.org"));
	CHECK(!HOME("a b@example.org"));
	char long_name[300];
	memset(long_name, 'a', sizeof long_name);
	memcpy(long_name + sizeof long_name - 12, "@example.org", 12);
	CHECK(!mailstore_home_name(&c, long_name, sizeof long_name));
	size_t longest = MAILSTORE_ADDRESS_MAX;
	CHECK(mailstore_home_name(&c, long_name + sizeof long_name - longest, longest));
	CHECK(!mailstore_home_name(&c, long_name + sizeof long_name - longest - 1, longest + 1));

	CHECK(config_for(&c, "192.0.2.1"));
	CHECK(HOME("abc@[192.0.2.1]"));
	CHECK(!HOME("abc@192.0.2.1"));
	CHECK(!HOME("abc@[192.0.2.2]"));

#define MAIL(s) mailstore_mail_name((s), sizeof(s) - 1)
	CHECK(MAIL("1700000000.M1P2.host,S=123,W=130:2,S"));
	CHECK(MAIL("x"));
	CHECK(!MAIL(""));
	CHECK(!MAIL(".hidden"));
	CHECK(!MAIL("a/b"));
	CHECK(!MAIL("a\0b"));

#define FOLDER(s) mailstore_folder_name((s), sizeof(s) - 1)
	CHECK(FOLDER(".Sent"));
	CHECK(FOLDER(".Sent Messages"));
	CHECK(FOLDER(".a.b"));
	CHECK(!FOLDER("."));
	CHECK(!FOLDER(".."));
	CHECK(!FOLDER("Sent"));
	CHECK(!FOLDER("cur"));
	CHECK(!FOLDER(".a/b"));
	CHECK(!FOLDER(""));
}

/* What filtermail may look up: one canonical path component, nothing else. */
static void test_canonical_names(void)
{
#define CANONICAL(s) mailstore_canonical_name((s), sizeof(s) - 1)
	CHECK(CANONICAL("bob@example.org"));
	CHECK(CANONICAL("b.o_b-1@mx.example.org"));
	CHECK(CANONICAL("bob@[192.0.2.1]"));
	CHECK(CANONICAL("bob@_chat.test"));
	CHECK(!CANONICAL("BOB@example.org"));
	CHECK(!CANONICAL("bob@Example.org"));
	CHECK(!CANONICAL("bob+tag@example.org"));
	CHECK(!CANONICAL("\"bob\"@example.org"));
	CHECK(!CANONICAL("bob@example.org/x"));
	CHECK(!CANONICAL("bob@.example.org"));
	CHECK(!CANONICAL("bob@"));
	CHECK(!CANONICAL("bob@[192.0.2.1"));
	CHECK(!CANONICAL("bob@[::1]"));
	CHECK(!CANONICAL(".bob@example.org"));
	CHECK(!CANONICAL("@example.org"));
	CHECK(!CANONICAL("bob"));
	CHECK(!CANONICAL("."));
	CHECK(!CANONICAL(".."));
	CHECK(!CANONICAL("../x@example.org"));
	CHECK(!CANONICAL("a\nb@example.org"));
	CHECK(!CANONICAL("a\0b@example.org"));
	CHECK(!CANONICAL(""));
	CHECK(!CANONICAL(MAILSTORE_TRASH));
	char name[MAILSTORE_ADDRESS_MAX + 1];
	memset(name, 'a', sizeof name);
	memcpy(name + sizeof name - 12, "@example.org", 12);
	CHECK(!mailstore_canonical_name(name, sizeof name));
	CHECK(mailstore_canonical_name(name + 1, MAILSTORE_ADDRESS_MAX));
}

static int enforced(const char *addr)
{
	bool enforce = true;
	int rc = mailstore_enforces_e2ee(config.mailboxes_dir, addr, &enforce);
	return rc != 0 ? -1 : enforce;
}

static void test_enforce(void)
{
	CHECK(mkdir(at("mail/bob@example.org"), 0700) == 0);
	make("mail/bob@example.org/" MAILSTORE_ENFORCE_E2EE_FILE, "");
	CHECK(mkdir(at("mail/open@example.org"), 0700) == 0);
	CHECK(mkdir(at("plain"), 0700) == 0);

	CHECK(enforced("bob@example.org") == 1);
	CHECK(enforced("open@example.org") == 0);
	CHECK(enforced("nobody@example.org") == 0);
	/* Not canonical: the caller canonicalises; anything else cannot tell, so fails closed. */
	CHECK(enforced("BOB@Example.ORG") == -1 && errno == EINVAL);
	CHECK(enforced("bob+tag@example.org") == -1 && errno == EINVAL);

	/* Never outside mailboxes_dir: no path, no parent, no symbolic link. */
	CHECK(enforced("../plain") == -1 && errno == EINVAL);
	CHECK(enforced("..") == -1);
	link_to("plain", "mail/linked@example.org");
	CHECK(enforced("linked@example.org") == -1);
	/* The enforce file itself may be a link: it exists, so encryption is enforced. */
	CHECK(symlink("/nonexistent", at("mail/open@example.org/" MAILSTORE_ENFORCE_E2EE_FILE)) ==
	      0);
	CHECK(enforced("open@example.org") == 1);
	/* A file where the maildir should be is no maildir we can read. */
	make("mail/file@example.org", "");
	CHECK(enforced("file@example.org") == -1);

	bool enforce = true;
	CHECK(mailstore_enforces_e2ee("/nonexistent", "bob@example.org", &enforce) == -1);
	CHECK(!enforce);
}

static void test_make_home(void)
{
	struct stat st;
	CHECK(mailstore_make_home(&config, "new@example.org") == 0);
	CHECK(lstat(at("mail/new@example.org"), &st) == 0 && S_ISDIR(st.st_mode) &&
	      (st.st_mode & 0777) == 0700);
	CHECK(lstat(at("mail/new@example.org/" MAILSTORE_ENFORCE_E2EE_FILE), &st) == 0 &&
	      S_ISREG(st.st_mode));
	/* again: the home and what it holds stay */
	make("mail/new@example.org/mail", "x");
	CHECK(mailstore_make_home(&config, "new@example.org") == 0);
	CHECK(exists("mail/new@example.org/mail"));

	/* a link where the home should be is refused: nothing is made through it */
	CHECK(mkdir(at("target"), 0700) == 0);
	link_to("target", "mail/hijack@example.org");
	CHECK(mailstore_make_home(&config, "hijack@example.org") != 0);
	CHECK(!exists("target/" MAILSTORE_ENFORCE_E2EE_FILE));
	/* names that are no single canonical component are refused */
	CHECK(mailstore_make_home(&config, "../target") != 0);
	CHECK(mailstore_make_home(&config, "Upper@example.org") != 0);
	CHECK(!exists("mail/Upper@example.org"));

	/* a missing mailboxes_dir is made first */
	struct config fresh = config;
	snprintf(fresh.mailboxes_dir, sizeof fresh.mailboxes_dir, "%s", at("fresh"));
	CHECK(mailstore_make_home(&fresh, "new@example.org") == 0);
	CHECK(exists("fresh/new@example.org/" MAILSTORE_ENFORCE_E2EE_FILE));
}

static int note_home(const char *addr, int home_fd, void *context)
{
	char *seen = context;
	bool enforce = false;
	size_t len = strlen(seen);
	CHECK(mailstore_home_enforces_e2ee(home_fd, &enforce) == 0);
	snprintf(seen + len, 1024 - len, "%s%s ", addr, enforce ? "(e2ee)" : "");
	return 0;
}

static void test_each_home(int root)
{
	char seen[1024] = "";
	struct mailstore_problems problems = {0, 0};
	CHECK(mkdir(at("mail/" MAILSTORE_TRASH), 0700) == 0);
	CHECK(mkdir(at("mail/lost+found"), 0700) == 0);
	CHECK(mkdir(at("mail/someone@other.org"), 0700) == 0);
	CHECK(mailstore_each_home(&config, root, note_home, seen, &problems) == 0);
	/* readdir order is the file system's: check each part */
	CHECK(strstr(seen, "bob@example.org(e2ee) ") != NULL);
	CHECK(strstr(seen, "open@example.org(e2ee) ") != NULL);
	CHECK(strstr(seen, "new@example.org(e2ee) ") != NULL);
	CHECK(strstr(seen, "linked") == NULL && strstr(seen, "hijack") == NULL);
	CHECK(strstr(seen, "file@") == NULL && strstr(seen, "other.org") == NULL);
	CHECK(strstr(seen, "lost") == NULL && strstr(seen, MAILSTORE_TRASH) == NULL);
	/* two links, one file, two foreign names; the trash is no problem */
	CHECK(problems.skipped == 5 && problems.errors == 0);
}

int main(void)
{
	char command[128];
	if (mkdtemp(dir) == NULL)
		return 1;
	make_test_config(&config);
	CHECK(mkdir(at("mail"), 0700) == 0);
	int root = mailstore_open_root(config.mailboxes_dir);
	CHECK(root >= 0);
	test_walk(root);
	test_remove_tree(root);
	test_names();
	test_canonical_names();
	test_enforce();
	test_make_home();
	test_each_home(root);
	CHECK(exists("outside/secret"));
	close(root);
	snprintf(command, sizeof command, "rm -rf '%s'", dir);
	if (system(command) != 0)
		return 1;
	return test_summary("mailstore");
}
