/* The device tokens of one account (SPEC 5a): a small file in the account's home, one
 * "<time of the last SET> <token>" a line, so a token leaves with its account. */
#ifndef CHATMAIL_DEVICETOKENS_H
#define CHATMAIL_DEVICETOKENS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DEVICETOKENS_FILE "devicetokens"
#define DEVICETOKENS_LOCK_FILE "devicetokens.lock"
/* Delta Chat's own cap on a token ("openpgp:" + base64 of the encrypted device token). */
#define DEVICETOKEN_MAX 4096
/* Devices of one account; a SET beyond drops the token set longest ago. */
#define DEVICETOKENS_PER_ACCOUNT_MAX 16
/* A token not SET again for this long is dropped (the reference relay's 90 days). */
#define DEVICETOKEN_LIFETIME_SECONDS (90 * 86400)
/* A time this far ahead of the clock is a broken line, not a token. */
#define DEVICETOKEN_CLOCK_SKEW_SECONDS 60
#define DEVICETOKENS_FILE_MAX (DEVICETOKENS_PER_ACCOUNT_MAX * (DEVICETOKEN_MAX + 24))

struct devicetokens {
	unsigned count;
	int64_t set_at[DEVICETOKENS_PER_ACCOUNT_MAX];
	uint16_t length[DEVICETOKENS_PER_ACCOUNT_MAX];
	char token[DEVICETOKENS_PER_ACCOUNT_MAX][DEVICETOKEN_MAX + 1];
};

/* A token we store: 1..DEVICETOKEN_MAX printable ASCII characters without space. */
bool devicetoken_valid(const char *token, size_t len);

/* Reads a file's text: valid lines whose time lies within the lifetime at now are kept, the
 * rest (expired, from the future, broken) dropped. Never fails. */
void devicetokens_parse(const char *text, size_t len, int64_t now, struct devicetokens *tokens);

/* Adds token, or refreshes its time when it is there. Returns 0, or -1 for an invalid one. */
int devicetokens_set(struct devicetokens *tokens, const char *token, size_t len, int64_t now);

/* Removes token. Returns 1 when it was there, else 0. */
int devicetokens_remove(struct devicetokens *tokens, const char *token, size_t len);

/* The file's text for tokens, into out[size]. Returns its length, or -1 when it does not fit. */
long devicetokens_format(const struct devicetokens *tokens, char *out, size_t size);

/* The tokens of the home home_fd at now. Returns 0 (none when there is no file), or -1 when
 * the file cannot be read (logged). */
int devicetokens_load(int home_fd, int64_t now, struct devicetokens *tokens);

/* Under the home's token lock: adds (add true) or removes the token, then writes the file
 * anew (expired tokens go too). Returns 0, or -1 (logged). */
int devicetokens_update(int home_fd, const char *token, size_t len, bool add, int64_t now);

#endif
