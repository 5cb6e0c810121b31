/* The quota expiry of SPEC §5: Dovecot's quota_warning hook (chatmail-expire --quota ADDR)
 * and the daily run's shrink of mailboxes left over the warning level. */
#include "chatmail-expire.h"

#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

/* The quota hook looks at no more mails than this in one mailbox; 500M of tiny mails stays
 * well below it. */
#define QUOTA_MAILS_MAX (1u << 20)
#define QUOTA_FOLDERS_MAX 1024

void forget_quota(int home_fd, const char *addr)
{
	if (unlinkat(home_fd, MAILSTORE_QUOTA_FILE, 0) != 0 && errno != ENOENT)
		log_warn("cannot remove %s/%s: %s", addr, MAILSTORE_QUOTA_FILE, strerror(errno));
}

/* The quota hook's view of one mailbox: every mail, and where it lives. */
struct quota_file {
	char *name;
	uint16_t folder; /* index into folders */
	bool in_new;
};

struct quota_scan {
	struct quota_mail *mails; /* mails[i].id == i until the plan sorts them */
	struct quota_file *files;
	size_t count, size;
	char *folders[QUOTA_FOLDERS_MAX];
	size_t folder_count;
	bool full;
	/* A dry run of the daily expiry leaves out what it already counted as due by age. */
	const struct expire_policy *due_by_age;
};

static int folder_index(struct quota_scan *scan, const char *folder, uint16_t *index)
{
	for (size_t i = 0; i < scan->folder_count; i++)
		if (strcmp(scan->folders[i], folder) == 0)
			return (*index = (uint16_t)i), 0;
	if (scan->folder_count == QUOTA_FOLDERS_MAX ||
	    (scan->folders[scan->folder_count] = strdup(folder)) == NULL)
		return -1;
	*index = (uint16_t)scan->folder_count++;
	return 0;
}

static int grow_scan(struct quota_scan *scan)
{
	size_t size = scan->size ? scan->size * 2 : 1024;
	struct quota_mail *mails = reallocarray(scan->mails, size, sizeof *mails);
	if (mails == NULL)
		return -1;
	scan->mails = mails;
	struct quota_file *files = reallocarray(scan->files, size, sizeof *files);
	if (files == NULL)
		return -1;
	scan->files = files;
	scan->size = size;
	return 0;
}

static int note_mail(const struct mailstore_mail *mail, void *context)
{
	struct quota_scan *scan = context;
	struct quota_file file = {NULL, 0, strcmp(mail->sub, "new") == 0};
	if (scan->due_by_age != NULL &&
	    expire_mail(scan->due_by_age, mail->mtime, mail->size) != EXPIRE_KEEP)
		return 0;
	if (scan->count == QUOTA_MAILS_MAX) {
		scan->full = true;
		return 1;
	}
	if ((scan->count == scan->size && grow_scan(scan) != 0) ||
	    folder_index(scan, mail->folder, &file.folder) != 0 ||
	    (file.name = strdup(mail->name)) == NULL)
		return -1;
	size_t i = scan->count++;
	scan->files[i] = file;
	scan->mails[i] = (struct quota_mail){mail->mtime, mail->size, i, false};
	return 0;
}

static void free_scan(struct quota_scan *scan)
{
	for (size_t i = 0; i < scan->count; i++)
		free(scan->files[i].name);
	for (size_t i = 0; i < scan->folder_count; i++)
		free(scan->folders[i]);
	free(scan->mails);
	free(scan->files);
}

/* Removes one planned mail. Returns 1 when removed, 0 when already gone, -1 on error. */
static int remove_planned(int home_fd, const struct quota_scan *scan, const struct quota_file *file)
{
	const char *folder = scan->folders[file->folder];
	int folder_fd =
	    *folder ? openat(home_fd, folder, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
		    : home_fd;
	int sub_fd = folder_fd < 0 ? -1
				   : openat(folder_fd, file->in_new ? "new" : "cur",
					    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	int result = -1;
	if (sub_fd >= 0 && unlinkat(sub_fd, file->name, 0) == 0)
		result = 1;
	else if (errno == ENOENT)
		result = 0;
	int saved = errno;
	if (sub_fd >= 0)
		close(sub_fd);
	if (folder_fd >= 0 && folder_fd != home_fd)
		close(folder_fd);
	errno = saved;
	return result;
}

/* Removes the planned mails (or prints them for a dry run); counts what went. */
static void remove_plan(struct run *run, int home_fd, const char *addr,
			const struct quota_scan *scan, size_t planned, unsigned long *removed,
			uint64_t *bytes)
{
	for (size_t i = 0; i < planned; i++) {
		const struct quota_mail *mail = &scan->mails[i];
		const struct quota_file *file = &scan->files[mail->id];
		const char *folder = scan->folders[file->folder];
		if (run->dry_run) {
			printf("would remove %s/%s%s%s/%s (%llu bytes, over quota)\n", addr, folder,
			       *folder ? "/" : "", file->in_new ? "new" : "cur", file->name,
			       (unsigned long long)mail->size);
		} else {
			int result = remove_planned(home_fd, scan, file);
			if (result < 0) {
				log_error("quota-expire: cannot remove %s/%s%s%s/%s: %s", addr,
					  folder, *folder ? "/" : "", file->in_new ? "new" : "cur",
					  file->name, strerror(errno));
				run->problems.errors++;
			}
			if (result <= 0)
				continue;
		}
		++*removed;
		*bytes += mail->size;
	}
}

int shrink_to_quota(struct run *run, int home_fd, const char *addr)
{
	struct quota_scan scan = {0};
	if (run->dry_run && run->daily)
		scan.due_by_age = &run->policy;
	unsigned long removed = 0;
	uint64_t bytes = 0, remaining;
	/* Two deliveries crossing the threshold at once free the space once, not twice. */
	if (!run->dry_run && flock(home_fd, LOCK_EX) != 0)
		log_warn("quota-expire: cannot lock %s: %s", addr, strerror(errno));
	if (mailstore_walk(home_fd, addr, note_mail, &scan, &run->problems) < 0) {
		log_error("quota-expire: out of memory scanning %s", addr);
		free_scan(&scan);
		return -1;
	}
	if (scan.full)
		log_warn("quota-expire: %s holds more than %u mails; looking at the first only",
			 addr, QUOTA_MAILS_MAX);
	uint64_t target =
	    expire_quota_share(run->config.max_mailbox_size, EXPIRE_QUOTA_TARGET_PERCENT);
	size_t planned = expire_quota_plan(scan.mails, scan.count, target,
					   run->now - EXPIRE_QUOTA_SPARE_SECONDS, &remaining);
	remove_plan(run, home_fd, addr, &scan, planned, &removed, &bytes);
	run->mails_removed += removed;
	run->bytes_removed += bytes;
	if (removed > 0 && !run->dry_run) {
		forget_quota(home_fd, addr);
		/* The reference's wording, which operators' metrics count. */
		log_info("quota-expire: removed %lu message(s) from %s (%llu bytes; %llu of %llu "
			 "bytes in use)",
			 removed, addr, (unsigned long long)bytes, (unsigned long long)remaining,
			 (unsigned long long)run->config.max_mailbox_size);
	}
	if (remaining > target)
		log_warn("quota-expire: %s holds %llu bytes, over %llu, in mails younger than %d "
			 "hours",
			 addr, (unsigned long long)remaining, (unsigned long long)target,
			 EXPIRE_QUOTA_SPARE_SECONDS / 3600);
	if (!run->dry_run)
		flock(home_fd, LOCK_UN);
	free_scan(&scan);
	return 0;
}

int quota(struct run *run, const char *addr)
{
	if (!mailstore_home_name(&run->config, addr, strlen(addr))) {
		log_error("quota-expire: '%s' is not an address of this relay", addr);
		return EXIT_USAGE;
	}
	int home_fd = mailstore_open_home(run->root_fd, addr);
	if (home_fd < 0) {
		log_error("quota-expire: cannot open the home of %s: %s", addr, strerror(errno));
		return errno == ENOENT ? EXIT_DONE : EXIT_PARTIAL;
	}
	int status = shrink_to_quota(run, home_fd, addr);
	close(home_fd);
	if (run->dry_run)
		printf("chatmail-expire: dry run: %lu message(s) (%llu bytes) of %s due\n",
		       run->mails_removed, (unsigned long long)run->bytes_removed, addr);
	if (status != 0)
		return EXIT_TEMPFAIL;
	return run->problems.errors > 0 ? EXIT_PARTIAL : EXIT_DONE;
}
