/* chatmail-render: fills config templates from chatmail.ini and a profile's values (layout/),
 * so no two files can disagree; and the one way shell reads a setting.
 * usage: chatmail-render [--values FILE] [-D name=value]... SOURCE DEST   (files or directories)
 *        chatmail-render [--values FILE] [-D name=value]... --get NAME...  (one value a line)
 *        chatmail-render --check                                          (validate chatmail.ini) */
#include "address.h"
#include "config.h"
#include "header.h"
#include "log.h"
#include "newemail.h"
#include "smtp.h"
#include "template.h"
#include "values.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define EXIT_BAD_CONFIG 1
#define EXIT_USAGE 2
#define DEFINES_MAX 64
#define FILTERMAIL_PROCESS_MIN 4

/* What a placeholder may name, first match wins: the constants the programs define, -D inputs,
 * the profile's values, the derived values below, chatmail.ini's keys with their defaults. */
struct sources {
	struct config config;
	const char *defines[DEFINES_MAX]; /* "name=value" */
	int define_count;
	struct values values;
	char buffer[CONFIG_LIST_MAX];
};

/* Free memory a relay lets its filters use, over what one filtermail may hold at worst: the
 * message (max_message_size) and the armored part decoded beside it. Never below a few, so
 * a tiny server still takes mail in parallel; Postfix queues connections beyond it. */
static unsigned long filtermail_process_limit(const struct config *config)
{
	long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
	uint64_t memory = pages > 0 && page > 0 ? (uint64_t)pages * (uint64_t)page : 1ULL << 30;
	uint64_t limit = memory / 2 / (2 * config->max_message_size);
	if (limit < FILTERMAIL_PROCESS_MIN)
		limit = FILTERMAIL_PROCESS_MIN;
	if (limit > config->max_smtp_connections)
		limit = config->max_smtp_connections;
	return (unsigned long)limit;
}

/* Values the programs define and the templates must agree with: one definition each. */
static const char *shared_constant(struct sources *sources, const char *name, size_t len)
{
	int n = -1;
	if (len == 17 && strncmp(name, "header_size_limit", len) == 0)
		n = snprintf(sources->buffer, sizeof sources->buffer, "%d", HEADER_FIELD_MAX);
	else if (len == 19 && strncmp(name, "recipient_delimiter", len) == 0)
		n = snprintf(sources->buffer, sizeof sources->buffer, "%s", ADDRESS_DELIMITER);
	else if (len == 21 && strncmp(name, "smtpd_recipient_limit", len) == 0)
		n = snprintf(sources->buffer, sizeof sources->buffer, "%d", SMTP_RECIPIENT_LIMIT);
	else if (len == 24 && strncmp(name, "filtermail_process_limit", len) == 0)
		n = snprintf(sources->buffer, sizeof sources->buffer, "%lu",
			     filtermail_process_limit(&sources->config));
	return n > 0 && (size_t)n < sizeof sources->buffer ? sources->buffer : NULL;
}

/* What a relay of max_imap_connections idle clients needs of Dovecot, nginx and the kernel. Each
 * connection may be held by imap-login and by imap or imap-hibernate at once, and each keeps one
 * inotify instance of the mail user watching a few paths of its maildir: twice the connections
 * covers a client waking up (its new imap process watches before the hibernated one lets go),
 * LMTP and the rest. nginx ends IMAPS: two connections of one worker a client (its own and the
 * one to Dovecot), and a worker may get them all. */
#define INOTIFY_WATCHES_PER_INSTANCE 16
#define FD_LIMIT_SPARE 1024
#define SOMAXCONN_MIN 4096
#define SOMAXCONN_MAX 65535

static int connection_limit(const struct config *config, const char *name, char *out, size_t size)
{
	unsigned long connections = config->max_imap_connections, twice = 2 * connections;
	unsigned long client_limit = twice < 1000 ? 1000 : twice;
	unsigned long value;
	if (strcmp(name, "dovecot_client_limit") == 0)
		value = client_limit;
	else if (strcmp(name, "dovecot_fd_limit") == 0) /* a client's socket and inotify fd */
		value = 2 * client_limit + FD_LIMIT_SPARE;
	else if (strcmp(name, "nginx_worker_connections") == 0)
		value = twice + FD_LIMIT_SPARE;
	else if (strcmp(name, "nginx_fd_limit") == 0) /* and the worker's files and logs */
		value = twice + 2 * FD_LIMIT_SPARE;
	else if (strcmp(name, "inotify_max_user_instances") == 0)
		value = twice;
	else if (strcmp(name, "inotify_max_user_watches") == 0)
		value = twice * INOTIFY_WATCHES_PER_INSTANCE;
	else if (strcmp(name, "somaxconn") == 0)
		value = connections < SOMAXCONN_MIN   ? SOMAXCONN_MIN
			: connections > SOMAXCONN_MAX ? SOMAXCONN_MAX
						      : connections;
	else
		return -1;
	return snprintf(out, size, "%lu", value);
}

/* The uid (or gid) of vmail_user, a user name or "uid:gid". */
static int vmail_id(const char *vmail_user, bool gid, char *out, size_t size)
{
	char *end, *gid_end;
	errno = 0;
	unsigned long uid = strtoul(vmail_user, &end, 10);
	if (end != vmail_user && *end == ':' && errno == 0 && uid <= UINT32_MAX) {
		unsigned long group = strtoul(end + 1, &gid_end, 10);
		if (!gid)
			return snprintf(out, size, "%lu", uid);
		if (gid_end != end + 1 && *gid_end == '\0' && errno == 0 && group <= UINT32_MAX)
			return snprintf(out, size, "%lu", group);
	}
	const struct passwd *user = getpwnam(vmail_user);
	if (user == NULL) {
		log_error("vmail_user %s is not a user of this machine", vmail_user);
		return -1;
	}
	return snprintf(out, size, "%u", (unsigned)(gid ? user->pw_gid : user->pw_uid));
}

/* Values the templates want in another form than chatmail.ini's: written to out, or -1 when
 * name is none of them. Returns the snprintf result otherwise. */
static int derived_value(const struct config *config, const char *name, char *out, size_t size)
{
	if (strcmp(name, "virtual_mailbox_domains") == 0) /* Postfix takes [address] as local */
		return snprintf(out, size, "%s", config->ip_only ? "" : config->mail_domain);
	if (strcmp(name, "ip_only") == 0)
		return snprintf(out, size, "%s", config->ip_only ? "yes" : "");
	/* a name no public CA certifies: POST /new answers a dclogin_url, the page offers it */
	if (strcmp(name, "self_signed") == 0)
		return snprintf(out, size, "%s", newemail_self_signed(config) ? "yes" : "");
	if (strcmp(name, "max_mailbox_size_mb") == 0)
		return snprintf(out, size, "%llu",
				(unsigned long long)(config->max_mailbox_size >> 20));
	if (strcmp(name, "max_message_size_mb") == 0)
		return snprintf(out, size, "%llu",
				(unsigned long long)(config->max_message_size >> 20));
	/* Dovecot answers METADATA /shared/admin from mail_server_admin (empty: NIL) */
	if (strcmp(name, "mail_server_admin") == 0)
		return config->privacy_mail[0] == '\0'
			       ? snprintf(out, size, "%s", "")
			       : snprintf(out, size, "mailto:%s", config->privacy_mail);
	if (strcmp(name, "passdb_dir") == 0) { /* where sqlite writes its journal */
		const char *slash = strrchr(config->passdb_path, '/'); /* absolute: never NULL */
		int len = slash == config->passdb_path ? 1 : (int)(slash - config->passdb_path);
		return snprintf(out, size, "%.*s", len, config->passdb_path);
	}
	/* tls_external_cert_and_key = "CERT KEY" */
	const char *pair = config->tls_external_cert_and_key;
	size_t cert_len = strcspn(pair, " \t");
	const char *key = pair + cert_len + strspn(pair + cert_len, " \t");
	if (strcmp(name, "tls_external_cert") == 0)
		return snprintf(out, size, "%.*s", (int)cert_len, pair);
	if (strcmp(name, "tls_external_key") == 0)
		return snprintf(out, size, "%.*s", (int)strcspn(key, " \t"), key);
	if (strcmp(name, "vmail_uid") == 0 || strcmp(name, "vmail_gid") == 0)
		return vmail_id(config->vmail_user, name[6] == 'g', out, size);
	return connection_limit(config, name, out, size);
}

/* chatmail.ini's value of a key, or a derived value, as text; NULL when there is none. */
static const char *setting(struct sources *sources, const char *name, size_t len)
{
	char key[TEMPLATE_NAME_MAX + 1];
	if (len > TEMPLATE_NAME_MAX)
		return NULL;
	memcpy(key, name, len);
	key[len] = '\0';
	int n = derived_value(&sources->config, key, sources->buffer, sizeof sources->buffer);
	if (n >= 0)
		return (size_t)n < sizeof sources->buffer ? sources->buffer : NULL;
	if (config_value_text(&sources->config, name, len, sources->buffer,
			      sizeof sources->buffer) == 0)
		return sources->buffer;
	return NULL;
}

static const char *lookup(const char *name, size_t len, void *context)
{
	struct sources *sources = context;
	const char *constant = shared_constant(sources, name, len);
	if (constant != NULL)
		return constant;
	for (int i = 0; i < sources->define_count; i++) {
		const char *d = sources->defines[i];
		if (strncmp(d, name, len) == 0 && d[len] == '=')
			return d + len + 1;
	}
	const char *value = values_get(&sources->values, name, len);
	return value != NULL ? value : setting(sources, name, len);
}

static int read_file(const char *path, char *buf, size_t size, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -1;
	size_t used = 0;
	ssize_t n;
	while ((n = read(fd, buf + used, size - used)) > 0)
		used += (size_t)n;
	close(fd);
	if (n < 0 || used == size)
		return -1;
	*len = used;
	return 0;
}

/* Writes the whole of data to path through a temporary file and rename, so a reader never
 * sees half a config. */
static int write_file(const char *path, const char *data, size_t len, mode_t mode)
{
	char tmp[4096];
	if (snprintf(tmp, sizeof tmp, "%s.tmp%ld", path, (long)getpid()) >= (int)sizeof tmp)
		return -1;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return -1;
	size_t done = 0;
	while (done < len) {
		ssize_t n = write(fd, data + done, len - done);
		if (n <= 0)
			break;
		done += (size_t)n;
	}
	if (close(fd) != 0 || done != len || rename(tmp, path) != 0) {
		unlink(tmp);
		return -1;
	}
	return 0;
}

static int render_file(struct sources *sources, const char *source, const char *dest, mode_t mode)
{
	static char text[TEMPLATE_OUTPUT_MAX], out[TEMPLATE_OUTPUT_MAX];
	size_t len, out_len;
	struct template_error error;
	if (read_file(source, text, sizeof text, &len) != 0) {
		log_error("cannot read %s: %s", source, errno ? strerror(errno) : "too large");
		return -1;
	}
	if (template_render(text, len, lookup, sources, out, sizeof out, &out_len, &error) != 0) {
		log_error("%s:%u: %s%s%s", source, error.line, error.message,
			  error.name[0] ? " " : "", error.name);
		return -1;
	}
	if (write_file(dest, out, out_len, mode & 0777) != 0) {
		log_error("cannot write %s: %s", dest, strerror(errno));
		return -1;
	}
	return 0;
}

/* Variants of a folder: "NAME@VARIANT" is rendered as NAME when the value NAME_version is
 * VARIANT (conf/dovecot@2.4 with -D dovecot_version=2.4), and NAME itself is then left out.
 * Files keep their names, '@' or not (systemd's template units: chatmail-metadata@.service).
 * Writes the name to render the folder under into out; returns false to leave it out. */
static bool variant_name(struct sources *sources, const char *dir, const char *entry, char *out,
			 size_t size)
{
	char key[TEMPLATE_NAME_MAX + 1], path[4096];
	const char *at = strchr(entry, '@');
	size_t base = at != NULL ? (size_t)(at - entry) : strlen(entry);
	if (base >= size || snprintf(key, sizeof key, "%.*s_version", (int)base, entry) >= (int)sizeof key)
		return at == NULL && snprintf(out, size, "%s", entry) < (int)size;
	const char *version = lookup(key, strlen(key), sources);
	snprintf(out, size, "%.*s", (int)base, entry);
	if (at != NULL)
		return version != NULL && strcmp(version, at + 1) == 0;
	struct stat st;
	return version == NULL ||
	       snprintf(path, sizeof path, "%s/%s@%s", dir, entry, version) >= (int)sizeof path ||
	       lstat(path, &st) != 0;
}

static int render_tree(struct sources *sources, const char *source, const char *dest)
{
	struct stat st;
	if (lstat(source, &st) != 0) {
		log_error("cannot read %s: %s", source, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode))
		return S_ISREG(st.st_mode) ? render_file(sources, source, dest, st.st_mode) : 0;
	if (mkdir(dest, 0755) != 0 && errno != EEXIST) {
		log_error("cannot make %s: %s", dest, strerror(errno));
		return -1;
	}
	DIR *dir = opendir(source);
	if (dir == NULL)
		return -1;
	int status = 0;
	struct dirent *entry;
	while ((entry = readdir(dir)) != NULL) {
		char from[4096], to[4096], name[256];
		struct stat entry_st;
		if (entry->d_name[0] == '.')
			continue;
		if (snprintf(from, sizeof from, "%s/%s", source, entry->d_name) >= (int)sizeof from ||
		    lstat(from, &entry_st) != 0) {
			status = -1;
			continue;
		}
		if (S_ISDIR(entry_st.st_mode)
			    ? !variant_name(sources, source, entry->d_name, name, sizeof name)
			    : snprintf(name, sizeof name, "%s", entry->d_name) >= (int)sizeof name)
			continue;
		if (snprintf(to, sizeof to, "%s/%s", dest, name) >= (int)sizeof to ||
		    render_tree(sources, from, to) != 0)
			status = -1;
	}
	closedir(dir);
	return status;
}

static int load_config(struct config *config)
{
	struct config_error error;
	if (config_load(config, &error) == 0)
		return 0;
	config_log_error(&error);
	return -1;
}

/* Reads the profile's values; a name chatmail.ini or the programs already set is an error, so
 * a profile never silently replaces the operator's setting or a program's constant. */
static int load_values(struct sources *sources, const char *path)
{
	static char text[VALUES_TEXT_MAX];
	size_t len;
	struct values_error error;
	if (read_file(path, text, sizeof text, &len) != 0) {
		log_error("cannot read %s: %s", path, errno ? strerror(errno) : "too large");
		return -1;
	}
	if (values_parse(&sources->values, text, len, lookup, sources, &error) != 0) {
		log_error("%s:%u: %s%s%s", path, error.line, error.message,
			  error.name[0] ? " " : "", error.name);
		return -1;
	}
	for (size_t i = 0; i < sources->values.count; i++) {
		const char *name = sources->values.text + sources->values.name[i];
		if (shared_constant(sources, name, strlen(name)) != NULL ||
		    setting(sources, name, strlen(name)) != NULL) {
			log_error("%s: %s is a setting of chatmail.ini: set it there", path, name);
			return -1;
		}
	}
	return 0;
}

/* --get NAME...: each value on a line of its own. */
static int print_values(struct sources *sources, int count, char **names)
{
	for (int i = 0; i < count; i++) {
		const char *value = lookup(names[i], strlen(names[i]), sources);
		if (value == NULL) {
			log_error("unknown setting %s", names[i]);
			return EXIT_BAD_CONFIG;
		}
		printf("%s\n", value);
	}
	return fflush(stdout) == 0 ? 0 : EXIT_BAD_CONFIG;
}

static int usage(void)
{
	log_error("usage: chatmail-render [--values FILE] [-D name=value]... SOURCE DEST | "
		  "[--values FILE] [-D name=value]... --get NAME... | --check");
	return EXIT_USAGE;
}

int main(int argc, char **argv)
{
	static struct sources sources;
	const char *values_path = NULL;
	int i = 1;

	log_open("chatmail-render", LOG_TO_STDERR);
	if (argc == 2 && strcmp(argv[1], "--check") == 0)
		return load_config(&sources.config) == 0 ? 0 : EXIT_BAD_CONFIG;
	if (i + 1 < argc && strcmp(argv[i], "--values") == 0) {
		values_path = argv[i + 1];
		i += 2;
	}
	for (; i + 1 < argc && strcmp(argv[i], "-D") == 0; i += 2) {
		if (sources.define_count == DEFINES_MAX || strchr(argv[i + 1], '=') == NULL) {
			log_error("-D wants name=value (at most %d)", DEFINES_MAX);
			return EXIT_USAGE;
		}
		sources.defines[sources.define_count++] = argv[i + 1];
	}
	bool get = i < argc && strcmp(argv[i], "--get") == 0;
	if (get ? argc - i < 2 : argc - i != 2)
		return usage();
	if (load_config(&sources.config) != 0 ||
	    (values_path != NULL && load_values(&sources, values_path) != 0))
		return EXIT_BAD_CONFIG;
	if (get)
		return print_values(&sources, argc - i - 1, argv + i + 1);
	return render_tree(&sources, argv[i], argv[i + 1]) == 0 ? 0 : EXIT_BAD_CONFIG;
}
