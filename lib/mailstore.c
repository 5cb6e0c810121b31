/* The maildir store through openat/fstatat/unlinkat with O_NOFOLLOW: names from disk are only
 * ever used relative to a directory fd, one component at a time. */
#include "mailstore.h"

#include "log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define DIR_FLAGS (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)

static bool name_byte(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

/* "[192.0.2.1]", as an IP-only relay's address_domain. */
static bool address_literal(const char *domain, size_t len)
{
	if (len < 3 || domain[0] != '[' || domain[len - 1] != ']')
		return false;
	for (size_t i = 1; i + 1 < len; i++)
		if (!(domain[i] == '.' || (domain[i] >= '0' && domain[i] <= '9')))
			return false;
	return true;
}

bool mailstore_canonical_name(const char *name, size_t len)
{
	const char *at = len > 0 ? memchr(name, '@', len) : NULL;
	if (at == NULL || at == name || name[0] == '.' || len > MAILSTORE_ADDRESS_MAX)
		return false;
	size_t local_len = (size_t)(at - name), domain_len = len - local_len - 1;
	for (size_t i = 0; i < local_len; i++)
		if (!name_byte(name[i]))
			return false;
	if (address_literal(at + 1, domain_len))
		return true;
	if (domain_len == 0 || at[1] == '.')
		return false;
	for (size_t i = 1; i <= domain_len; i++)
		if (!name_byte(at[i]))
			return false;
	return true;
}

bool mailstore_home_name(const struct config *config, const char *name, size_t len)
{
	const char *at = len > 0 ? memchr(name, '@', len) : NULL;
	size_t domain_len = strlen(config->address_domain);
	return mailstore_canonical_name(name, len) && len - (size_t)(at - name) - 1 == domain_len &&
	       memcmp(at + 1, config->address_domain, domain_len) == 0;
}

bool mailstore_mail_name(const char *name, size_t len)
{
	return len > 0 && len <= NAME_MAX && name[0] != '.' && memchr(name, '/', len) == NULL &&
	       memchr(name, '\0', len) == NULL;
}

bool mailstore_folder_name(const char *name, size_t len)
{
	if (len < 2 || len > NAME_MAX || name[0] != '.' || memchr(name, '/', len) != NULL ||
	    memchr(name, '\0', len) != NULL)
		return false;
	return !(len == 2 && name[1] == '.');
}

int mailstore_home_path(const struct config *config, const char *addr, char *out, size_t size)
{
	int n = snprintf(out, size, "%s/%s", config->mailboxes_dir, addr);
	return n > 0 && (size_t)n < size ? 0 : -1;
}

int mailstore_owner_ids(const struct config *config, uid_t *uid, gid_t *gid)
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

int mailstore_become_owner(const struct config *config)
{
	uid_t uid;
	gid_t gid;
	if (geteuid() != 0)
		return 0;
	if (mailstore_owner_ids(config, &uid, &gid) != 0) {
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

int mailstore_open_root(const char *mailboxes_dir)
{
	return open(mailboxes_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

int mailstore_open_home(int root_fd, const char *addr)
{
	return openat(root_fd, addr, DIR_FLAGS);
}

/* The home below root with its enforce file, both handed to the owner; a link where the
 * home should be is refused. */
static int make_home_at(int root_fd, const char *addr, uid_t uid, gid_t gid)
{
	if (mkdirat(root_fd, addr, 0700) != 0 && errno != EEXIST) {
		log_error("cannot make the home of %s: %s", addr, strerror(errno));
		return -1;
	}
	int home = mailstore_open_home(root_fd, addr);
	int file = home < 0 ? -1
			    : openat(home, MAILSTORE_ENFORCE_E2EE_FILE,
				     O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	int status = 0;
	if (file < 0 || fchown(home, uid, gid) != 0 || fchown(file, uid, gid) != 0) {
		log_error("cannot prepare the home of %s: %s", addr, strerror(errno));
		status = -1;
	}
	if (file >= 0)
		close(file);
	if (home >= 0)
		close(home);
	return status;
}

int mailstore_make_home(const struct config *config, const char *addr)
{
	uid_t uid;
	gid_t gid;
	if (!mailstore_canonical_name(addr, strlen(addr))) {
		log_error("no home for '%s': not a canonical address", addr);
		return -1;
	}
	if (mailstore_owner_ids(config, &uid, &gid) != 0) {
		log_error("vmail user '%s' is unknown", config->vmail_user);
		return -1;
	}
	if (mkdir(config->mailboxes_dir, 0700) == 0 &&
	    chown(config->mailboxes_dir, uid, gid) != 0) {
		log_error("cannot hand %s to the vmail user: %s", config->mailboxes_dir,
			  strerror(errno));
		return -1;
	}
	int root = mailstore_open_root(config->mailboxes_dir);
	if (root < 0) {
		log_error("cannot open %s: %s", config->mailboxes_dir, strerror(errno));
		return -1;
	}
	int status = make_home_at(root, addr, uid, gid);
	close(root);
	return status;
}

int mailstore_home_enforces_e2ee(int home_fd, bool *enforce)
{
	struct stat st;
	*enforce = fstatat(home_fd, MAILSTORE_ENFORCE_E2EE_FILE, &st, AT_SYMLINK_NOFOLLOW) == 0;
	return *enforce || errno == ENOENT ? 0 : -1;
}

int mailstore_enforces_e2ee(const char *mailboxes_dir, const char *addr, bool *enforce)
{
	*enforce = false;
	if (!mailstore_canonical_name(addr, strlen(addr))) {
		errno = EINVAL;
		return -1;
	}
	int root = mailstore_open_root(mailboxes_dir);
	if (root < 0)
		return -1;
	int home = mailstore_open_home(root, addr);
	int saved = errno;
	close(root);
	if (home < 0) {
		errno = saved;
		return saved == ENOENT ? 0 : -1;
	}
	int status = mailstore_home_enforces_e2ee(home, enforce);
	saved = errno;
	close(home);
	errno = saved;
	return status;
}

/* A DIR over a directory fd, which stays open for the caller's *at calls. */
static DIR *list(int fd)
{
	int copy = dup(fd);
	DIR *dir = copy >= 0 ? fdopendir(copy) : NULL;
	if (dir == NULL) {
		if (copy >= 0)
			close(copy);
		return NULL;
	}
	rewinddir(dir); /* the dup shares the offset with fd */
	return dir;
}

/* Why name below parent_fd could not be opened as a directory: a link, or something else. */
static const char *not_a_directory(int parent_fd, const char *name)
{
	struct stat st;
	bool link = fstatat(parent_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode);
	return link ? "a symbolic link" : "not a directory";
}

int mailstore_each_home(const struct config *config, int root_fd, mailstore_home_fn *each,
			void *context, struct mailstore_problems *problems)
{
	DIR *dir = list(root_fd);
	if (dir == NULL) {
		log_error("cannot list %s: %s", config->mailboxes_dir, strerror(errno));
		return -1;
	}
	int result = 0;
	struct dirent *entry;
	while (result == 0 && (errno = 0, entry = readdir(dir)) != NULL) {
		const char *name = entry->d_name;
		if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0 ||
		    strcmp(name, MAILSTORE_TRASH) == 0)
			continue;
		if (!mailstore_home_name(config, name, strlen(name))) {
			log_warn("skipping %s: not an address of this relay", name);
			problems->skipped++;
			continue;
		}
		int home = mailstore_open_home(root_fd, name);
		if (home < 0 && (errno == ELOOP || errno == ENOTDIR)) {
			log_warn("skipping %s: %s", name, not_a_directory(root_fd, name));
			problems->skipped++;
		} else if (home < 0 && errno != ENOENT) { /* ENOENT: removed meanwhile */
			log_error("cannot open %s: %s", name, strerror(errno));
			problems->errors++;
		} else if (home >= 0) {
			result = each(name, home, context);
			close(home);
		}
	}
	if (entry == NULL && errno != 0) {
		log_error("cannot list %s: %s", config->mailboxes_dir, strerror(errno));
		result = -1;
	}
	closedir(dir);
	return result;
}

struct walk {
	const char *label;
	mailstore_each_fn *each;
	void *context;
	struct mailstore_problems *problems;
};

static int walk_sub(struct walk *walk, int folder_fd, const char *folder, const char *sub)
{
	const char *slash = *folder ? "/" : "";
	int fd = openat(folder_fd, sub, DIR_FLAGS);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		if (errno == ELOOP || errno == ENOTDIR) {
			log_warn("skipping %s/%s%s%s: %s", walk->label, folder, slash, sub,
				 not_a_directory(folder_fd, sub));
			walk->problems->skipped++;
			return 0;
		}
		log_error("cannot read %s/%s%s%s: %s", walk->label, folder, slash, sub,
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
		const char *name = entry->d_name;
		/* Dot files are not mails to Dovecot either. */
		if (name[0] == '.')
			continue;
		if (!mailstore_mail_name(name, strlen(name))) {
			log_warn("skipping %s/%s%s%s/%s: not a mail file name", walk->label, folder,
				 slash, sub, name);
			walk->problems->skipped++;
			continue;
		}
		if (fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
			/* Dovecot moved it to cur/ or renamed it for a flag: seen later. */
			if (errno != ENOENT) {
				log_error("cannot stat %s/%s%s%s/%s: %s", walk->label, folder,
					  slash, sub, name, strerror(errno));
				walk->problems->errors++;
			}
			continue;
		}
		if (!S_ISREG(st.st_mode)) {
			log_warn("skipping %s/%s%s%s/%s: not a regular file", walk->label, folder,
				 slash, sub, name);
			walk->problems->skipped++;
			continue;
		}
		struct mailstore_mail mail = {
		    .dir_fd = fd,
		    .folder = folder,
		    .sub = sub,
		    .name = name,
		    .mtime = (int64_t)st.st_mtime,
		    .size = (uint64_t)st.st_size,
		};
		result = walk->each(&mail, walk->context);
	}
	if (entry == NULL && errno != 0) {
		log_error("cannot list %s/%s%s%s: %s", walk->label, folder, slash, sub,
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
	DIR *dir = list(home_fd);
	if (dir == NULL) {
		log_error("cannot list %s: %s", label, strerror(errno));
		problems->errors++;
		return 0;
	}
	struct dirent *entry;
	while (result == 0 && (entry = readdir(dir)) != NULL) {
		struct stat st;
		if (!mailstore_folder_name(entry->d_name, strlen(entry->d_name)))
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
	DIR *dir = list(fd);
	if (dir == NULL) {
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

int mailstore_open_trash(int root_fd)
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

int mailstore_move_aside(int root_fd, int trash_fd, const char *addr, char *aside)
{
	static unsigned long counter;
	int n = snprintf(aside, MAILSTORE_ASIDE_MAX, "%ld-%ld-%lu", (long)time(NULL),
			 (long)getpid(), ++counter);
	if (n < 0 || n >= MAILSTORE_ASIDE_MAX)
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

void mailstore_put_back(int root_fd, int trash_fd, const char *addr, const char *aside)
{
	if (renameat2(trash_fd, aside, root_fd, addr, RENAME_NOREPLACE) == 0)
		return;
	log_warn("could not put the home of %s back: %s", addr, strerror(errno));
}
