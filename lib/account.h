/* Account policy shared by doveauth, newemail, chatmailctl and chatmail-expire: creation
 * limits, create-on-login, removal. The maildirs themselves are mailstore's. */
#ifndef CHATMAIL_ACCOUNT_H
#define CHATMAIL_ACCOUNT_H

#include "accounts.h"
#include "config.h"

#include <stdint.h>

enum creation_refusal {
	CREATION_ALLOWED,
	CREATION_NOCREATE_FILE,
	CREATION_HIGH_LOAD,
	CREATION_LOW_MEMORY,
	CREATION_LOW_DISK,
};

/* Whether new accounts may be made now: the nocreate file and the resource limits of
 * chatmail.ini (max_load_1m, min_available_memory, min_free_disk_space). */
enum creation_refusal account_creation_allowed(const struct config *config);
const char *account_refusal_text(enum creation_refusal refusal);

enum login_result {
	LOGIN_OK,
	LOGIN_CREATED,
	LOGIN_FAILED,   /* bad address, wrong password, password too short, creation refused */
	LOGIN_TEMPFAIL, /* database trouble */
};

/* SPEC §2: verify a known address; create an unknown one with this password when allowed.
 * Concurrent first logins create one account; only the winning password logs in after. */
enum login_result account_login(const struct config *config, struct accounts *accounts,
				const char *addr, const char *password, int64_t now);

/* Stores a new account with an already computed hash and makes its maildir home.
 * Logs "Created address: <addr>". Returns ACCOUNTS_EXISTS when the address is taken. */
enum accounts_status account_create(const struct config *config, struct accounts *accounts,
				    const char *addr, const char *hash, int64_t now);

enum account_removal {
	ACCOUNT_REMOVED,	/* the row and the home are gone */
	ACCOUNT_NONE,		/* there was neither a row nor a home */
	ACCOUNT_KEPT,		/* the account logged in meanwhile: it stays, with its home */
	ACCOUNT_REMOVAL_FAILED, /* logged; the account stays as it was, or its home is in trash */
};

/* Removes an account below root_fd (mailboxes_dir): its home is first moved into the trash
 * (atomic), then its row is deleted, then the trash entry is removed. So an address is free
 * for a new account only when the old mail is already out of reach, and a crash anywhere
 * leaves at worst a trash entry (removed by the next run) or an account with an empty home.
 * With idle_before > 0 the row is deleted only while its last login is still before
 * idle_before; when the user logged in meanwhile the home is put back. */
enum account_removal account_remove(struct accounts *accounts, int root_fd, const char *addr,
				    int64_t idle_before);

#endif
