/* The maildir store on a real temp dir: walks that skip links and odd files, removals that
 * never leave mailboxes_dir, and account removal in its safe order. */
#include "accounts.h"
#include "mailstore.h"
#include "test.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64] = "/tmp/chatmail-test-XXXXXX";
static char path[512];
static struct config config;

static const char *at(const char *relative)
{
	snprintf(path, sizeof path, "%s/%s", dir, relative);
	return path;
}

/* Makes a link at relative pointing to the absolute path of target. */
static void link_to(const char *target, const char *relative)
{
	char from[512];
	snprintf(from, sizeof from, "%s/%s", dir, target);
	CHECK(symlink(from, at(relative)) == 0);
}

static void make(const char *relative, const char *content)
{
	FILE *f = fopen(at(relative), "w");
	CHECK(f != NULL);
	if (f != NULL) {
		fputs(content, f);
		fclose(f);
	}
}

static bool exists(const char *relative)
{
	struct stat st;
	return lstat(at(relative), &st) == 0;
}

static void make_config(void)
{
	char ini[1024];
	struct config_error error;
	int n = snprintf(ini, sizeof ini,
			 "[params]\nmail_domain = example.org\npassdb_path = %s/passdb.sqlite\n"
			 "mailboxes_dir = %s/mail\nvmail_user = %d:%d\n",
			 dir, dir, (int)getuid(), (int)getgid());
	CHECK(config_parse(&config, ini, (size_t)n, &error, NULL, NULL) == 0);
}

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

static void test_remove_account(int root)
{
	struct accounts *accounts = accounts_open(config.passdb_path);
	CHECK(accounts != NULL);
	if (accounts == NULL)
		return;
	CHECK(accounts_insert(accounts, "old@example.org", "{X}h", 10 * 86400) == ACCOUNTS_OK);
	CHECK(accounts_insert(accounts, "new@example.org", "{X}h", 50 * 86400) == ACCOUNTS_OK);
	CHECK(accounts_insert(accounts, "unknown@example.org", "{X}h", 0) == ACCOUNTS_OK);
	CHECK(mkdir(at("mail/old@example.org"), 0700) == 0);
	CHECK(mkdir(at("mail/old@example.org/cur"), 0700) == 0);
	make("mail/old@example.org/cur/mail", "old mail");
	CHECK(mkdir(at("mail/new@example.org"), 0700) == 0);
	make("mail/new@example.org/keep", "x");

	/* delete_idle: only while the login day is known and before the given day */
	CHECK(accounts_delete_idle(accounts, "unknown@example.org", 100 * 86400) ==
	      ACCOUNTS_NOT_FOUND);
	CHECK(accounts_delete_idle(accounts, "new@example.org", 50 * 86400) == ACCOUNTS_NOT_FOUND);

	/* an account that logged in since: kept, home back in place */
	CHECK(mailstore_remove_account(accounts, root, "new@example.org", 20 * 86400) ==
	      MAILSTORE_KEPT);
	CHECK(exists("mail/new@example.org/keep"));

	CHECK(mailstore_remove_account(accounts, root, "old@example.org", 20 * 86400) ==
	      MAILSTORE_REMOVED);
	CHECK(!exists("mail/old@example.org"));
	CHECK(accounts_get(accounts, "old@example.org", (char[PASSWD_HASH_MAX]){0}, NULL) ==
	      ACCOUNTS_NOT_FOUND);
	/* nothing of it stays in the trash */
	CHECK(exists("mail/" MAILSTORE_TRASH) && rmdir(at("mail/" MAILSTORE_TRASH)) == 0);

	/* unconditional (chatmailctl delete): the row without a home, then neither */
	CHECK(mailstore_remove_account(accounts, root, "unknown@example.org", 0) ==
	      MAILSTORE_REMOVED);
	CHECK(mailstore_remove_account(accounts, root, "unknown@example.org", 0) ==
	      MAILSTORE_NO_ACCOUNT);
	/* a home without a row goes too */
	CHECK(mkdir(at("mail/orphan@example.org"), 0700) == 0);
	CHECK(mailstore_remove_account(accounts, root, "orphan@example.org", 0) ==
	      MAILSTORE_REMOVED);
	CHECK(!exists("mail/orphan@example.org"));

	/* a leftover of an interrupted run is emptied */
	CHECK(mkdir(at("mail/" MAILSTORE_TRASH "/123-4-5"), 0700) == 0);
	make("mail/" MAILSTORE_TRASH "/123-4-5/mail", "x");
	CHECK(mailstore_empty_trash(root) == 0);
	CHECK(!exists("mail/" MAILSTORE_TRASH "/123-4-5"));
	accounts_close(accounts);
}

int main(void)
{
	char command[128];
	if (mkdtemp(dir) == NULL)
		return 1;
	make_config();
	CHECK(mkdir(at("mail"), 0700) == 0);
	int root = mailstore_open_root(&config);
	CHECK(root >= 0);
	test_walk(root);
	test_remove_tree(root);
	test_remove_account(root);
	CHECK(exists("outside/secret"));
	close(root);
	snprintf(command, sizeof command, "rm -rf '%s'", dir);
	if (system(command) != 0)
		return 1;
	return test_summary("mailstore");
}
