/* Account policy of SPEC §2: who may be created, create-on-login, and the maildir home. */
#include "account.h"

#include "address.h"
#include "log.h"
#include "passwd.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#define ENFORCE_E2EE_FILE "enforceE2EEincoming"

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

int account_home(const struct config *config, const char *addr, char *out, size_t size)
{
	int n = snprintf(out, size, "%s/%s", config->mailboxes_dir, addr);
	return n > 0 && (size_t)n < size ? 0 : -1;
}

int account_vmail_ids(const struct config *config, uid_t *uid, gid_t *gid)
{
	unsigned long u, g;
	char end;
	if (sscanf(config->vmail_user, "%lu:%lu%c", &u, &g, &end) == 2) {
		*uid = (uid_t)u;
		*gid = (gid_t)g;
		return 0;
	}
	struct passwd entry, *found = NULL;
	char buf[2048];
	if (getpwnam_r(config->vmail_user, &entry, buf, sizeof buf, &found) != 0 || found == NULL)
		return -1;
	*uid = found->pw_uid;
	*gid = found->pw_gid;
	return 0;
}

/* The maildir home with the file that asks filtermail to refuse unencrypted incoming mail,
 * owned by the vmail user. */
static int prepare_home(const struct config *config, const char *addr)
{
	char home[CONFIG_PATH_MAX + 2 + 320], file[sizeof home + 32];
	uid_t uid;
	gid_t gid;

	if (account_vmail_ids(config, &uid, &gid) != 0) {
		log_error("vmail user '%s' is unknown", config->vmail_user);
		return -1;
	}
	if (account_home(config, addr, home, sizeof home) != 0 ||
	    snprintf(file, sizeof file, "%s/%s", home, ENFORCE_E2EE_FILE) >= (int)sizeof file)
		return -1;
	if (mkdir(config->mailboxes_dir, 0700) == 0 &&
	    chown(config->mailboxes_dir, uid, gid) != 0) {
		log_error("cannot hand %s to the vmail user: %s", config->mailboxes_dir,
			  strerror(errno));
		return -1;
	}
	if (mkdir(home, 0700) != 0 && errno != EEXIST) {
		log_error("cannot make %s: %s", home, strerror(errno));
		return -1;
	}
	int fd = open(file, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 || lchown(home, uid, gid) != 0 || fchown(fd, uid, gid) != 0) {
		log_error("cannot prepare %s: %s", home, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

enum accounts_status account_create(const struct config *config, struct accounts *accounts,
				    const char *addr, const char *hash, int64_t now)
{
	enum accounts_status status = accounts_insert(accounts, addr, hash, accounts_day(now));
	if (status != ACCOUNTS_OK)
		return status;
	if (prepare_home(config, addr) != 0) {
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
