/* chatmail.ini: every key of the relay with its default, parsed from [params]. */
#ifndef CHATMAIL_CONFIG_H
#define CHATMAIL_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONFIG_DEFAULT_PATH "/etc/chatmail/chatmail.ini"
#define CONFIG_FILE_MAX (64 * 1024)
#define CONFIG_PATH_MAX 512
#define CONFIG_DOMAIN_MAX 253
#define CONFIG_LIST_MAX 4096
#define CONFIG_TEXT_MAX 1024
/* Entries of one list key (passthrough_senders, passthrough_recipients). */
#define CONFIG_LIST_ENTRIES_MAX 256

/* A list key split once at load: the entries, each NUL-terminated, in entries_text. */
struct config_list {
	char entries_text[CONFIG_LIST_MAX];
	uint16_t start[CONFIG_LIST_ENTRIES_MAX];
	uint16_t length[CONFIG_LIST_ENTRIES_MAX];
	unsigned count;
};

struct config {
	char mail_domain[CONFIG_DOMAIN_MAX + 1];
	/* The domain as it stands in addresses: "[1.2.3.4]" for an IP-only relay. */
	char address_domain[CONFIG_DOMAIN_MAX + 3];
	bool ip_only;
	uint32_t max_user_send_per_minute;
	uint32_t max_user_send_burst_size;
	uint64_t max_mailbox_size;
	uint64_t max_message_size;
	uint32_t delete_mails_after;
	uint32_t delete_large_after;
	uint32_t delete_inactive_users_after;
	uint32_t username_min_length;
	uint32_t username_max_length;
	uint32_t password_min_length;
	char passthrough_senders[CONFIG_LIST_MAX]; /* as written, for templates */
	char passthrough_recipients[CONFIG_LIST_MAX];
	struct config_list passthrough_sender_list; /* the same, split for the filter */
	struct config_list passthrough_recipient_list;
	uint32_t filtermail_smtp_port;
	uint32_t filtermail_smtp_port_incoming;
	uint32_t postfix_reinject_port;
	uint32_t postfix_reinject_port_incoming;
	double max_load_1m;
	uint64_t min_available_memory;
	uint64_t min_free_disk_space;
	uint32_t max_imap_connections;
	uint32_t max_smtp_connections;
	char passdb_path[CONFIG_PATH_MAX];
	char mailboxes_dir[CONFIG_PATH_MAX];
	char nocreate_file[CONFIG_PATH_MAX];
	char state_dir[CONFIG_PATH_MAX];
	/* The owner of the maildirs: a user name, or "uid:gid". */
	char vmail_user[64];
	char privacy_postal[CONFIG_TEXT_MAX];
	char privacy_mail[CONFIG_TEXT_MAX];
	char privacy_pdo[CONFIG_TEXT_MAX];
	char privacy_supervisor[CONFIG_TEXT_MAX];
	/* Read by chatmail-setup only: "CERT KEY" paths (else ACME or self-signed), ACME contact. */
	char tls_external_cert_and_key[2 * CONFIG_PATH_MAX];
	char acme_email[CONFIG_DOMAIN_MAX + 65];
	/* Read by the templates only: where mtail (3903) and Dovecot's stats (3904) listen. */
	char mtail_address[64];
	/* Push and METADATA (SPEC 5a): chatmail-notifier POSTs device tokens to this URL;
	 * chatmail-metadata serves iroh_relay and the TURN server's port (coturn listens there). */
	char push_notification_url[CONFIG_TEXT_MAX];
	char iroh_relay[CONFIG_TEXT_MAX];
	uint32_t turn_port;
};

struct config_error {
	unsigned line; /* 0 when the error is not about one line */
	char key[64];
	char message[192];
};

/* Called once per unknown key; unknown keys are not fatal. */
typedef void config_warn_fn(unsigned line, const char *key, void *context);

/* Fills config from an INI text. Returns 0, or -1 with error set (the key and line named). */
int config_parse(struct config *config, const char *text, size_t len, struct config_error *error,
		 config_warn_fn *warn, void *context);

/* The path from CHATMAIL_INI, else CONFIG_DEFAULT_PATH. */
const char *config_path(void);

/* Reads and parses config_path(), logging unknown keys as warnings.
 * Returns 0, or -1 with error set (an unreadable file names the path). */
int config_load(struct config *config, struct config_error *error);

/* Logs why config_load failed, one line naming the file, line and key. */
void config_log_error(const struct config_error *error);

/* Parses "123", "500K", "500M", "1G" (powers of 1024). Returns 0 or -1. */
int config_parse_size(const char *text, uint64_t *size);

/* The value of the key name[0..len) as text (sizes in bytes), also for the derived
 * "address_domain". (chatmail-render derives the values only templates want.)
 * Returns 0, or -1 for an unknown key or a too small out. */
int config_value_text(const struct config *config, const char *name, size_t len, char *out,
		      size_t size);

/* Entry i of a list (not NUL-terminated in the struct's copy: use its length). */
static inline const char *config_list_entry(const struct config_list *list, unsigned i,
					    size_t *len)
{
	*len = list->length[i];
	return list->entries_text + list->start[i];
}

/* True when the list holds word exactly (ASCII case-insensitive). */
bool config_list_has(const struct config_list *list, const char *word, size_t word_len);

#endif
