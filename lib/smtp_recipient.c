/* Recipient maildir lookups for incoming filtering: one path component, no symlinks. */
#include "smtp_recipient.h"

#include "smtp.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

bool smtp_recipient_safe_name(const char *addr, size_t len)
{
	if (len == 0 || len > SMTP_ADDRESS_MAX)
		return false;
	if ((len == 1 && addr[0] == '.') || (len == 2 && addr[0] == '.' && addr[1] == '.'))
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)addr[i];
		if (c == '/' || c < 0x20 || c == 0x7f)
			return false;
	}
	return true;
}

int smtp_recipient_enforces_e2ee(const char *mailboxes_dir, const char *addr, bool *enforce)
{
	char name[SMTP_ADDRESS_MAX + 1];
	size_t len = strlen(addr);
	struct stat st;

	*enforce = false;
	if (!smtp_recipient_safe_name(addr, len)) {
		errno = EINVAL;
		return -1;
	}
	/* Dovecot lower-cases user names, so their maildirs are lower-case: an upper-case
	 * spelling must not slip past the owner's choice. */
	for (size_t i = 0; i <= len; i++)
		name[i] = (char)tolower((unsigned char)addr[i]);

	int dir = open(mailboxes_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0)
		return -1;
	int home = openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	int saved = errno;
	close(dir);
	if (home < 0) {
		errno = saved;
		return saved == ENOENT ? 0 : -1;
	}
	int rc = fstatat(home, SMTP_RECIPIENT_ENFORCE_FILE, &st, AT_SYMLINK_NOFOLLOW);
	saved = errno;
	close(home);
	if (rc == 0) {
		*enforce = true;
		return 0;
	}
	errno = saved;
	return saved == ENOENT ? 0 : -1;
}
