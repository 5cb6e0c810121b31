/* The maildirs below mailboxes_dir, under the account and expiry rules: their names and limits,
 * making, finding and walking homes, and removing trees, only through directory fds and never
 * through a symbolic link, so a hostile name or link can never lead outside mailboxes_dir. */
#ifndef CHATMAIL_MAILSTORE_H
#define CHATMAIL_MAILSTORE_H

#include "config.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* An address names its home, one directory below mailboxes_dir. RFC 5321 bounds a path to
 * 256 octets with its <>, so an address to 254; that also fits a file name (NAME_MAX). */
#define MAILSTORE_ADDRESS_MAX 254
/* mailboxes_dir, a '/' and an address. */
#define MAILSTORE_HOME_PATH_MAX (CONFIG_PATH_MAX + 1 + MAILSTORE_ADDRESS_MAX + 1)
/* In a home, asks filtermail to refuse unencrypted incoming mail. */
#define MAILSTORE_ENFORCE_E2EE_FILE "enforceE2EEincoming"
/* Homes on their way out are renamed here first. Addresses never start with a dot, so this
 * name never clashes with an account's home. */
#define MAILSTORE_TRASH ".deleted"
/* Dovecot's Maildir++ quota file: without it Dovecot counts the maildir again. */
#define MAILSTORE_QUOTA_FILE "maildirsize"
/* A maildir is home/.Folder/cur/file: anything deeper than this is not ours to remove. */
#define MAILSTORE_TREE_DEPTH_MAX 8
/* A name in the trash: "<time>-<pid>-<counter>". */
#define MAILSTORE_ASIDE_MAX 64

/* A canonical address, as homes are named: a localpart of [a-z0-9._-] not starting with a
 * dot, one '@', a domain of [a-z0-9._-] or an address literal "[192.0.2.1]"; at most
 * MAILSTORE_ADDRESS_MAX bytes. Such a name is always one safe path component. */
bool mailstore_canonical_name(const char *name, size_t len);

/* A canonical address at the relay's address_domain. Unlike address_check it ignores the
 * configured localpart lengths, so accounts made before an operator changed them still
 * expire. */
bool mailstore_home_name(const struct config *config, const char *name, size_t len);

/* A name in cur/ or new/ that may be a mail: not empty, not a dot file, no '/', bounded. */
bool mailstore_mail_name(const char *name, size_t len);

/* A Maildir++ folder below a maildir home: ".Sent", ".Sent Messages", not "." or "..". */
bool mailstore_folder_name(const char *name, size_t len);

/* The path of the home of addr, for Dovecot's HOME. Returns 0, or -1 when it does not fit. */
int mailstore_home_path(const struct config *config, const char *addr, char *out, size_t size);

/* Resolves vmail_user, the owner of the maildirs (a name or "uid:gid"). Returns 0, or -1
 * when unknown. */
int mailstore_owner_ids(const struct config *config, uid_t *uid, gid_t *gid);

/* Run as root, becomes vmail_user (groups, gid, uid), so that no file these tools touch or
 * make (the database's journal, the trash) ends up owned by root where Dovecot and doveauth
 * must write. Does nothing for another user. Returns 0, or -1 (logged). */
int mailstore_become_owner(const struct config *config);

/* Opens mailboxes_dir. The operator's path is trusted and may pass through links; nothing
 * below it is. Returns an fd, or -1 with errno set. */
int mailstore_open_root(const char *mailboxes_dir);

/* Opens the maildir home of addr below root, refusing a link. Returns an fd, or -1. */
int mailstore_open_home(int root_fd, const char *addr);

/* Makes the home of the canonical address addr with its MAILSTORE_ENFORCE_E2EE_FILE, owned
 * by vmail_user, and mailboxes_dir first when it is missing. An existing home is kept.
 * Returns 0, or -1 (logged). */
int mailstore_make_home(const struct config *config, const char *addr);

/* Sets *enforce to whether the home holds MAILSTORE_ENFORCE_E2EE_FILE (of any type: a link
 * there still asks for encryption). Returns 0, or -1 (errno set) when it cannot tell. */
int mailstore_home_enforces_e2ee(int home_fd, bool *enforce);

/* The same for the home of addr below mailboxes_dir, for filtermail, which canonicalises the
 * recipient first. A recipient without a home is not enforced. Returns 0, or -1 (errno set)
 * when it cannot tell: addr not canonical (EINVAL), an unreadable or linked home. */
int mailstore_enforces_e2ee(const char *mailboxes_dir, const char *addr, bool *enforce);

struct mailstore_problems {
	unsigned long skipped; /* things that are not homes or mails (links, odd names): logged */
	unsigned long errors;  /* things that could not be read or removed: logged */
};

/* Returns 0 to go on, non-zero to stop. home_fd is closed after the call. */
typedef int mailstore_home_fn(const char *addr, int home_fd, void *context);

/* Calls each for every home below root: a directory named by mailstore_home_name, opened
 * without following a link. Other names, links and files are logged and skipped, the trash
 * is passed over. Returns what the last each returned, or -1 when root cannot be listed
 * (logged). */
int mailstore_each_home(const struct config *config, int root_fd, mailstore_home_fn *each,
			void *context, struct mailstore_problems *problems);

struct mailstore_mail {
	int dir_fd;	    /* the cur/ or new/ directory that holds the file */
	const char *folder; /* "" for the inbox, else the Maildir++ folder (".Sent") */
	const char *sub;    /* "cur" or "new" */
	const char *name;
	int64_t mtime;
	uint64_t size;
};

/* Returns 0 to go on, non-zero to stop the walk. */
typedef int mailstore_each_fn(const struct mailstore_mail *mail, void *context);

/* Calls each for every regular file in cur/ and new/ of the home and of its Maildir++
 * folders. Links, other file types and odd names are logged and skipped; unreadable
 * directories are logged and counted as errors; the rest is walked. label names the home
 * in log lines. Returns what the last each returned, or 0. */
int mailstore_walk(int home_fd, const char *label, mailstore_each_fn *each, void *context,
		   struct mailstore_problems *problems);

/* Removes name below parent_fd and everything in it, at most depth levels, never through a
 * link. Returns 0, or -1 (logged) when something stays. */
int mailstore_remove_tree(int parent_fd, const char *name, unsigned depth);

/* Opens the trash below root, making it when missing. Returns an fd, or -1 (logged). */
int mailstore_open_trash(int root_fd);

/* Removes what an interrupted run left in the trash. Returns 0 or -1 (logged). */
int mailstore_empty_trash(int root_fd);

/* Renames the home of addr into the trash under a fresh name, written to aside (at least
 * MAILSTORE_ASIDE_MAX bytes): atomic, so the address has no home from then on. Returns 1
 * when moved, 0 when there is no home, -1 on failure (logged). */
int mailstore_move_aside(int root_fd, int trash_fd, const char *addr, char *aside);

/* Renames the home back from the trash, unless a new home took its place (logged; the old
 * one then stays in the trash). */
void mailstore_put_back(int root_fd, int trash_fd, const char *addr, const char *aside);

#endif
