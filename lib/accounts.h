/* The account store: sqlite3 table users(addr, password, last_login), WAL, busy timeout. */
#ifndef CHATMAIL_ACCOUNTS_H
#define CHATMAIL_ACCOUNTS_H

#include "config.h"
#include "passwd.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ACCOUNTS_SCHEMA_VERSION 2
#define ACCOUNTS_BUSY_TIMEOUT_MS 30000

enum accounts_status {
	ACCOUNTS_OK,
	ACCOUNTS_NOT_FOUND,
	ACCOUNTS_EXISTS,
	ACCOUNTS_ERROR, /* the database is unavailable: a temporary failure */
};

struct accounts;

/* Opens (creating and migrating the schema when needed) the database at path.
 * Returns NULL on failure, logging why. */
struct accounts *accounts_open(const char *path);
/* Opens an existing database for reading only, for programs that never write accounts: no
 * schema check or change, no write lock, the schema read at the first statement. Returns NULL
 * when it cannot (logged unless the file does not exist). */
struct accounts *accounts_open_readonly(const char *path);
void accounts_close(struct accounts *accounts);

/* Reads the stored hash (and last_login, 0 when never) of addr. */
enum accounts_status accounts_get(struct accounts *accounts, const char *addr,
				  char hash[PASSWD_HASH_MAX], int64_t *last_login);

/* Inserts addr unless it exists (ACCOUNTS_EXISTS then, and nothing changes). */
enum accounts_status accounts_insert(struct accounts *accounts, const char *addr,
				     const char *hash, int64_t last_login);

/* Records a login on day (a UTC midnight in seconds); writes only when the day changed. */
enum accounts_status accounts_touch(struct accounts *accounts, const char *addr, int64_t day);

enum accounts_status accounts_delete(struct accounts *accounts, const char *addr);

/* Deletes addr only while its last login day is known and before day, so a login that
 * races an expiry keeps the account. ACCOUNTS_NOT_FOUND when nothing was deleted. */
enum accounts_status accounts_delete_idle(struct accounts *accounts, const char *addr,
					  int64_t day);

/* Calls each(addr, last_login, context) for every account, in address order; stops early
 * when each returns non-zero. */
typedef int accounts_each_fn(const char *addr, int64_t last_login, void *context);
enum accounts_status accounts_foreach(struct accounts *accounts, accounts_each_fn *each,
				      void *context);

/* The UTC day (midnight, in seconds) of a time. */
int64_t accounts_day(int64_t now);

#endif
