/* The maildirs below mailboxes_dir, reached only through directory fds and never through a
 * symbolic link, so a hostile name or link can never lead outside mailboxes_dir. */
#ifndef CHATMAIL_MAILSTORE_H
#define CHATMAIL_MAILSTORE_H

#include "accounts.h"
#include "config.h"

#include <stdint.h>

/* Homes on their way out are renamed here first. Addresses never start with a dot, so this
 * name never clashes with an account's home. */
#define MAILSTORE_TRASH ".deleted"
/* Dovecot's Maildir++ quota file: without it Dovecot counts the maildir again. */
#define MAILSTORE_QUOTA_FILE "maildirsize"
/* A maildir is home/.Folder/cur/file: anything deeper than this is not ours to remove. */
#define MAILSTORE_TREE_DEPTH_MAX 8

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

struct mailstore_problems {
	unsigned long skipped; /* things that are not mails (links, devices, odd names): logged */
	unsigned long errors;  /* things that could not be read or removed: logged */
};

/* Run as root, becomes vmail_user (groups, gid, uid), so that no file these tools touch or
 * make (the database's journal, the trash) ends up owned by root where Dovecot and doveauth
 * must write. Does nothing for another user. Returns 0, or -1 (logged). */
int mailstore_become_owner(const struct config *config);

/* Opens mailboxes_dir. The operator's path is trusted and may pass through links; nothing
 * below it is. Returns an fd, or -1 with errno set. */
int mailstore_open_root(const struct config *config);

/* Opens the maildir home of addr below root, refusing a link. Returns an fd, or -1. */
int mailstore_open_home(int root_fd, const char *addr);

/* Calls each for every regular file in cur/ and new/ of the home and of its Maildir++
 * folders. Links, other file types and odd names are logged and skipped; unreadable
 * directories are logged and counted as errors; the rest is walked. label names the home
 * in log lines. Returns what the last each returned, or 0. */
int mailstore_walk(int home_fd, const char *label, mailstore_each_fn *each, void *context,
		   struct mailstore_problems *problems);

/* Removes name below parent_fd and everything in it, at most depth levels, never through a
 * link. Returns 0, or -1 (logged) when something stays. */
int mailstore_remove_tree(int parent_fd, const char *name, unsigned depth);

/* Removes what an interrupted run left in the trash. Returns 0 or -1 (logged). */
int mailstore_empty_trash(int root_fd);

enum mailstore_removal {
	MAILSTORE_REMOVED,    /* the row and the home are gone */
	MAILSTORE_NO_ACCOUNT, /* there was neither a row nor a home */
	MAILSTORE_KEPT,	      /* the account logged in meanwhile: it stays, with its home */
	MAILSTORE_FAILED,     /* logged; the account stays as it was, or its home is in trash */
};

/* Removes an account: its home is first renamed into the trash (atomic), then its row is
 * deleted, then the trash entry is removed. So an address is free for a new account only
 * when the old mail is already out of reach, and a crash anywhere leaves at worst a trash
 * entry (removed by the next run) or an account with an empty home. With idle_before > 0
 * the row is deleted only while its last login is still before idle_before; when the user
 * logged in meanwhile the home is put back. */
enum mailstore_removal mailstore_remove_account(struct accounts *accounts, int root_fd,
						const char *addr, int64_t idle_before);

#endif
