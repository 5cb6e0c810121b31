/* Maildir walking and removal through openat/fstatat/unlinkat with O_NOFOLLOW: names from
 * disk are only ever used relative to a directory fd, one component at a time. */
#include "mailstore.h"

#include "account.h"
#include "expire.h"
#include "log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define DIR_FLAGS (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
#define TRASH_NAME_MAX 64

int mailstore_become_owner(const struct config *config)
{
	uid_t uid;
	gid_t gid;
	if (geteuid() != 0)
		return 0;
	if (account_vmail_ids(config, &uid, &gid) != 0) {
		log_error("vmail user '%s' is unknown", config->vmail_user);
		return -1;
	}
	if (uid == 0)
		return 0;
	if (setgroups(1, &gid) != 0 || setgid(gid) != 0 || setuid(uid) != 0 || setuid(0) == 0) {
		log_error("cannot become the vmail user '%s': %s", config->vmail_user,
			  strerror(errno));
		return -1;
	}
	return 0;
}

int mailstore_open_root(const struct config *config)
{
	return open(config->mailboxes_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

int mailstore_open_home(int root_fd, const char *addr)
{
	return openat(root_fd, addr, DIR_FLAGS);
}

struct walk {
	const char *label;
	mailstore_each_fn *each;
	void *context;
	struct mailstore_problems *problems;
};

static int walk_sub(struct walk *walk, int folder_fd, const char *folder, const char *sub)
{
	int fd = openat(folder_fd, sub, DIR_FLAGS);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		if (errno == ELOOP || errno == ENOTDIR) {
			struct stat st;
			bool link = fstatat(folder_fd, sub, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
				    S_ISLNK(st.st_mode);
			log_warn("skipping %s/%s%s%s: %s", walk->label, folder, *folder ? "/" : "",
				 sub, link ? "a symbolic link" : "not a directory");
			walk->problems->skipped++;
			return 0;
		}
		log_error("cannot read %s/%s%s%s: %s", walk->label, folder, *folder ? "/" : "", sub,
			  strerror(errno));
		walk->problems->errors++;
		return 0;
	}
	DIR *dir = fdopendir(fd);
	if (dir == NULL) {
		close(fd);
		walk->problems->errors++;
		return 0;
	}
	int result = 0;
	struct dirent *entry;
	while (result == 0 && (errno = 0, entry = readdir(dir)) != NULL) {
		struct stat st;
		size_t len = strlen(entry->d_name);
		/* Dot files are not mails to Dovecot either. */
		if (entry->d_name[0] == '.')
			continue;
		if (!expire_mail_name(entry->d_name, len)) {
			log_warn("skipping %s/%s%s%s/%s: not a mail file name", walk->label, folder,
				 *folder ? "/" : "", sub, entry->d_name);
			walk->problems->skipped++;
			continue;
		}
		if (fstatat(fd, entry->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
			/* Dovecot moved it to cur/ or renamed it for a flag: seen later. */
			if (errno != ENOENT) {
				log_error("cannot stat %s/%s%s%s/%s: %s", walk->label, folder,
					  *folder ? "/" : "", sub, entry->d_name, strerror(errno));
				walk->problems->errors++;
			}
			continue;
		}
		if (!S_ISREG(st.st_mode)) {
			log_warn("skipping %s/%s%s%s/%s: not a regular file", walk->label, folder,
				 *folder ? "/" : "", sub, entry->d_name);
			walk->problems->skipped++;
			continue;
		}
		struct mailstore_mail mail = {
		    .dir_fd = fd,
		    .folder = folder,
		    .sub = sub,
		    .name = entry->d_name,
		    .mtime = (int64_t)st.st_mtime,
		    .size = (uint64_t)st.st_size,
		};
		result = walk->each(&mail, walk->context);
	}
	if (entry == NULL && errno != 0) {
		log_error("cannot list %s/%s%s%s: %s", walk->label, folder, *folder ? "/" : "", sub,
			  strerror(errno));
		walk->problems->errors++;
	}
	closedir(dir);
	return result;
}

static int walk_folder(struct walk *walk, int folder_fd, const char *folder)
{
	int result = walk_sub(walk, folder_fd, folder, "cur");
	return result != 0 ? result : walk_sub(walk, folder_fd, folder, "new");
}

int mailstore_walk(int home_fd, const char *label, mailstore_each_fn *each, void *context,
		   struct mailstore_problems *problems)
{
	struct walk walk = {label, each, context, problems};
	int result = walk_folder(&walk, home_fd, "");
	if (result != 0)
		return result;

	int fd = dup(home_fd);
	DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
	if (dir == NULL) {
		if (fd >= 0)
			close(fd);
		log_error("cannot list %s: %s", label, strerror(errno));
		problems->errors++;
		return 0;
	}
	rewinddir(dir); /* the dup shares the offset with home_fd */
	struct dirent *entry;
	while (result == 0 && (entry = readdir(dir)) != NULL) {
		struct stat st;
		if (!expire_folder_name(entry->d_name, strlen(entry->d_name)))
			continue;
		if (fstatat(home_fd, entry->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
			continue;
		if (S_ISLNK(st.st_mode)) {
			log_warn("skipping %s/%s: a symbolic link", label, entry->d_name);
			problems->skipped++;
			continue;
		}
		if (!S_ISDIR(st.st_mode))
			continue; /* Dovecot keeps no dot files it counts as mail */
		int folder_fd = openat(home_fd, entry->d_name, DIR_FLAGS);
		if (folder_fd < 0) {
			log_error("cannot read %s/%s: %s", label, entry->d_name, strerror(errno));
			problems->errors++;
			continue;
		}
		result = walk_folder(&walk, folder_fd, entry->d_name);
		close(folder_fd);
	}
	closedir(dir);
	return result;
}

static int remove_children(int fd, const char *label, unsigned depth);

int mailstore_remove_tree(int parent_fd, const char *name, unsigned depth)
{
	struct stat st;
	if (fstatat(parent_fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return errno == ENOENT ? 0 : -1;
	/* A link, even to a directory, is removed as the link alone. */
	if (!S_ISDIR(st.st_mode)) {
		if (unlinkat(parent_fd, name, 0) == 0 || errno == ENOENT)
			return 0;
		log_error("cannot remove %s: %s", name, strerror(errno));
		return -1;
	}
	if (depth == 0) {
		log_error("not removing %s: nested deeper than a maildir", name);
		return -1;
	}
	int fd = openat(parent_fd, name, DIR_FLAGS);
	if (fd < 0) {
		log_error("cannot open %s for removal: %s", name, strerror(errno));
		return -1;
	}
	int status = remove_children(fd, name, depth - 1);
	close(fd);
	if (status != 0)
		return -1; /* logged below */
	if (unlinkat(parent_fd, name, AT_REMOVEDIR) != 0 && errno != ENOENT) {
		log_error("cannot remove %s: %s", name, strerror(errno));
		return -1;
	}
	return 0;
}

static int remove_children(int fd, const char *label, unsigned depth)
{
	int dup_fd = dup(fd);
	DIR *dir = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
	if (dir == NULL) {
		if (dup_fd >= 0)
			close(dup_fd);
		log_error("cannot list %s for removal: %s", label, strerror(errno));
		return -1;
	}
	int status = 0;
	struct dirent *entry;
	while ((entry = readdir(dir)) != NULL) {
		const char *name = entry->d_name;
		if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
			continue;
		if (mailstore_remove_tree(fd, name, depth) != 0)
			status = -1;
	}
	closedir(dir);
	return status;
}

static int open_trash(int root_fd)
{
	if (mkdirat(root_fd, MAILSTORE_TRASH, 0700) != 0 && errno != EEXIST) {
		log_error("cannot make %s: %s", MAILSTORE_TRASH, strerror(errno));
		return -1;
	}
	int fd = openat(root_fd, MAILSTORE_TRASH, DIR_FLAGS);
	if (fd < 0)
		log_error("cannot open %s: %s", MAILSTORE_TRASH, strerror(errno));
	return fd;
}

int mailstore_empty_trash(int root_fd)
{
	int fd = openat(root_fd, MAILSTORE_TRASH, DIR_FLAGS);
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	int status = remove_children(fd, MAILSTORE_TRASH, MAILSTORE_TREE_DEPTH_MAX);
	close(fd);
	return status;
}

/* Renames the home of addr into the trash under a fresh name. Returns 1 when moved, 0 when
 * there is no home, -1 on failure (logged). */
static int move_aside(int root_fd, int trash_fd, const char *addr, char *aside, size_t size)
{
	static unsigned long counter;
	int n = snprintf(aside, size, "%ld-%ld-%lu", (long)time(NULL), (long)getpid(), ++counter);
	if (n < 0 || (size_t)n >= size)
		return -1;
	for (int attempt = 0; attempt < 2; attempt++) {
		if (renameat(root_fd, addr, trash_fd, aside) == 0)
			return 1;
		if (errno == ENOENT)
			return 0;
		/* A leftover of an interrupted run under the same name: it is garbage. */
		if ((errno != EEXIST && errno != ENOTEMPTY) ||
		    mailstore_remove_tree(trash_fd, aside, MAILSTORE_TREE_DEPTH_MAX) != 0)
			break;
	}
	log_error("cannot move the home of %s aside: %s", addr, strerror(errno));
	return -1;
}

static void put_back(int root_fd, int trash_fd, const char *addr, const char *aside)
{
	if (renameat2(trash_fd, aside, root_fd, addr, RENAME_NOREPLACE) == 0)
		return;
	/* A new home appeared meanwhile; the old one is removed below. */
	log_warn("could not put the home of %s back: %s", addr, strerror(errno));
}

enum mailstore_removal mailstore_remove_account(struct accounts *accounts, int root_fd,
						const char *addr, int64_t idle_before)
{
	char aside[TRASH_NAME_MAX] = "", again[TRASH_NAME_MAX] = "";
	int trash_fd = open_trash(root_fd);
	if (trash_fd < 0)
		return MAILSTORE_FAILED;
	int moved = move_aside(root_fd, trash_fd, addr, aside, sizeof aside);
	if (moved < 0) {
		close(trash_fd);
		return MAILSTORE_FAILED;
	}
	enum accounts_status status = idle_before > 0
					  ? accounts_delete_idle(accounts, addr, idle_before)
					  : accounts_delete(accounts, addr);
	enum mailstore_removal result = MAILSTORE_REMOVED;
	if (status == ACCOUNTS_ERROR || (status == ACCOUNTS_NOT_FOUND && idle_before > 0)) {
		/* Database trouble, or the user came back: the account keeps its mail. */
		if (moved == 1)
			put_back(root_fd, trash_fd, addr, aside);
		result = status == ACCOUNTS_ERROR ? MAILSTORE_FAILED : MAILSTORE_KEPT;
	} else {
		if (status == ACCOUNTS_NOT_FOUND && moved == 0)
			result = MAILSTORE_NO_ACCOUNT;
		/* A delivery that looked the user up before the row went may have made a new
		 * home between the rename and the delete: it goes too. */
		if (move_aside(root_fd, trash_fd, addr, again, sizeof again) < 0)
			result = MAILSTORE_FAILED;
	}
	/* Both names may be gone already (put back, or never moved): that is no error. */
	if (mailstore_remove_tree(trash_fd, aside, MAILSTORE_TREE_DEPTH_MAX) != 0 ||
	    mailstore_remove_tree(trash_fd, again, MAILSTORE_TREE_DEPTH_MAX) != 0)
		log_warn("old home of %s left in %s; the next run removes it", addr,
			 MAILSTORE_TRASH);
	close(trash_fd);
	return result;
}
