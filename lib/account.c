/* Account policy of SPEC §2 and §5: who may be created, create-on-login, and removal in an
 * order that never hands an address over with its old mail. */
#include "account.h"

#include "address.h"
#include "log.h"
#include "mailstore.h"
#include "passwd.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

/* MemAvailable from /proc/meminfo in bytes, or -1 when unknown. */
static int64_t available_memory(void)
{
	char text[4096];
	int fd = open("/proc/meminfo", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, text, sizeof text - 1);
	close(fd);
	if (n <= 0)
		return -1;
	text[n] = '\0';
	const char *line = strstr(text, "MemAvailable:");
	long long kib;
	if (line == NULL || sscanf(line, "MemAvailable: %lld kB", &kib) != 1 || kib < 0)
		return -1;
	return (int64_t)kib * 1024;
}

/* Free space for unprivileged writers on the file system of path or its nearest parent. */
static int64_t free_disk(const char *path)
{
	char dir[CONFIG_PATH_MAX];
	struct statvfs fs;
	snprintf(dir, sizeof dir, "%s", path);
	while (statvfs(dir, &fs) != 0) {
		char *slash = strrchr(dir, '/');
		if (slash == NULL || slash == dir)
			return statvfs("/", &fs) == 0 ? (int64_t)(fs.f_bavail * fs.f_frsize) : -1;
		*slash = '\0';
	}
	return (int64_t)(fs.f_bavail * fs.f_frsize);
}

enum creation_refusal account_creation_allowed(const struct config *config)
{
	double load;
	if (access(config->nocreate_file, F_OK) == 0)
		return CREATION_NOCREATE_FILE;
	if (getloadavg(&load, 1) == 1 && load > config->max_load_1m)
		return CREATION_HIGH_LOAD;
	int64_t memory = available_memory();
	if (memory >= 0 && (uint64_t)memory < config->min_available_memory)
		return CREATION_LOW_MEMORY;
	int64_t disk = free_disk(config->mailboxes_dir);
	if (disk >= 0 && (uint64_t)disk < config->min_free_disk_space)
		return CREATION_LOW_DISK;
	return CREATION_ALLOWED;
}

const char *account_refusal_text(enum creation_refusal refusal)
{
	switch (refusal) {
	case CREATION_ALLOWED: return "allowed";
	case CREATION_NOCREATE_FILE: return "account creation is blocked by the operator";
	case CREATION_HIGH_LOAD: return "the server is too busy to create accounts";
	case CREATION_LOW_MEMORY: return "the server has too little free memory to create accounts";
	case CREATION_LOW_DISK: return "the server has too little free disk space to create accounts";
	}
	return "refused";
}

enum accounts_status account_create(const struct config *config, struct accounts *accounts,
				    const char *addr, const char *hash, int64_t now)
{
	enum accounts_status status = accounts_insert(accounts, addr, hash, accounts_day(now));
	if (status != ACCOUNTS_OK)
		return status;
	if (mailstore_make_home(config, addr) != 0) {
		/* An account without its protected home must not stand. */
		accounts_delete(accounts, addr);
		return ACCOUNTS_ERROR;
	}
	log_info("Created address: %s", addr);
	return ACCOUNTS_OK;
}

static enum login_result verify(struct accounts *accounts, const char *addr, const char *password,
				const char *hash, int64_t last_login, int64_t now)
{
	if (!passwd_verify(password, hash)) {
		log_info("login failed for %s: wrong password", addr);
		return LOGIN_FAILED;
	}
	/* At most one write per account and day; a missed one is no reason to refuse. */
	if (last_login < accounts_day(now) &&
	    accounts_touch(accounts, addr, accounts_day(now)) != ACCOUNTS_OK)
		log_warn("could not record the login of %s", addr);
	return LOGIN_OK;
}

enum login_result account_login(const struct config *config, struct accounts *accounts,
				const char *addr, const char *password, int64_t now)
{
	char hash[PASSWD_HASH_MAX];
	int64_t last_login = 0;
	enum address_status address = address_check(config, addr, strlen(addr));
	if (address != ADDRESS_OK) {
		log_info("login refused for %s: %s", addr, address_status_text(address));
		return LOGIN_FAILED;
	}
	if (password[0] == '\0') {
		log_info("login refused for %s: empty password", addr);
		return LOGIN_FAILED;
	}
	switch (accounts_get(accounts, addr, hash, &last_login)) {
	case ACCOUNTS_OK:
		return verify(accounts, addr, password, hash, last_login, now);
	case ACCOUNTS_NOT_FOUND:
		break;
	default:
		return LOGIN_TEMPFAIL;
	}

	if (strlen(password) < config->password_min_length) {
		log_info("not creating %s: password shorter than %u", addr,
			 config->password_min_length);
		return LOGIN_FAILED;
	}
	/* Longer than the hasher takes: the client's mistake, not a server trouble. */
	if (strlen(password) > PASSWD_MAX) {
		log_info("not creating %s: password longer than %d", addr, PASSWD_MAX);
		return LOGIN_FAILED;
	}
	enum creation_refusal refusal = account_creation_allowed(config);
	if (refusal != CREATION_ALLOWED) {
		log_warn("not creating %s: %s", addr, account_refusal_text(refusal));
		return LOGIN_FAILED;
	}
	if (passwd_hash(password, hash, sizeof hash) != 0) {
		log_error("cannot hash a password");
		return LOGIN_TEMPFAIL;
	}
	switch (account_create(config, accounts, addr, hash, now)) {
	case ACCOUNTS_OK:
		return LOGIN_CREATED;
	case ACCOUNTS_EXISTS:
		/* A concurrent first login won: only its password counts. */
		if (accounts_get(accounts, addr, hash, &last_login) != ACCOUNTS_OK)
			return LOGIN_TEMPFAIL;
		return verify(accounts, addr, password, hash, last_login, now);
	default:
		return LOGIN_TEMPFAIL;
	}
}

/* Deletes the row; idle_before > 0 only while the last login is still before it. */
static enum accounts_status delete_row(struct accounts *accounts, const char *addr,
				       int64_t idle_before)
{
	return idle_before > 0 ? accounts_delete_idle(accounts, addr, idle_before)
			       : accounts_delete(accounts, addr);
}

enum account_removal account_remove(struct accounts *accounts, int root_fd, const char *addr,
				    int64_t idle_before)
{
	char aside[MAILSTORE_ASIDE_MAX] = "", again[MAILSTORE_ASIDE_MAX] = "";
	int trash_fd = mailstore_open_trash(root_fd);
	if (trash_fd < 0)
		return ACCOUNT_REMOVAL_FAILED;
	int moved = mailstore_move_aside(root_fd, trash_fd, addr, aside);
	if (moved < 0) {
		close(trash_fd);
		return ACCOUNT_REMOVAL_FAILED;
	}
	enum accounts_status status = delete_row(accounts, addr, idle_before);
	enum account_removal result = ACCOUNT_REMOVED;
	if (status == ACCOUNTS_ERROR || (status == ACCOUNTS_NOT_FOUND && idle_before > 0)) {
		/* Database trouble, or the user came back: the account keeps its mail. */
		if (moved == 1)
			mailstore_put_back(root_fd, trash_fd, addr, aside);
		result = status == ACCOUNTS_ERROR ? ACCOUNT_REMOVAL_FAILED : ACCOUNT_KEPT;
	} else {
		if (status == ACCOUNTS_NOT_FOUND && moved == 0)
			result = ACCOUNT_NONE;
		/* A delivery that looked the user up before the row went may have made a new
		 * home between the rename and the delete: it goes too. */
		if (mailstore_move_aside(root_fd, trash_fd, addr, again) < 0)
			result = ACCOUNT_REMOVAL_FAILED;
	}
	/* Both names may be gone already (put back, or never moved): that is no error. */
	if (mailstore_remove_tree(trash_fd, aside, MAILSTORE_TREE_DEPTH_MAX) != 0 ||
	    mailstore_remove_tree(trash_fd, again, MAILSTORE_TREE_DEPTH_MAX) != 0)
		log_warn("old home of %s left in %s; the next run removes it", addr,
			 MAILSTORE_TRASH);
	close(trash_fd);
	return result;
}
