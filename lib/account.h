/* Account policy shared by doveauth and newemail: create-on-login, creation limits, maildirs. */
#ifndef CHATMAIL_ACCOUNT_H
#define CHATMAIL_ACCOUNT_H

#include "accounts.h"
#include "config.h"

#include <sys/types.h>

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

/* Stores a new account with an already computed hash and prepares its maildir home.
 * Logs "Created address: <addr>". Returns ACCOUNTS_EXISTS when the address is taken. */
enum accounts_status account_create(const struct config *config, struct accounts *accounts,
				    const char *addr, const char *hash, int64_t now);

/* The maildir home of addr below mailboxes_dir. Returns 0, or -1 when it does not fit. */
int account_home(const struct config *config, const char *addr, char *out, size_t size);

/* Resolves vmail_user (a name or "uid:gid"). Returns 0, or -1 when unknown. */
int account_vmail_ids(const struct config *config, uid_t *uid, gid_t *gid);

#endif
