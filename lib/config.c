/* chatmail.ini reader: a table of keys with defaults, strict value parsing, errors naming the key. */
#include "config.h"

#include "log.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum key_type { KEY_STRING, KEY_UINT, KEY_SIZE, KEY_LOAD };

struct key {
	const char *name;
	enum key_type type;
	size_t offset;
	size_t size;        /* for KEY_STRING: the buffer size */
	uint64_t min, max;  /* for KEY_UINT and KEY_SIZE */
	const char *fallback;
};

#define FIELD(f) offsetof(struct config, f), sizeof(((struct config *)0)->f)
#define PORT 1, 65535
static const struct key keys[] = {
	{"mail_domain", KEY_STRING, FIELD(mail_domain), 0, 0, ""},
	{"max_user_send_per_minute", KEY_UINT, FIELD(max_user_send_per_minute), 1, 1000000, "60"},
	{"max_user_send_burst_size", KEY_UINT, FIELD(max_user_send_burst_size), 1, 1000000, "10"},
	{"max_mailbox_size", KEY_SIZE, FIELD(max_mailbox_size), 1024, UINT64_C(1) << 50, "500M"},
	{"max_message_size", KEY_SIZE, FIELD(max_message_size), 1024, UINT64_C(1) << 32, "31457280"},
	{"delete_mails_after", KEY_UINT, FIELD(delete_mails_after), 1, 100000, "20"},
	{"delete_large_after", KEY_UINT, FIELD(delete_large_after), 1, 100000, "7"},
	{"delete_inactive_users_after", KEY_UINT, FIELD(delete_inactive_users_after), 1, 100000, "90"},
	{"username_min_length", KEY_UINT, FIELD(username_min_length), 1, 64, "9"},
	{"username_max_length", KEY_UINT, FIELD(username_max_length), 1, 64, "9"},
	{"password_min_length", KEY_UINT, FIELD(password_min_length), 1, 256, "9"},
	{"passthrough_senders", KEY_STRING, FIELD(passthrough_senders), 0, 0, ""},
	{"passthrough_recipients", KEY_STRING, FIELD(passthrough_recipients), 0, 0, ""},
	{"filtermail_smtp_port", KEY_UINT, FIELD(filtermail_smtp_port), PORT, "10080"},
	{"filtermail_smtp_port_incoming", KEY_UINT, FIELD(filtermail_smtp_port_incoming), PORT, "10081"},
	{"postfix_reinject_port", KEY_UINT, FIELD(postfix_reinject_port), PORT, "10025"},
	{"postfix_reinject_port_incoming", KEY_UINT, FIELD(postfix_reinject_port_incoming), PORT, "10026"},
	{"max_load_1m", KEY_LOAD, FIELD(max_load_1m), 0, 0, "5"},
	{"min_available_memory", KEY_SIZE, FIELD(min_available_memory), 0, UINT64_C(1) << 50, "200M"},
	{"min_free_disk_space", KEY_SIZE, FIELD(min_free_disk_space), 0, UINT64_C(1) << 50, "1G"},
	{"max_imap_connections", KEY_UINT, FIELD(max_imap_connections), 1, 1000000, "10000"},
	{"max_smtp_connections", KEY_UINT, FIELD(max_smtp_connections), 1, 1000000, "1000"},
	{"passdb_path", KEY_STRING, FIELD(passdb_path), 0, 0, "/home/vmail/passdb.sqlite"},
	{"mailboxes_dir", KEY_STRING, FIELD(mailboxes_dir), 0, 0, "/home/vmail/mail/{mail_domain}"},
	{"nocreate_file", KEY_STRING, FIELD(nocreate_file), 0, 0, "/etc/chatmail-nocreate"},
	{"state_dir", KEY_STRING, FIELD(state_dir), 0, 0, "/var/lib/chatmail"},
	{"vmail_user", KEY_STRING, FIELD(vmail_user), 0, 0, "vmail"},
	{"privacy_postal", KEY_STRING, FIELD(privacy_postal), 0, 0, ""},
	{"privacy_mail", KEY_STRING, FIELD(privacy_mail), 0, 0, ""},
	{"privacy_pdo", KEY_STRING, FIELD(privacy_pdo), 0, 0, ""},
	{"privacy_supervisor", KEY_STRING, FIELD(privacy_supervisor), 0, 0, ""},
	/* chatmail-setup: "CERT KEY" of the operator's own certificate; the ACME account's address */
	{"tls_external_cert_and_key", KEY_STRING, FIELD(tls_external_cert_and_key), 0, 0, ""},
	{"acme_email", KEY_STRING, FIELD(acme_email), 0, 0, ""},
	/* metrics: mtail and Dovecot's OpenMetrics listen on this address when it is set */
	{"mtail_address", KEY_STRING, FIELD(mtail_address), 0, 0, ""},
	/* push and METADATA (SPEC 5a): where tokens are POSTed, the iroh relay, the TURN port */
	{"push_notification_url", KEY_STRING, FIELD(push_notification_url), 0, 0,
	 "https://notifications.delta.chat/notify"},
	{"iroh_relay", KEY_STRING, FIELD(iroh_relay), 0, 0, ""},
	{"turn_port", KEY_UINT, FIELD(turn_port), PORT, "3478"},
};
#define KEY_COUNT (sizeof keys / sizeof keys[0])

static int fail(struct config_error *error, unsigned line, const char *key, const char *message)
{
	error->line = line;
	snprintf(error->key, sizeof error->key, "%s", key);
	snprintf(error->message, sizeof error->message, "%s", message);
	return -1;
}

static int parse_uint(const char *text, uint64_t *value)
{
	if (!isdigit((unsigned char)text[0]))
		return -1;
	errno = 0;
	char *end;
	unsigned long long v = strtoull(text, &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	*value = v;
	return 0;
}

int config_parse_size(const char *text, uint64_t *size)
{
	char digits[32];
	size_t len = strlen(text);
	uint64_t unit = 1, value;

	if (len == 0 || len >= sizeof digits)
		return -1;
	memcpy(digits, text, len + 1);
	switch (toupper((unsigned char)digits[len - 1])) {
	case 'K': unit = UINT64_C(1) << 10; break;
	case 'M': unit = UINT64_C(1) << 20; break;
	case 'G': unit = UINT64_C(1) << 30; break;
	case 'T': unit = UINT64_C(1) << 40; break;
	}
	if (unit != 1)
		digits[len - 1] = '\0';
	if (parse_uint(digits, &value) != 0 || value > UINT64_MAX / unit)
		return -1;
	*size = value * unit;
	return 0;
}

static int set_value(struct config *config, const struct key *key, const char *value)
{
	char *field = (char *)config + key->offset;
	uint64_t number;

	switch (key->type) {
	case KEY_STRING:
		if (strlen(value) >= key->size)
			return -1;
		memcpy(field, value, strlen(value) + 1);
		return 0;
	case KEY_UINT:
		if (parse_uint(value, &number) != 0 || number < key->min || number > key->max)
			return -1;
		*(uint32_t *)(void *)field = (uint32_t)number;
		return 0;
	case KEY_SIZE:
		if (config_parse_size(value, &number) != 0 || number < key->min || number > key->max)
			return -1;
		*(uint64_t *)(void *)field = number;
		return 0;
	case KEY_LOAD: {
		char *end;
		errno = 0;
		double load = strtod(value, &end);
		if (errno != 0 || end == value || *end != '\0' || !(load > 0) || load > 1e6)
			return -1;
		*(double *)(void *)field = load;
		return 0;
	}
	}
	return -1;
}

static const struct key *find_key(const char *name)
{
	for (size_t i = 0; i < KEY_COUNT; i++)
		if (strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	char *end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
		*--end = '\0';
	return s;
}

static bool is_ipv4(const char *s)
{
	unsigned parts = 0;
	while (*s != '\0') {
		unsigned value = 0, digits = 0;
		while (isdigit((unsigned char)*s) && digits < 4) {
			value = value * 10 + (unsigned)(*s++ - '0');
			digits++;
		}
		if (digits == 0 || digits > 3 || value > 255)
			return false;
		parts++;
		if (*s == '.' && parts < 4)
			s++;
		else if (*s != '\0')
			return false;
	}
	return parts == 4;
}

static bool is_hostname(const char *s)
{
	size_t label = 0;
	if (*s == '\0' || *s == '.' || *s == '-')
		return false;
	for (; *s != '\0'; s++) {
		if (*s == '.') {
			if (label == 0)
				return false;
			label = 0;
		} else if (isalnum((unsigned char)*s) || *s == '-' || *s == '_') {
			if (++label > 63)
				return false;
		} else {
			return false;
		}
	}
	return label > 0;
}

/* Derived values and the checks that span keys. */
/* Splits a list value at spaces, tabs and commas, once, so the filter never parses it per
 * message. */
static int split_list(const char *text, struct config_list *list)
{
	size_t used = 0;
	list->count = 0;
	for (const char *p = text; *p != '\0';) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		size_t len = strcspn(p, " \t,");
		if (len == 0)
			continue;
		if (list->count == CONFIG_LIST_ENTRIES_MAX || used + len + 1 > sizeof list->entries_text)
			return -1;
		memcpy(list->entries_text + used, p, len);
		list->entries_text[used + len] = '\0';
		list->start[list->count] = (uint16_t)used;
		list->length[list->count++] = (uint16_t)len;
		used += len + 1;
		p += len;
	}
	return 0;
}

static int finish(struct config *config, struct config_error *error)
{
	if (split_list(config->passthrough_senders, &config->passthrough_sender_list) != 0)
		return fail(error, 0, "passthrough_senders", "has too many entries");
	if (split_list(config->passthrough_recipients, &config->passthrough_recipient_list) != 0)
		return fail(error, 0, "passthrough_recipients", "has too many entries");
	if (config->mail_domain[0] == '\0')
		return fail(error, 0, "mail_domain", "is required");
	for (char *p = config->mail_domain; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	config->ip_only = is_ipv4(config->mail_domain);
	if (!config->ip_only && !is_hostname(config->mail_domain))
		return fail(error, 0, "mail_domain", "is not a domain name or IPv4 address");
	snprintf(config->address_domain, sizeof config->address_domain,
		 config->ip_only ? "[%s]" : "%s", config->mail_domain);
	if (config->username_min_length > config->username_max_length)
		return fail(error, 0, "username_min_length", "is larger than username_max_length");

	const char *placeholder = "{mail_domain}";
	char *at = strstr(config->mailboxes_dir, placeholder);
	if (at != NULL) {
		char expanded[CONFIG_PATH_MAX];
		int n = snprintf(expanded, sizeof expanded, "%.*s%s%s",
				 (int)(at - config->mailboxes_dir), config->mailboxes_dir,
				 config->mail_domain, at + strlen(placeholder));
		if (n < 0 || (size_t)n >= sizeof expanded)
			return fail(error, 0, "mailboxes_dir", "is too long");
		memcpy(config->mailboxes_dir, expanded, (size_t)n + 1);
	}
	const char *paths[] = {"passdb_path", "mailboxes_dir", "nocreate_file", "state_dir"};
	for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
		const struct key *key = find_key(paths[i]);
		if (((char *)config + key->offset)[0] != '/')
			return fail(error, 0, key->name, "must be an absolute path");
	}
	return 0;
}

int config_parse(struct config *config, const char *text, size_t len, struct config_error *error,
		 config_warn_fn *warn, void *context)
{
	char line[CONFIG_LIST_MAX + 128];
	unsigned number = 0;
	bool in_params = false;

	memset(config, 0, sizeof *config);
	memset(error, 0, sizeof *error);
	for (size_t i = 0; i < KEY_COUNT; i++)
		if (set_value(config, &keys[i], keys[i].fallback) != 0 && keys[i].fallback[0] != '\0')
			return fail(error, 0, keys[i].name, "has a bad built-in default");

	for (size_t pos = 0; pos < len;) {
		const char *newline = memchr(text + pos, '\n', len - pos);
		size_t line_len = (newline != NULL ? (size_t)(newline - text) : len) - pos;
		number++;
		if (line_len >= sizeof line)
			return fail(error, number, "", "line is too long");
		memcpy(line, text + pos, line_len);
		line[line_len] = '\0';
		pos += line_len + 1;
		if (memchr(line, '\0', line_len) != NULL)
			return fail(error, number, "", "line contains a NUL byte");

		char *s = trim(line);
		if (*s == '\0' || *s == '#' || *s == ';')
			continue;
		if (*s == '[') {
			in_params = strcmp(s, "[params]") == 0;
			continue;
		}
		char *equals = strchr(s, '=');
		if (equals == NULL)
			return fail(error, number, "", "expected 'key = value'");
		*equals = '\0';
		char *name = trim(s), *value = trim(equals + 1);
		if (!in_params) {
			if (warn != NULL)
				warn(number, name, context);
			continue;
		}
		const struct key *key = find_key(name);
		if (key == NULL) {
			if (warn != NULL)
				warn(number, name, context);
			continue;
		}
		if (set_value(config, key, value) != 0)
			return fail(error, number, name, "has a value that does not parse");
	}
	return finish(config, error);
}

const char *config_path(void)
{
	const char *path = getenv("CHATMAIL_INI");
	return path != NULL && path[0] != '\0' ? path : CONFIG_DEFAULT_PATH;
}

static void warn_unknown(unsigned line, const char *key, void *context)
{
	log_warn("%s:%u: unknown key '%s' ignored", (const char *)context, line, key);
}

int config_load(struct config *config, struct config_error *error)
{
	const char *path = config_path();
	static char text[CONFIG_FILE_MAX + 1];
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	memset(error, 0, sizeof *error);
	if (fd < 0) {
		snprintf(error->message, sizeof error->message, "cannot open %s: %s", path,
			 strerror(errno));
		return -1;
	}
	size_t len = 0;
	for (;;) {
		ssize_t n = read(fd, text + len, sizeof text - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(error->message, sizeof error->message, "cannot read %s: %s", path,
				 strerror(errno));
			close(fd);
			return -1;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len == sizeof text) {
			close(fd);
			snprintf(error->message, sizeof error->message, "%s is larger than %d bytes",
				 path, CONFIG_FILE_MAX);
			return -1;
		}
	}
	close(fd);
	return config_parse(config, text, len, error, warn_unknown, (void *)path);
}

void config_log_error(const struct config_error *error)
{
	if (error->key[0] != '\0')
		log_error("%s:%u: %s %s", config_path(), error->line, error->key, error->message);
	else if (error->line != 0)
		log_error("%s:%u: %s", config_path(), error->line, error->message);
	else
		log_error("%s", error->message);
}

bool config_list_has(const struct config_list *list, const char *word, size_t word_len)
{
	for (unsigned i = 0; i < list->count; i++) {
		size_t len;
		const char *entry = config_list_entry(list, i, &len);
		if (len == word_len && word_len > 0 && strncasecmp(entry, word, word_len) == 0)
			return true;
	}
	return false;
}

int config_value_text(const struct config *config, const char *name, size_t len, char *out,
		      size_t size)
{
	char key_name[64];
	int n = -1;
	if (len >= sizeof key_name)
		return -1;
	memcpy(key_name, name, len);
	key_name[len] = '\0';
	if (strcmp(key_name, "address_domain") == 0)
		n = snprintf(out, size, "%s", config->address_domain);
	if (n >= 0)
		return (size_t)n < size ? 0 : -1;
	const struct key *key = find_key(key_name);
	if (key == NULL)
		return -1;
	const char *field = (const char *)config + key->offset;
	switch (key->type) {
	case KEY_STRING:
		n = snprintf(out, size, "%s", field);
		break;
	case KEY_UINT:
		n = snprintf(out, size, "%u", (unsigned)*(const uint32_t *)(const void *)field);
		break;
	case KEY_SIZE:
		n = snprintf(out, size, "%llu",
			     (unsigned long long)*(const uint64_t *)(const void *)field);
		break;
	case KEY_LOAD:
		n = snprintf(out, size, "%g", *(const double *)(const void *)field);
		break;
	}
	return n >= 0 && (size_t)n < size ? 0 : -1;
}
