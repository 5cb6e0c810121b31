/* The account store on sqlite3: one table, prepared statements, WAL so readers never wait. */
#include "accounts.h"

#include "log.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The statements, each prepared at its first use: a program reads only the schema it needs. */
enum statement { GET, INSERT, TOUCH, DELETE, DELETE_IDLE, EACH, STATEMENTS };

struct accounts {
	sqlite3 *db;
	sqlite3_stmt *stmt[STATEMENTS];
};

/* Each step moves the schema from version (index) to version (index + 1). The first one
 * also adopts a reference relay's database, whose users table has the same columns. */
static const char *const migrations[ACCOUNTS_SCHEMA_VERSION] = {
	"CREATE TABLE IF NOT EXISTS users (addr TEXT PRIMARY KEY, password TEXT NOT NULL,"
	" last_login INTEGER)",
	/* Where Dovecot's last_login plugin writes (its sql dict inserts a row, which users'
	 * NOT NULL password forbids): the trigger moves the time into users, for existing rows
	 * only and never backwards, and leaves logins empty. */
	"CREATE TABLE IF NOT EXISTS logins (addr TEXT PRIMARY KEY, last_login INTEGER);"
	"CREATE TRIGGER IF NOT EXISTS logins_to_users AFTER INSERT ON logins BEGIN"
	" UPDATE users SET last_login = NEW.last_login WHERE addr = NEW.addr"
	" AND (last_login IS NULL OR last_login < NEW.last_login);"
	" DELETE FROM logins WHERE addr = NEW.addr; END",
};

static int user_version(sqlite3 *db)
{
	sqlite3_stmt *stmt;
	int version = -1;
	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &stmt, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(stmt) == SQLITE_ROW)
		version = sqlite3_column_int(stmt, 0);
	sqlite3_finalize(stmt);
	return version;
}

static int migrate(sqlite3 *db)
{
	char sql[64];
	if (user_version(db) == ACCOUNTS_SCHEMA_VERSION)
		return 0;
	/* IMMEDIATE takes the write lock first, so concurrent first starts migrate once. */
	if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return -1;
	int version = user_version(db);
	if (version > ACCOUNTS_SCHEMA_VERSION) {
		log_error("accounts: schema version %d is newer than this program's %d", version,
			  ACCOUNTS_SCHEMA_VERSION);
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	if (version < 0)
		goto fail;
	for (; version < ACCOUNTS_SCHEMA_VERSION; version++)
		if (sqlite3_exec(db, migrations[version], NULL, NULL, NULL) != SQLITE_OK)
			goto fail;
	snprintf(sql, sizeof sql, "PRAGMA user_version = %d", ACCOUNTS_SCHEMA_VERSION);
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		goto fail;
	return 0;
fail:
	log_error("accounts: schema migration failed: %s", sqlite3_errmsg(db));
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

/* WAL persists in the file; switching needs a moment alone with it, so retry briefly. */
static int use_wal(sqlite3 *db)
{
	for (int attempt = 0; attempt < 300; attempt++) {
		sqlite3_stmt *stmt;
		if (sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &stmt, NULL) != SQLITE_OK)
			return -1;
		int wal = sqlite3_step(stmt) == SQLITE_ROW &&
			  strcmp((const char *)sqlite3_column_text(stmt, 0), "wal") == 0;
		sqlite3_finalize(stmt);
		if (wal)
			return 0;
		int rc = sqlite3_exec(db, "PRAGMA journal_mode = WAL", NULL, NULL, NULL);
		if (rc != SQLITE_OK && rc != SQLITE_BUSY && rc != SQLITE_LOCKED)
			return -1;
		usleep(10000);
	}
	return -1;
}

static const char *const statement_sql[STATEMENTS] = {
	[GET] = "SELECT password, last_login FROM users WHERE addr = ?1",
	[INSERT] = "INSERT OR IGNORE INTO users (addr, password, last_login) VALUES (?1, ?2, ?3)",
	[TOUCH] = ("UPDATE users SET last_login = ?2 WHERE addr = ?1"
		   " AND (last_login IS NULL OR last_login < ?2)"),
	[DELETE] = "DELETE FROM users WHERE addr = ?1",
	[DELETE_IDLE] = "DELETE FROM users WHERE addr = ?1 AND last_login > 0 AND last_login < ?2",
	[EACH] = "SELECT addr, last_login FROM users ORDER BY addr",
};

static sqlite3_stmt *statement(struct accounts *accounts, enum statement which)
{
	if (accounts->stmt[which] == NULL &&
	    sqlite3_prepare_v3(accounts->db, statement_sql[which], -1, SQLITE_PREPARE_PERSISTENT,
			       &accounts->stmt[which], NULL) != SQLITE_OK) {
		log_error("accounts: cannot use %s: %s", sqlite3_db_filename(accounts->db, NULL),
			  sqlite3_errmsg(accounts->db));
		return NULL;
	}
	return accounts->stmt[which];
}

static struct accounts *open_database(const char *path, int flags)
{
	struct accounts *accounts = calloc(1, sizeof *accounts);
	if (accounts == NULL)
		return NULL;
	int rc = sqlite3_open_v2(path, &accounts->db, flags, NULL);
	if (rc != SQLITE_OK) {
		if ((flags & SQLITE_OPEN_CREATE) != 0 || access(path, F_OK) == 0)
			log_error("accounts: cannot open %s: %s", path,
				  accounts->db ? sqlite3_errmsg(accounts->db) : sqlite3_errstr(rc));
		accounts_close(accounts);
		return NULL;
	}
	sqlite3_busy_timeout(accounts->db, ACCOUNTS_BUSY_TIMEOUT_MS);
	return accounts;
}

struct accounts *accounts_open(const char *path)
{
	struct accounts *accounts =
		open_database(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
	if (accounts != NULL && (use_wal(accounts->db) != 0 || migrate(accounts->db) != 0)) {
		log_error("accounts: cannot use %s: %s", path, sqlite3_errmsg(accounts->db));
		accounts_close(accounts);
		return NULL;
	}
	return accounts;
}

struct accounts *accounts_open_readonly(const char *path)
{
	return open_database(path, SQLITE_OPEN_READONLY);
}

void accounts_close(struct accounts *accounts)
{
	if (accounts == NULL)
		return;
	for (size_t i = 0; i < STATEMENTS; i++)
		sqlite3_finalize(accounts->stmt[i]);
	sqlite3_close(accounts->db);
	free(accounts);
}

static enum accounts_status failed(struct accounts *accounts, sqlite3_stmt *stmt, const char *what)
{
	log_error("accounts: %s failed: %s", what, sqlite3_errmsg(accounts->db));
	sqlite3_reset(stmt);
	return ACCOUNTS_ERROR;
}

enum accounts_status accounts_get(struct accounts *accounts, const char *addr,
				  char hash[PASSWD_HASH_MAX], int64_t *last_login)
{
	sqlite3_stmt *stmt = statement(accounts, GET);
	if (stmt == NULL)
		return ACCOUNTS_ERROR;
	sqlite3_bind_text(stmt, 1, addr, -1, SQLITE_STATIC);
	int rc = sqlite3_step(stmt);
	if (rc == SQLITE_DONE) {
		sqlite3_reset(stmt);
		return ACCOUNTS_NOT_FOUND;
	}
	if (rc != SQLITE_ROW)
		return failed(accounts, stmt, "lookup");
	const unsigned char *stored = sqlite3_column_text(stmt, 0);
	size_t len = stored != NULL ? strlen((const char *)stored) : 0;
	if (len >= PASSWD_HASH_MAX) {
		sqlite3_reset(stmt);
		log_error("accounts: stored hash of %s is too long", addr);
		return ACCOUNTS_ERROR;
	}
	memcpy(hash, stored != NULL ? (const char *)stored : "", len + 1);
	if (last_login != NULL)
		*last_login = sqlite3_column_int64(stmt, 1);
	sqlite3_reset(stmt);
	return ACCOUNTS_OK;
}

static enum accounts_status write_step(struct accounts *accounts, sqlite3_stmt *stmt,
				       const char *what)
{
	if (sqlite3_step(stmt) != SQLITE_DONE)
		return failed(accounts, stmt, what);
	sqlite3_reset(stmt);
	return sqlite3_changes(accounts->db) == 1 ? ACCOUNTS_OK : ACCOUNTS_NOT_FOUND;
}

enum accounts_status accounts_insert(struct accounts *accounts, const char *addr,
				     const char *hash, int64_t last_login)
{
	sqlite3_stmt *stmt = statement(accounts, INSERT);
	if (stmt == NULL)
		return ACCOUNTS_ERROR;
	sqlite3_bind_text(stmt, 1, addr, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, hash, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 3, last_login);
	enum accounts_status status = write_step(accounts, stmt, "insert");
	return status == ACCOUNTS_NOT_FOUND ? ACCOUNTS_EXISTS : status;
}

enum accounts_status accounts_touch(struct accounts *accounts, const char *addr, int64_t day)
{
	sqlite3_stmt *stmt = statement(accounts, TOUCH);
	if (stmt == NULL)
		return ACCOUNTS_ERROR;
	sqlite3_bind_text(stmt, 1, addr, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 2, day);
	enum accounts_status status = write_step(accounts, stmt, "login update");
	/* No row changed: already recorded today (or the account is gone). */
	return status == ACCOUNTS_NOT_FOUND ? ACCOUNTS_OK : status;
}

enum accounts_status accounts_delete(struct accounts *accounts, const char *addr)
{
	sqlite3_stmt *stmt = statement(accounts, DELETE);
	if (stmt == NULL)
		return ACCOUNTS_ERROR;
	sqlite3_bind_text(stmt, 1, addr, -1, SQLITE_STATIC);
	return write_step(accounts, stmt, "delete");
}

enum accounts_status accounts_delete_idle(struct accounts *accounts, const char *addr,
					  int64_t day)
{
	sqlite3_stmt *stmt = statement(accounts, DELETE_IDLE);
	if (stmt == NULL)
		return ACCOUNTS_ERROR;
	sqlite3_bind_text(stmt, 1, addr, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 2, day);
	return write_step(accounts, stmt, "delete");
}

enum accounts_status accounts_foreach(struct accounts *accounts, accounts_each_fn *each,
				      void *context)
{
	sqlite3_stmt *stmt = statement(accounts, EACH);
	if (stmt == NULL)
		return ACCOUNTS_ERROR;
	int rc;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		const char *addr = (const char *)sqlite3_column_text(stmt, 0);
		if (addr != NULL && each(addr, sqlite3_column_int64(stmt, 1), context) != 0)
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return failed(accounts, stmt, "listing");
	sqlite3_reset(stmt);
	return ACCOUNTS_OK;
}

int64_t accounts_day(int64_t now)
{
	return now - now % 86400;
}
