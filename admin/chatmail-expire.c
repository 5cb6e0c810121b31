/* chatmail-expire: the daily expiry of SPEC §5 (old mails, large old mails, inactive
 * accounts) and, with --quota, Dovecot's quota-warning hook that makes room in one mailbox.
 * usage: chatmail-expire [--config INI] [--dry-run] [--textfile FILE]
 *        chatmail-expire [--config INI] [--dry-run] --quota ADDR
 * --config names chatmail.ini where CHATMAIL_INI cannot be set: Dovecot's script service
 * runs its program with an empty environment. */
#include "chatmail-expire.h"

#include "account.h"
#include "accounts.h"
#include "authcache.h"
#include "config.h"
#include "expire.h"
#include "log.h"
#include "mailstore.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define PROGRESS_INTERVAL_NS 250000000L

static double seconds_since(const struct timespec *start)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

/* One line on a terminal, redrawn at most four times a second. */
static void show_progress(struct run *run, bool last)
{
	struct timespec now;
	if (!run->progress)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	long elapsed = (long)(now.tv_sec - run->shown.tv_sec) * 1000000000L +
		       (now.tv_nsec - run->shown.tv_nsec);
	if (!last && elapsed < PROGRESS_INTERVAL_NS)
		return;
	run->shown = now;
	fprintf(stderr,
		"\rchatmail-expire: %lu of ~%lu maildirs, %lu mails scanned, %lu %s\033[K%s",
		run->maildirs, run->accounts_scanned, run->mails_scanned, run->mails_removed,
		run->dry_run ? "due" : "removed", last ? "\n" : "");
}

static int collect_inactive(const char *addr, int64_t last_login, void *context)
{
	struct run *run = context;
	run->accounts_scanned++;
	if (!mailstore_home_name(&run->config, addr, strlen(addr))) {
		log_warn("skipping account '%s': not an address of this relay", addr);
		run->problems.skipped++;
		return 0;
	}
	if (!expire_account_inactive(&run->policy, last_login))
		return 0;
	if (run->inactive_count == run->inactive_size) {
		size_t size = run->inactive_size ? run->inactive_size * 2 : 256;
		struct inactive *grown = reallocarray(run->inactive, size, sizeof *grown);
		if (grown == NULL)
			return -1;
		run->inactive = grown;
		run->inactive_size = size;
	}
	struct inactive *account = &run->inactive[run->inactive_count];
	if ((account->addr = strdup(addr)) == NULL)
		return -1;
	account->last_login = last_login;
	run->inactive_count++;
	return 0;
}

static int count_mail(const struct mailstore_mail *mail, void *context)
{
	struct run *run = context;
	run->home_removed++;
	run->home_bytes += mail->size;
	return 0;
}

/* Counts what goes with a home, for the summary; a missing home counts nothing. */
static void measure_home(struct run *run, const char *addr)
{
	run->home_removed = 0;
	run->home_bytes = 0;
	int fd = mailstore_open_home(run->root_fd, addr);
	if (fd < 0)
		return;
	struct mailstore_problems ignored = {0, 0};
	mailstore_walk(fd, addr, count_mail, run, &ignored);
	close(fd);
}

static void remove_inactive(struct run *run)
{
	for (size_t i = 0; i < run->inactive_count; i++) {
		const struct inactive *account = &run->inactive[i];
		char day[16];
		expire_format_day(account->last_login, day, sizeof day);
		measure_home(run, account->addr);
		if (run->dry_run) {
			printf("would remove account %s (last login %s, %lu mails, %llu bytes)\n",
			       account->addr, day, run->home_removed,
			       (unsigned long long)run->home_bytes);
			run->accounts_removed++;
			run->mails_removed += run->home_removed;
			run->bytes_removed += run->home_bytes;
			continue;
		}
		switch (account_remove(run->accounts, run->root_fd, account->addr,
				       run->policy.inactive_before)) {
		case ACCOUNT_REMOVED:
		case ACCOUNT_NONE:
			log_info(
			    "removed inactive account %s (last login %s, %lu mails, %llu bytes)",
			    account->addr, day, run->home_removed,
			    (unsigned long long)run->home_bytes);
			run->accounts_removed++;
			run->mails_removed += run->home_removed;
			run->bytes_removed += run->home_bytes;
			/* Dovecot would otherwise deliver to it from its cache for a while. */
			if (authcache_flush(run->config.state_dir, account->addr) == AUTHCACHE_FAILED)
				run->problems.errors++;
			break;
		case ACCOUNT_KEPT:
			log_info("kept %s: it logged in while expiry ran", account->addr);
			break;
		case ACCOUNT_REMOVAL_FAILED:
			run->problems.errors++;
			break;
		}
	}
}

static int expire_one(const struct mailstore_mail *mail, void *context)
{
	struct run *run = context;
	run->mails_scanned++;
	enum expire_verdict verdict = expire_mail(&run->policy, mail->mtime, mail->size);
	if (verdict == EXPIRE_KEEP) {
		run->home_kept += mail->size;
		run->figures.mails++;
		run->figures.bytes += mail->size;
		return 0;
	}
	const char *why = verdict == EXPIRE_OLD ? "old" : "large";
	if (run->dry_run) {
		printf("would remove %s/%s%s%s/%s (%llu bytes, %s)\n", run->addr, mail->folder,
		       *mail->folder ? "/" : "", mail->sub, mail->name,
		       (unsigned long long)mail->size, why);
	} else if (unlinkat(mail->dir_fd, mail->name, 0) != 0) {
		if (errno == ENOENT) /* expunged or moved by Dovecot meanwhile */
			return 0;
		log_error("cannot remove %s/%s%s%s/%s: %s", run->addr, mail->folder,
			  *mail->folder ? "/" : "", mail->sub, mail->name, strerror(errno));
		run->problems.errors++;
		return 0;
	}
	run->home_removed++;
	run->home_bytes += mail->size;
	return 0;
}

static int compare_inactive(const void *key, const void *element)
{
	return strcmp(key, ((const struct inactive *)element)->addr);
}

static int expire_home(const char *addr, int fd, void *context)
{
	struct run *run = context;
	char hash[PASSWD_HASH_MAX];
	/* A dry run leaves inactive accounts in place; their mails were counted with them.
	 * The list is in the database's address order, which is strcmp order. */
	if (run->dry_run && run->inactive_count > 0 &&
	    bsearch(addr, run->inactive, run->inactive_count, sizeof *run->inactive,
		    compare_inactive) != NULL)
		return 0;
	if (run->accounts != NULL &&
	    accounts_get(run->accounts, addr, hash, NULL) == ACCOUNTS_NOT_FOUND)
		log_warn("%s has no account; its mails still expire by age", addr);
	run->maildirs++;
	run->addr = addr;
	run->home_removed = 0;
	run->home_bytes = 0;
	run->home_kept = 0;
	mailstore_walk(fd, addr, expire_one, run, &run->problems);
	if (run->home_removed > 0) {
		if (!run->dry_run) {
			forget_quota(fd, addr);
			log_info("expired %lu mail(s), %llu bytes, from %s", run->home_removed,
				 (unsigned long long)run->home_bytes, addr);
		}
		run->mails_removed += run->home_removed;
		run->bytes_removed += run->home_bytes;
	}
	/* Dovecot calls the quota hook only when a delivery crosses the warning level; a
	 * mailbox that stays over it (a hook that failed) is shrunk here. */
	unsigned long mails_before = run->mails_removed;
	uint64_t bytes_before = run->bytes_removed;
	if (run->home_kept >
		expire_quota_share(run->config.max_mailbox_size, EXPIRE_QUOTA_WARNING_PERCENT) &&
	    shrink_to_quota(run, fd, addr) != 0)
		run->problems.errors++;
	run->figures.mails -= run->mails_removed - mails_before;
	run->figures.bytes -= run->bytes_removed - bytes_before;
	show_progress(run, false);
	return 0;
}

static void print_summary(const struct run *run)
{
	struct rusage resources;
	getrusage(RUSAGE_SELF, &resources);
	printf("chatmail-expire: %s%lu accounts scanned, %lu %s; %lu maildirs, %lu mails scanned, "
	       "%lu mails (%llu bytes) %s; %lu skipped, %lu errors; %.2f s, peak RSS %ld KiB\n",
	       run->dry_run ? "dry run: " : "", run->accounts_scanned, run->accounts_removed,
	       run->dry_run ? "inactive" : "removed", run->maildirs, run->mails_scanned,
	       run->mails_removed, (unsigned long long)run->bytes_removed,
	       run->dry_run ? "due" : "removed", run->problems.skipped, run->problems.errors,
	       seconds_since(&run->started), resources.ru_maxrss);
}

/* Opens the database only when it exists: expiry never makes an empty one, whose lack of
 * rows would say nothing about the maildirs. */
static int open_accounts(struct run *run)
{
	if (access(run->config.passdb_path, F_OK) != 0) {
		if (errno != ENOENT) {
			log_error("cannot reach %s: %s", run->config.passdb_path, strerror(errno));
			return -1;
		}
		log_info("no account database at %s yet", run->config.passdb_path);
		return 0;
	}
	run->accounts = accounts_open(run->config.passdb_path);
	return run->accounts != NULL ? 0 : -1;
}

static int count_account(const char *addr, int64_t last_login, void *context)
{
	struct run *run = context;
	(void)addr;
	stats_count_account(&run->figures, last_login, accounts_day(run->now));
	return 0;
}

/* The figures of chatmailctl stats as they are after the run, for Prometheus' textfile
 * collector (README "Metrics"): the accounts counted again, the mails as kept. */
static void write_textfile(struct run *run)
{
	run->figures.maildirs = run->maildirs;
	if (run->accounts != NULL &&
	    accounts_foreach(run->accounts, count_account, run) != ACCOUNTS_OK) {
		run->problems.errors++;
		return;
	}
	if (stats_write_textfile(&run->figures, run->textfile) != 0) {
		log_error("cannot write %s: %s", run->textfile, strerror(errno));
		run->problems.errors++;
	}
}

static int daily(struct run *run)
{
	run->daily = true;
	if (!run->dry_run && mailstore_empty_trash(run->root_fd) != 0)
		run->problems.errors++;
	if (run->accounts != NULL &&
	    accounts_foreach(run->accounts, collect_inactive, run) != ACCOUNTS_OK)
		return EXIT_TEMPFAIL;
	remove_inactive(run);
	if (mailstore_each_home(&run->config, run->root_fd, expire_home, run, &run->problems) != 0)
		run->problems.errors++;
	show_progress(run, true);
	if (run->textfile != NULL && !run->dry_run)
		write_textfile(run);
	print_summary(run);
	return run->problems.errors > 0 ? EXIT_PARTIAL : EXIT_DONE;
}

static int load(struct run *run)
{
	struct config_error error;
	if (config_load(&run->config, &error) != 0) {
		if (error.key[0] != '\0')
			log_error("%s:%u: %s %s", config_path(), error.line, error.key,
				  error.message);
		else
			log_error("%s", error.message);
		return -1;
	}
	return mailstore_become_owner(&run->config);
}

static int usage(void)
{
	fprintf(stderr, "usage: chatmail-expire [--config INI] [--dry-run] [--textfile FILE] "
			"[--quota ADDR]\n");
	return EXIT_USAGE;
}

int main(int argc, char **argv)
{
	static struct run run;
	const char *quota_addr = NULL;

	log_open("chatmail-expire", LOG_TO_STDERR);
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--dry-run") == 0)
			run.dry_run = true;
		else if (strcmp(argv[i], "--quota") == 0 && i + 1 < argc)
			quota_addr = argv[++i];
		else if (strcmp(argv[i], "--textfile") == 0 && i + 1 < argc)
			run.textfile = argv[++i];
		else if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
			setenv("CHATMAIL_INI", argv[++i], 1);
		else
			return usage();
	}
	clock_gettime(CLOCK_MONOTONIC, &run.started);
	run.now = (int64_t)time(NULL);
	run.progress = quota_addr == NULL && isatty(STDERR_FILENO);
	if (load(&run) != 0)
		return EXIT_TEMPFAIL;
	expire_policy_init(&run.policy, &run.config, run.now);
	run.root_fd = mailstore_open_root(run.config.mailboxes_dir);
	if (run.root_fd < 0) {
		if (errno == ENOENT && quota_addr == NULL) {
			log_info("no maildirs at %s yet", run.config.mailboxes_dir);
			return EXIT_DONE;
		}
		log_error("cannot open %s: %s", run.config.mailboxes_dir, strerror(errno));
		return EXIT_TEMPFAIL;
	}
	if (quota_addr != NULL)
		return quota(&run, quota_addr);
	if (open_accounts(&run) != 0)
		return EXIT_TEMPFAIL;
	int status = daily(&run);
	for (size_t i = 0; i < run.inactive_count; i++)
		free(run.inactive[i].addr);
	free(run.inactive);
	accounts_close(run.accounts);
	close(run.root_fd);
	return status;
}
