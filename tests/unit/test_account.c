/* The account store, the create-on-login policy and account removal, on a real sqlite file
 * and maildirs in a temp dir. */
#include "account.h"
#include "accounts.h"
#include "mailstore.h"
#include "test.h"
#include "test_files.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static struct config config;

static int count(const char *addr, int64_t last_login, void *context)
{
	(void)addr, (void)last_login;
	++*(int *)context;
	return 0;
}

static void test_store(void)
{
	char hash[PASSWD_HASH_MAX];
	int64_t last;
	struct accounts *a = accounts_open(config.passdb_path);
	CHECK(a != NULL);
	CHECK(accounts_get(a, "nobody123@example.org", hash, &last) == ACCOUNTS_NOT_FOUND);
	CHECK(accounts_insert(a, "abcdefghi@example.org", "{X}h1", 86400) == ACCOUNTS_OK);
	CHECK(accounts_insert(a, "abcdefghi@example.org", "{X}h2", 86400) == ACCOUNTS_EXISTS);
	CHECK(accounts_get(a, "abcdefghi@example.org", hash, &last) == ACCOUNTS_OK);
	CHECK_STR(hash, "{X}h1");
	CHECK(last == 86400);
	CHECK(accounts_touch(a, "abcdefghi@example.org", 3 * 86400) == ACCOUNTS_OK);
	CHECK(accounts_touch(a, "abcdefghi@example.org", 2 * 86400) == ACCOUNTS_OK);
	CHECK(accounts_get(a, "abcdefghi@example.org", hash, &last) == ACCOUNTS_OK);
	CHECK(last == 3 * 86400); /* never moves back */
	int n = 0;
	CHECK(accounts_foreach(a, count, &n) == ACCOUNTS_OK && n == 1);
	CHECK(accounts_delete(a, "abcdefghi@example.org") == ACCOUNTS_OK);
	CHECK(accounts_delete(a, "abcdefghi@example.org") == ACCOUNTS_NOT_FOUND);
	CHECK(accounts_day(86400 * 5 + 3600) == 86400 * 5);
	accounts_close(a);
}

/* A reference relay's database (no user_version, password nullable) is adopted as it is. */
static void test_migration(void)
{
	char path[128], hash[PASSWD_HASH_MAX];
	sqlite3 *db;
	snprintf(path, sizeof path, "%s/reference.sqlite", dir);
	CHECK(sqlite3_open(path, &db) == SQLITE_OK);
	CHECK(sqlite3_exec(db, "CREATE TABLE users (addr TEXT PRIMARY KEY, password TEXT,"
			       " last_login INTEGER); INSERT INTO users VALUES"
			       " ('oldoldold@example.org', '{SHA512-CRYPT}$6$x$y', 5)",
			   NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_close(db);
	struct accounts *a = accounts_open(path);
	CHECK(a != NULL);
	CHECK(accounts_get(a, "oldoldold@example.org", hash, NULL) == ACCOUNTS_OK);
	CHECK_STR(hash, "{SHA512-CRYPT}$6$x$y");
	accounts_close(a);

	/* what Dovecot's last_login plugin does (its sql dict's upsert into logins) reaches the
	 * account's row, never moves it back, makes no row, and leaves logins empty */
	CHECK(sqlite3_open(path, &db) == SQLITE_OK);
#define UPSERT                                                                    \
	"INSERT INTO logins (last_login, addr) VALUES (%d, '%s')" \
	" ON CONFLICT (addr) DO UPDATE SET last_login = excluded.last_login"
	char sql[256];
	int64_t last;
	snprintf(sql, sizeof sql, UPSERT, 1700000000, "oldoldold@example.org");
	CHECK(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK);
	snprintf(sql, sizeof sql, UPSERT, 1600000000, "oldoldold@example.org");
	CHECK(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK);
	snprintf(sql, sizeof sql, UPSERT, 1700000000, "nobodyyyy@example.org");
	CHECK(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_close(db);
	a = accounts_open(path);
	CHECK(accounts_get(a, "oldoldold@example.org", hash, &last) == ACCOUNTS_OK);
	CHECK(last == 1700000000);
	CHECK(accounts_get(a, "nobodyyyy@example.org", hash, NULL) == ACCOUNTS_NOT_FOUND);
	accounts_close(a);
	CHECK(sqlite3_open(path, &db) == SQLITE_OK);
	sqlite3_stmt *stmt;
	CHECK(sqlite3_prepare_v2(db, "SELECT count(*) FROM logins", -1, &stmt, NULL) == SQLITE_OK);
	CHECK(sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_int(stmt, 0) == 0);
	sqlite3_finalize(stmt);
	sqlite3_close(db);

	/* a schema newer than this program knows is refused, not damaged */
	CHECK(sqlite3_open(path, &db) == SQLITE_OK);
	CHECK(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_close(db);
	CHECK(accounts_open(path) == NULL);
	snprintf(path, sizeof path, "%s/no/such/dir/x.sqlite", dir);
	CHECK(accounts_open(path) == NULL);
}

static void test_login(void)
{
	char hash[PASSWD_HASH_MAX], before[PASSWD_HASH_MAX], path[256];
	struct stat st;
	int64_t now = 1700000000, last;
	struct accounts *a = accounts_open(config.passdb_path);
	CHECK(a != NULL);
	const char *addr = "newuser01@example.org";

	CHECK(account_login(&config, a, addr, "short", now) == LOGIN_FAILED);
	CHECK(accounts_get(a, addr, hash, NULL) == ACCOUNTS_NOT_FOUND);
	CHECK(account_login(&config, a, addr, "", now) == LOGIN_FAILED);
	/* a password longer than the hasher takes is a failed login, not a temporary failure */
	char long_password[PASSWD_MAX + 2];
	memset(long_password, 'p', sizeof long_password - 1);
	long_password[PASSWD_MAX + 1] = '\0';
	CHECK(account_login(&config, a, addr, long_password, now) == LOGIN_FAILED);
	long_password[PASSWD_MAX] = '\0';
	CHECK(account_login(&config, a, "newuser06@example.org", long_password, now) ==
	      LOGIN_CREATED);
	CHECK(account_login(&config, a, "newuser06@example.org", long_password, now) == LOGIN_OK);
	CHECK(accounts_get(a, addr, hash, NULL) == ACCOUNTS_NOT_FOUND);
	CHECK(account_login(&config, a, addr, "first-password", now) == LOGIN_CREATED);
	snprintf(path, sizeof path, "%s/mail/%s/enforceE2EEincoming", dir, addr);
	CHECK(stat(path, &st) == 0);
	CHECK(accounts_get(a, addr, before, &last) == ACCOUNTS_OK);
	CHECK(last == accounts_day(now));
	CHECK(account_login(&config, a, addr, "first-password", now + 86400) == LOGIN_OK);
	CHECK(accounts_get(a, addr, hash, &last) == ACCOUNTS_OK);
	CHECK(last == accounts_day(now + 86400));
	CHECK(account_login(&config, a, addr, "other-password", now) == LOGIN_FAILED);
	CHECK(accounts_get(a, addr, hash, NULL) == ACCOUNTS_OK);
	CHECK_STR(hash, before); /* a wrong password never replaces the stored hash */

	CHECK(account_login(&config, a, "bad@example.org", "first-password", now) == LOGIN_FAILED);
	CHECK(account_login(&config, a, "newuser02@example.net", "first-password", now) ==
	      LOGIN_FAILED);

	/* the nocreate file blocks creation, not existing accounts */
	FILE *f = fopen(config.nocreate_file, "w");
	CHECK(f != NULL);
	if (f != NULL)
		fclose(f);
	CHECK(account_creation_allowed(&config) == CREATION_NOCREATE_FILE);
	CHECK(account_login(&config, a, "newuser03@example.org", "first-password", now) ==
	      LOGIN_FAILED);
	CHECK(accounts_get(a, "newuser03@example.org", hash, NULL) == ACCOUNTS_NOT_FOUND);
	CHECK(account_login(&config, a, addr, "first-password", now) == LOGIN_OK);
	unlink(config.nocreate_file);
	CHECK(account_creation_allowed(&config) == CREATION_ALLOWED);

	/* resource limits refuse creation too */
	struct config tight = config;
	tight.min_available_memory = UINT64_C(1) << 60;
	CHECK(account_creation_allowed(&tight) == CREATION_LOW_MEMORY);
	tight = config;
	tight.min_free_disk_space = UINT64_C(1) << 60;
	CHECK(account_creation_allowed(&tight) == CREATION_LOW_DISK);
	tight = config;
	tight.max_load_1m = -1;
	CHECK(account_creation_allowed(&tight) == CREATION_HIGH_LOAD);
	CHECK(account_login(&tight, a, "newuser04@example.org", "first-password", now) ==
	      LOGIN_FAILED);

	/* an unknown vmail user: the account is not left behind without its home */
	tight = config;
	snprintf(tight.vmail_user, sizeof tight.vmail_user, "no-such-user-here");
	CHECK(account_login(&tight, a, "newuser05@example.org", "first-password", now) ==
	      LOGIN_TEMPFAIL);
	CHECK(accounts_get(a, "newuser05@example.org", hash, NULL) == ACCOUNTS_NOT_FOUND);
	accounts_close(a);
}

/* SPEC §5: the home goes into the trash before the row, so an address is never handed over
 * with its old mail. */
static void test_remove(void)
{
	CHECK(mkdir(at("mail"), 0700) == 0 || errno == EEXIST);
	int root = mailstore_open_root(config.mailboxes_dir);
	CHECK(root >= 0);
	struct accounts *accounts = accounts_open(config.passdb_path);
	CHECK(accounts != NULL);
	if (accounts == NULL) {
		close(root);
		return;
	}
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
	CHECK(account_remove(accounts, root, "new@example.org", 20 * 86400) == ACCOUNT_KEPT);
	CHECK(exists("mail/new@example.org/keep"));

	CHECK(account_remove(accounts, root, "old@example.org", 20 * 86400) == ACCOUNT_REMOVED);
	CHECK(!exists("mail/old@example.org"));
	CHECK(accounts_get(accounts, "old@example.org", (char[PASSWD_HASH_MAX]){0}, NULL) ==
	      ACCOUNTS_NOT_FOUND);
	/* nothing of it stays in the trash */
	CHECK(exists("mail/" MAILSTORE_TRASH) && rmdir(at("mail/" MAILSTORE_TRASH)) == 0);

	/* unconditional (chatmailctl delete): the row without a home, then neither */
	CHECK(account_remove(accounts, root, "unknown@example.org", 0) == ACCOUNT_REMOVED);
	CHECK(account_remove(accounts, root, "unknown@example.org", 0) == ACCOUNT_NONE);
	/* a home without a row goes too */
	CHECK(mkdir(at("mail/orphan@example.org"), 0700) == 0);
	CHECK(account_remove(accounts, root, "orphan@example.org", 0) == ACCOUNT_REMOVED);
	CHECK(!exists("mail/orphan@example.org"));

	/* a leftover of an interrupted run is emptied */
	CHECK(mkdir(at("mail/" MAILSTORE_TRASH "/123-4-5"), 0700) == 0);
	make("mail/" MAILSTORE_TRASH "/123-4-5/mail", "x");
	CHECK(mailstore_empty_trash(root) == 0);
	CHECK(!exists("mail/" MAILSTORE_TRASH "/123-4-5"));
	accounts_close(accounts);
	close(root);
}

int main(void)
{
	CHECK(mkdtemp(dir) != NULL);
	make_test_config(&config);
	test_store();
	test_migration();
	test_login();
	test_remove();
	char command[128];
	snprintf(command, sizeof command, "rm -rf '%s'", dir);
	CHECK(system(command) == 0);
	return test_summary("account");
}
