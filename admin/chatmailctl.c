/* chatmailctl: the operator's look at accounts and mailboxes, and the few things they change.
 * usage: chatmailctl [--json] list | show ADDR | stats | delete ADDR | block | unblock */
#include "account.h"
#include "accounts.h"
#include "authcache.h"
#include "config.h"
#include "expire.h"
#include "json.h"
#include "log.h"
#include "mailstore.h"
#include "stats.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

/* Exit codes. */
#define EXIT_DONE 0
#define EXIT_NO_ACCOUNT 1 /* show or delete of an address that has no account (nor home) */
#define EXIT_USAGE 2	  /* bad arguments, or not an address of this relay */
#define EXIT_TEMPFAIL 111 /* chatmail.ini, the database or the maildirs unusable, or Dovecot's
			   * auth cache not flushed after a delete */

#define JSON_OBJECT_MAX 4096

struct ctl {
	struct config config;
	struct accounts *accounts; /* NULL while no account database exists */
	int root_fd;		   /* -1 while mailboxes_dir does not exist */
	bool json;
	int64_t today;
	unsigned long listed;
};

struct usage {
	bool home;
	unsigned long mails;
	uint64_t bytes;
};

static int count_mail(const struct mailstore_mail *mail, void *context)
{
	struct usage *usage = context;
	usage->mails++;
	usage->bytes += mail->size;
	return 0;
}

static struct usage measure_home(int home_fd, const char *addr)
{
	struct usage usage = {true, 0, 0};
	struct mailstore_problems problems = {0, 0};
	mailstore_walk(home_fd, addr, count_mail, &usage, &problems);
	return usage;
}

static struct usage measure(const struct ctl *ctl, const char *addr)
{
	struct usage usage = {false, 0, 0};
	int fd = ctl->root_fd >= 0 ? mailstore_open_home(ctl->root_fd, addr) : -1;
	if (fd < 0)
		return usage;
	usage = measure_home(fd, addr);
	close(fd);
	return usage;
}

/* A name from the database with control bytes made harmless for a terminal. */
static const char *printable(const char *name, char *out, size_t size)
{
	size_t i = 0;
	for (; name[i] != '\0' && i + 1 < size; i++)
		out[i] = (unsigned char)name[i] < 0x20 || name[i] == 0x7f ? '?' : name[i];
	out[i] = '\0';
	return out;
}

/* "1.5 MiB" */
static void format_size(uint64_t bytes, char *out, size_t size)
{
	static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	double value = (double)bytes;
	size_t unit = 0;
	while (value >= 1024 && unit + 1 < sizeof units / sizeof units[0]) {
		value /= 1024;
		unit++;
	}
	snprintf(out, size, unit == 0 ? "%.0f %s" : "%.1f %s", value, units[unit]);
}

/* Prints one JSON object; in a list, separated from the one before. */
static void print_json(struct json_writer *writer, const char *separator)
{
	size_t len = json_end(writer);
	if (len == 0) {
		log_error("a JSON answer did not fit in %d bytes", JSON_OBJECT_MAX);
		return;
	}
	printf("%s%.*s", separator, (int)(len - 1), writer->out);
}

static void json_account(struct json_writer *writer, const char *addr, int64_t last_login,
			 const struct usage *usage)
{
	char day[16];
	expire_format_day(last_login, day, sizeof day);
	json_member(writer, "addr", addr, strlen(addr));
	json_member_uint(writer, "last_login", last_login > 0 ? (uint64_t)last_login : 0);
	json_member(writer, "last_login_day", day, strlen(day));
	json_member_bool(writer, "maildir", usage->home);
	json_member_uint(writer, "mails", usage->mails);
	json_member_uint(writer, "bytes", usage->bytes);
}

static int list_one(const char *addr, int64_t last_login, void *context)
{
	struct ctl *ctl = context;
	struct usage usage = {false, 0, 0};
	if (mailstore_home_name(&ctl->config, addr, strlen(addr)))
		usage = measure(ctl, addr);
	if (ctl->json) {
		char out[JSON_OBJECT_MAX];
		struct json_writer writer;
		json_begin(&writer, out, sizeof out);
		json_account(&writer, addr, last_login, &usage);
		print_json(&writer, ctl->listed == 0 ? "\n  " : ",\n  ");
	} else {
		char day[16], size[32], shown[MAILSTORE_ADDRESS_MAX + 1];
		expire_format_day(last_login, day, sizeof day);
		format_size(usage.bytes, size, sizeof size);
		printf("%-40s %-10s %8lu %11s%s\n", printable(addr, shown, sizeof shown), day,
		       usage.mails, size, usage.home ? "" : "  (no maildir)");
	}
	ctl->listed++;
	return 0;
}

static int list(struct ctl *ctl)
{
	if (ctl->json)
		printf("[");
	else
		printf("%-40s %-10s %8s %11s\n", "ADDRESS", "LAST LOGIN", "MAILS", "SIZE");
	if (ctl->accounts != NULL && accounts_foreach(ctl->accounts, list_one, ctl) != ACCOUNTS_OK)
		return EXIT_TEMPFAIL;
	if (ctl->json)
		printf("%s]\n", ctl->listed > 0 ? "\n" : "");
	return EXIT_DONE;
}

static int show(struct ctl *ctl, const char *addr)
{
	char hash[PASSWD_HASH_MAX], day[16], size[32], limit[32];
	int64_t last_login = 0;
	enum accounts_status status = ctl->accounts != NULL
					  ? accounts_get(ctl->accounts, addr, hash, &last_login)
					  : ACCOUNTS_NOT_FOUND;
	if (status == ACCOUNTS_ERROR)
		return EXIT_TEMPFAIL;
	struct usage usage = measure(ctl, addr);
	if (status == ACCOUNTS_NOT_FOUND && !usage.home) {
		fprintf(stderr, "chatmailctl: no account %s\n", addr);
		return EXIT_NO_ACCOUNT;
	}
	bool enforced = false;
	int fd = ctl->root_fd >= 0 ? mailstore_open_home(ctl->root_fd, addr) : -1;
	if (fd >= 0) {
		mailstore_home_enforces_e2ee(fd, &enforced);
		close(fd);
	}
	uint64_t percent = usage.bytes * 100 / ctl->config.max_mailbox_size;
	if (ctl->json) {
		char out[JSON_OBJECT_MAX];
		struct json_writer writer;
		json_begin(&writer, out, sizeof out);
		json_account(&writer, addr, last_login, &usage);
		json_member_bool(&writer, "account", status == ACCOUNTS_OK);
		json_member_uint(&writer, "quota_bytes", ctl->config.max_mailbox_size);
		json_member_uint(&writer, "quota_percent", percent);
		json_member_bool(&writer, "encryption_enforced", enforced);
		print_json(&writer, "");
		printf("\n");
		return EXIT_DONE;
	}
	expire_format_day(last_login, day, sizeof day);
	format_size(usage.bytes, size, sizeof size);
	format_size(ctl->config.max_mailbox_size, limit, sizeof limit);
	printf("address:     %s%s\n", addr,
	       status == ACCOUNTS_OK ? "" : " (no account, only a maildir)");
	printf("last login:  %s\n", day);
	printf("maildir:     %s/%s%s\n", ctl->config.mailboxes_dir, addr,
	       usage.home ? "" : " (missing)");
	printf("mails:       %lu\n", usage.mails);
	printf("size:        %s of %s (%llu%%)\n", size, limit, (unsigned long long)percent);
	printf("encryption:  %s\n", enforced ? "required for incoming mail" : "not enforced");
	return EXIT_DONE;
}

static int delete_account(struct ctl *ctl, const char *addr)
{
	enum account_removal result = ACCOUNT_NONE;
	if (ctl->root_fd >= 0 && ctl->accounts != NULL)
		result = account_remove(ctl->accounts, ctl->root_fd, addr, 0);
	else if (ctl->accounts != NULL) /* no mailboxes_dir at all: only the row */
		switch (accounts_delete(ctl->accounts, addr)) {
		case ACCOUNTS_OK:
			result = ACCOUNT_REMOVED;
			break;
		case ACCOUNTS_NOT_FOUND:
			break;
		default:
			result = ACCOUNT_REMOVAL_FAILED;
		}
	if (result == ACCOUNT_REMOVAL_FAILED)
		return EXIT_TEMPFAIL;
	/* Dovecot would otherwise deliver to the address from its cache for a while. */
	bool flushed = authcache_flush(ctl->config.state_dir, addr) != AUTHCACHE_FAILED;
	if (result == ACCOUNT_NONE) {
		fprintf(stderr, "chatmailctl: no account %s\n", addr);
		return EXIT_NO_ACCOUNT;
	}
	if (ctl->json) {
		char out[JSON_OBJECT_MAX];
		struct json_writer writer;
		json_begin(&writer, out, sizeof out);
		json_member(&writer, "addr", addr, strlen(addr));
		json_member_bool(&writer, "deleted", true);
		print_json(&writer, "");
		printf("\n");
	} else {
		printf("deleted %s\n", addr);
	}
	return flushed ? EXIT_DONE : EXIT_TEMPFAIL;
}

static bool blocked(const struct config *config)
{
	return access(config->nocreate_file, F_OK) == 0;
}

static int print_block_state(const struct ctl *ctl)
{
	bool now_blocked = blocked(&ctl->config);
	if (ctl->json) {
		char out[JSON_OBJECT_MAX];
		struct json_writer writer;
		json_begin(&writer, out, sizeof out);
		json_member_bool(&writer, "blocked", now_blocked);
		json_member(&writer, "nocreate_file", ctl->config.nocreate_file,
			    strlen(ctl->config.nocreate_file));
		print_json(&writer, "");
		printf("\n");
	} else {
		printf("account creation %s (%s %s)\n", now_blocked ? "blocked" : "allowed",
		       ctl->config.nocreate_file, now_blocked ? "exists" : "absent");
	}
	return EXIT_DONE;
}

static int block(struct ctl *ctl, bool on)
{
	if (on) {
		int fd = open(ctl->config.nocreate_file,
			      O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (fd < 0) {
			log_error("cannot make %s: %s", ctl->config.nocreate_file, strerror(errno));
			return EXIT_TEMPFAIL;
		}
		close(fd);
	} else {
		if (unlink(ctl->config.nocreate_file) != 0 && errno != ENOENT) {
			log_error("cannot remove %s: %s", ctl->config.nocreate_file,
				  strerror(errno));
			return EXIT_TEMPFAIL;
		}
	}
	return print_block_state(ctl);
}

struct totals {
	const struct ctl *ctl;
	struct relay_stats figures;
	unsigned long orphans;
};

static int count_account(const char *addr, int64_t last_login, void *context)
{
	struct totals *totals = context;
	(void)addr;
	stats_count_account(&totals->figures, last_login, totals->ctl->today);
	return 0;
}

/* One home below mailboxes_dir, with or without an account. */
static int count_home(const char *addr, int home_fd, void *context)
{
	struct totals *totals = context;
	const struct ctl *ctl = totals->ctl;
	char hash[PASSWD_HASH_MAX];
	struct usage usage = measure_home(home_fd, addr);
	totals->figures.maildirs++;
	totals->figures.mails += usage.mails;
	totals->figures.bytes += usage.bytes;
	if (ctl->accounts == NULL ||
	    accounts_get(ctl->accounts, addr, hash, NULL) == ACCOUNTS_NOT_FOUND)
		totals->orphans++;
	return 0;
}

static int stats(struct ctl *ctl)
{
	struct totals totals = {.ctl = ctl};
	struct statvfs fs;
	char used[32], free_text[32];
	if (ctl->accounts != NULL &&
	    accounts_foreach(ctl->accounts, count_account, &totals) != ACCOUNTS_OK)
		return EXIT_TEMPFAIL;
	struct mailstore_problems problems = {0, 0};
	if (ctl->root_fd >= 0 &&
	    mailstore_each_home(&ctl->config, ctl->root_fd, count_home, &totals, &problems) != 0)
		return EXIT_TEMPFAIL;
	uint64_t free_bytes = ctl->root_fd >= 0 && fstatvfs(ctl->root_fd, &fs) == 0
				  ? (uint64_t)fs.f_bavail * fs.f_frsize
				  : 0;
	if (ctl->json) {
		char out[JSON_OBJECT_MAX];
		struct json_writer writer;
		json_begin(&writer, out, sizeof out);
		json_member_uint(&writer, "accounts", totals.figures.accounts);
		json_member_uint(&writer, "active_day", totals.figures.active_day);
		json_member_uint(&writer, "active_week", totals.figures.active_week);
		json_member_uint(&writer, "active_month", totals.figures.active_month);
		json_member_uint(&writer, "maildirs", totals.figures.maildirs);
		json_member_uint(&writer, "maildirs_without_account", totals.orphans);
		json_member_uint(&writer, "mails", totals.figures.mails);
		json_member_uint(&writer, "bytes", totals.figures.bytes);
		json_member_uint(&writer, "free_bytes", free_bytes);
		json_member_bool(&writer, "creation_blocked", blocked(&ctl->config));
		print_json(&writer, "");
		printf("\n");
		return EXIT_DONE;
	}
	format_size(totals.figures.bytes, used, sizeof used);
	format_size(free_bytes, free_text, sizeof free_text);
	printf("accounts:          %lu\n", totals.figures.accounts);
	printf("active last day:   %lu\n", totals.figures.active_day);
	printf("active last week:  %lu\n", totals.figures.active_week);
	printf("active last month: %lu\n", totals.figures.active_month);
	printf("maildirs:          %lu (%lu without account)\n", totals.figures.maildirs,
	       totals.orphans);
	printf("mails:             %lu\n", totals.figures.mails);
	printf("disk used:         %s (%llu bytes), %s free\n", used,
	       (unsigned long long)totals.figures.bytes, free_text);
	printf("account creation:  %s\n", blocked(&ctl->config) ? "blocked" : "allowed");
	return EXIT_DONE;
}

/* The database and the maildirs, as the vmail user; neither is made when missing. */
static int open_store(struct ctl *ctl)
{
	if (mailstore_become_owner(&ctl->config) != 0)
		return -1;
	ctl->root_fd = mailstore_open_root(ctl->config.mailboxes_dir);
	if (ctl->root_fd < 0 && errno != ENOENT) {
		log_error("cannot open %s: %s", ctl->config.mailboxes_dir, strerror(errno));
		return -1;
	}
	if (access(ctl->config.passdb_path, F_OK) != 0)
		return errno == ENOENT ? 0 : -1;
	ctl->accounts = accounts_open(ctl->config.passdb_path);
	return ctl->accounts != NULL ? 0 : -1;
}

static int usage_error(void)
{
	fprintf(stderr, "usage: chatmailctl [--json] list | show ADDR | stats | delete ADDR | "
			"block | unblock\n");
	return EXIT_USAGE;
}

static int run(struct ctl *ctl, const char *command, const char *addr)
{
	if (strcmp(command, "block") == 0 || strcmp(command, "unblock") == 0)
		return block(ctl, command[0] == 'b');
	if (open_store(ctl) != 0)
		return EXIT_TEMPFAIL;
	if (strcmp(command, "list") == 0)
		return list(ctl);
	if (strcmp(command, "stats") == 0)
		return stats(ctl);
	if (strcmp(command, "show") == 0)
		return show(ctl, addr);
	return delete_account(ctl, addr);
}

int main(int argc, char **argv)
{
	static struct ctl ctl = {.root_fd = -1};
	struct config_error error;
	int i = 1;

	log_open("chatmailctl", LOG_TO_STDERR);
	if (i < argc && strcmp(argv[i], "--json") == 0) {
		ctl.json = true;
		i++;
	}
	if (i >= argc)
		return usage_error();
	const char *command = argv[i++];
	bool wants_addr = strcmp(command, "show") == 0 || strcmp(command, "delete") == 0;
	bool known = wants_addr || strcmp(command, "list") == 0 || strcmp(command, "stats") == 0 ||
		     strcmp(command, "block") == 0 || strcmp(command, "unblock") == 0;
	if (!known || argc - i != (wants_addr ? 1 : 0))
		return usage_error();
	/* Dovecot lower-cases user names; so does the operator's tool. */
	char addr_buffer[MAILSTORE_ADDRESS_MAX + 1];
	const char *addr = NULL;
	if (wants_addr) {
		size_t len = strnlen(argv[i], sizeof addr_buffer);
		if (len == sizeof addr_buffer)
			return usage_error();
		for (size_t k = 0; k < len; k++)
			addr_buffer[k] = (char)tolower((unsigned char)argv[i][k]);
		addr_buffer[len] = '\0';
		addr = addr_buffer;
	}

	if (config_load(&ctl.config, &error) != 0) {
		if (error.key[0] != '\0')
			log_error("%s:%u: %s %s", config_path(), error.line, error.key,
				  error.message);
		else
			log_error("%s", error.message);
		return EXIT_TEMPFAIL;
	}
	if (addr != NULL && !mailstore_home_name(&ctl.config, addr, strlen(addr))) {
		fprintf(stderr, "chatmailctl: '%s' is not an address of %s\n", addr,
			ctl.config.mail_domain);
		return EXIT_USAGE;
	}
	time_t now = time(NULL);
	ctl.today = (int64_t)now - (int64_t)now % EXPIRE_DAY_SECONDS;
	int status = run(&ctl, command, addr);
	accounts_close(ctl.accounts);
	if (ctl.root_fd >= 0)
		close(ctl.root_fd);
	fflush(stdout);
	return status;
}
