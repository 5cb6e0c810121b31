/* chatmail-render: fills config templates from chatmail.ini, so no two files can disagree.
 * usage: chatmail-render [-D name=value]... SOURCE DEST   (files or directories)
 *        chatmail-render --check                          (only validate chatmail.ini) */
#include "address.h"
#include "config.h"
#include "header.h"
#include "log.h"
#include "template.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define EXIT_BAD_CONFIG 1
#define EXIT_USAGE 2
#define DEFINES_MAX 64
#define FILTERMAIL_PROCESS_MIN 4

struct values {
	struct config config;
	const char *defines[DEFINES_MAX]; /* "name=value" */
	int define_count;
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
static const char *shared_constant(struct values *values, const char *name, size_t len)
{
	int n = -1;
	if (len == 17 && strncmp(name, "header_size_limit", len) == 0)
		n = snprintf(values->buffer, sizeof values->buffer, "%d", HEADER_FIELD_MAX);
	else if (len == 19 && strncmp(name, "recipient_delimiter", len) == 0)
		n = snprintf(values->buffer, sizeof values->buffer, "%s", ADDRESS_DELIMITER);
	else if (len == 24 && strncmp(name, "filtermail_process_limit", len) == 0)
		n = snprintf(values->buffer, sizeof values->buffer, "%lu",
			     filtermail_process_limit(&values->config));
	return n > 0 && (size_t)n < sizeof values->buffer ? values->buffer : NULL;
}

static const char *lookup(const char *name, size_t len, void *context)
{
	struct values *values = context;
	const char *constant = shared_constant(values, name, len);
	if (constant != NULL)
		return constant;
	for (int i = 0; i < values->define_count; i++) {
		const char *d = values->defines[i];
		if (strncmp(d, name, len) == 0 && d[len] == '=')
			return d + len + 1;
	}
	if (config_value_text(&values->config, name, len, values->buffer,
			      sizeof values->buffer) == 0)
		return values->buffer;
	return NULL;
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

static int render_file(struct values *values, const char *source, const char *dest, mode_t mode)
{
	static char text[TEMPLATE_OUTPUT_MAX], out[TEMPLATE_OUTPUT_MAX];
	size_t len, out_len;
	struct template_error error;
	if (read_file(source, text, sizeof text, &len) != 0) {
		log_error("cannot read %s: %s", source, errno ? strerror(errno) : "too large");
		return -1;
	}
	if (template_render(text, len, lookup, values, out, sizeof out, &out_len, &error) != 0) {
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

static int render_tree(struct values *values, const char *source, const char *dest)
{
	struct stat st;
	if (lstat(source, &st) != 0) {
		log_error("cannot read %s: %s", source, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode))
		return S_ISREG(st.st_mode) ? render_file(values, source, dest, st.st_mode) : 0;
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
		char from[4096], to[4096];
		if (entry->d_name[0] == '.')
			continue;
		if (snprintf(from, sizeof from, "%s/%s", source, entry->d_name) >= (int)sizeof from ||
		    snprintf(to, sizeof to, "%s/%s", dest, entry->d_name) >= (int)sizeof to ||
		    render_tree(values, from, to) != 0)
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

int main(int argc, char **argv)
{
	static struct values values;
	int i = 1;

	log_open("chatmail-render", LOG_TO_STDERR);
	if (argc == 2 && strcmp(argv[1], "--check") == 0)
		return load_config(&values.config) == 0 ? 0 : EXIT_BAD_CONFIG;
	for (; i + 1 < argc && strcmp(argv[i], "-D") == 0; i += 2) {
		if (values.define_count == DEFINES_MAX || strchr(argv[i + 1], '=') == NULL) {
			log_error("-D wants name=value (at most %d)", DEFINES_MAX);
			return EXIT_USAGE;
		}
		values.defines[values.define_count++] = argv[i + 1];
	}
	if (argc - i != 2) {
		log_error("usage: chatmail-render [-D name=value]... SOURCE DEST | --check");
		return EXIT_USAGE;
	}
	if (load_config(&values.config) != 0)
		return EXIT_BAD_CONFIG;
	return render_tree(&values, argv[i], argv[i + 1]) == 0 ? 0 : EXIT_BAD_CONFIG;
}
