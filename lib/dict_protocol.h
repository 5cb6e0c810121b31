/* Dovecot's dict protocol (v3, Dovecot 2.3.17+; v4, Dovecot 2.4), the server's side: a command line split into
 * its tab-unescaped fields, and the METADATA keys Dovecot sends through it sorted by meaning. */
#ifndef CHATMAIL_DICT_PROTOCOL_H
#define CHATMAIL_DICT_PROTOCOL_H

#include <stddef.h>

/* Dovecot's own cap on a client's line (DICT_CLIENT_MAX_LINE_LENGTH). */
#define DICT_LINE_MAX (64 * 1024)
/* Fields of one command: ITERATE with a few paths is the widest Dovecot sends. */
#define DICT_FIELDS_MAX 8
/* The major protocol versions whose commands we read: 3 (Dovecot 2.3) and 4 (Dovecot 2.4).
 * Version 4 (lib-dict-extra/dict-client.c of 2.4) says "H4\t0\t0\t\t<dict name>", with an
 * empty user: each LOOKUP, ITERATE and BEGIN names its user, as in version 3; BEGIN adds an
 * expiry in seconds; COMMIT_ASYNC is gone; V (hide log values) is new. The replies are the
 * same. */
#define DICT_MAJOR_MIN 3
#define DICT_MAJOR_MAX 4

/* Command letters (Dovecot's dict-client.h). */
enum dict_command_name {
	DICT_HELLO = 'H',
	DICT_LOOKUP = 'L',
	DICT_ITERATE = 'I',
	DICT_BEGIN = 'B',
	DICT_COMMIT = 'C',
	DICT_COMMIT_ASYNC = 'D',
	DICT_ROLLBACK = 'R',
	DICT_SET = 'S',
	DICT_UNSET = 'U',
	DICT_ATOMIC_INC = 'A',
	DICT_TIMESTAMP = 'T',
	DICT_HIDE_LOG_VALUES = 'V', /* version 4 */
};

/* Reply letters. */
#define DICT_REPLY_OK 'O'
#define DICT_REPLY_NOT_FOUND 'N'
#define DICT_REPLY_FAIL 'F'

struct dict_command {
	char name; /* an enum dict_command_name */
	unsigned field_count;
	const char *field[DICT_FIELDS_MAX]; /* NUL-terminated, in the caller's buffer */
	size_t field_len[DICT_FIELDS_MAX];
};

/* Parses line[0..len) (without its LF) into command, unescaping the fields into out[size]
 * (len + DICT_FIELDS_MAX bytes always suffice). Each command must carry the fields it needs:
 * H major minor value_type user dict, L key, I flags max_rows path, B/C/D/R id, S id key value,
 * U id key, A id key diff, T id sec nsec, V id yes|no; more are allowed (a user after L, B
 * and I; an expiry after B's user).
 * Returns 0, or -1 for an unknown command, a missing field, too many fields, a NUL byte or a
 * broken escape. */
int dict_command_parse(const char *line, size_t len, char *out, size_t size,
		       struct dict_command *command);

/* Tab-escapes in[0..len) into out[size] with a NUL. Returns the length, or -1 when it does
 * not fit. */
int dict_escape(const char *in, size_t len, char *out, size_t size);

/* What a key of Dovecot's mail_attribute_dict names. */
enum metadata_key {
	METADATA_OTHER,
	METADATA_DEVICETOKEN,	    /* /private/devicetoken of a mailbox (Delta Chat: INBOX) */
	METADATA_MESSAGENEW,	    /* /private/messagenew, set by our push_notification.lua */
	METADATA_TURN,		    /* server /shared/vendor/deltachat/turn */
	METADATA_IROHRELAY,	    /* server /shared/vendor/deltachat/irohrelay */
	METADATA_MAXSMTPRECIPIENTS, /* server /shared/vendor/deltachat/maxsmtprecipients */
	METADATA_APPVERSIONS,	    /* server /shared/vendor/deltachat/appversions */
};

/* Sorts a key: "priv/<mailbox guid>/devicetoken", "shared/<guid>/vendor/vendor.dovecot/pvt/
 * server/vendor/deltachat/turn" ... (Dovecot keeps server metadata on INBOX under that
 * prefix). */
enum metadata_key metadata_key_parse(const char *key, size_t len);

#endif
