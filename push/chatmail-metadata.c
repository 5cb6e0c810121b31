/* chatmail-metadata: Dovecot's METADATA dict (mail_attribute_dict = proxy:...), one connection
 * on stdin/stdout, started per connection by systemd (Accept=yes) or systemd-socket-activate.
 * Stores device tokens, queues a notification per token when push_notification.lua reports a
 * new message, and answers the keys Delta Chat reads (SPEC 5a; /shared/admin is Dovecot's).
 * usage: chatmail-metadata [--appversions FILE]   (a dict connection)
 *        chatmail-metadata --turn-secret           (prints the TURN secret, made once) */
#include "config.h"
#include "devicetokens.h"
#include "dict_protocol.h"
#include "jsoncheck.h"
#include "log.h"
#include "mailstore.h"
#include "pushqueue.h"
#include "random.h"
#include "smtp.h"
#include "stream.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define EXIT_DONE 0
#define EXIT_USAGE 2
#define EXIT_TEMPFAIL 111 /* chatmail.ini unreadable, the peer broke the protocol */

#define TURN_SECRET_FILE "turn-secret"
#define TURN_SECRET_LEN 64
/* TURN credentials are valid this long; Delta Chat asks again when under 12 hours remain. */
#define TURN_LIFETIME_SECONDS (5 * 86400)
#define APPVERSIONS_DEFAULT "/etc/chatmail/appversions.json"
#define APPVERSIONS_FILE_MAX (64 * 1024)
/* Transactions one connection may hold open (Dovecot runs one at a time per dict). */
#define TRANSACTIONS_MAX 4
#define TRANSACTION_ID_MAX 16
/* An idle connection is closed after this (Dovecot closes its own at once when idle). */
#define IDLE_TIMEOUT_MS 60000

enum state { STATE_HELLO, STATE_READY };

struct transaction {
	bool open;
	bool failed;
	bool messagenew;
	char id[TRANSACTION_ID_MAX + 1];
	char user[MAILSTORE_ADDRESS_MAX + 1];
	size_t token_len; /* 0: no token SET */
	char token[DEVICETOKEN_MAX + 1];
};

struct session {
	enum state state;
	struct config config;
	const char *appversions;
	char user[MAILSTORE_ADDRESS_MAX + 1]; /* from HELLO */
	struct transaction transactions[TRANSACTIONS_MAX];
	struct stream stream;
};

static char in_buffer[DICT_LINE_MAX + 2], out_buffer[16 * 1024];
static char fields[DICT_LINE_MAX + DICT_FIELDS_MAX];
static char answer[APPVERSIONS_FILE_MAX + 2], escaped[2 * APPVERSIONS_FILE_MAX + 2];
static struct devicetokens tokens;

static int reply(struct session *s, char status, const char *value)
{
	char line[2] = {status, '\0'};
	if (stream_put(&s->stream, line, 1) != 0)
		return -1;
	if (value != NULL) {
		int n = dict_escape(value, strlen(value), escaped, sizeof escaped);
		if (n < 0 || stream_put(&s->stream, escaped, (size_t)n) != 0)
			return -1;
	}
	return stream_put(&s->stream, "\n", 1) == 0 && stream_flush(&s->stream) == 0 ? 0 : -1;
}

static int read_small_file(const char *path, char *out, size_t size, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	size_t used = 0;
	ssize_t n = 0;
	while (used < size && (n = read(fd, out + used, size - used)) > 0)
		used += (size_t)n;
	close(fd);
	if (n < 0 || used == size)
		return -1;
	*len = used;
	return 0;
}

/* The TURN secret below state_dir: made once (by the first caller), readable by its owner. */
static int turn_secret(const struct config *config, char secret[TURN_SECRET_LEN + 1])
{
	/* state_dir is shorter than CONFIG_PATH_MAX: the paths always fit */
	char path[CONFIG_PATH_MAX + 32], temp[CONFIG_PATH_MAX + 48];
	size_t len;
	snprintf(path, sizeof path, "%s/%s", config->state_dir, TURN_SECRET_FILE);
	if (read_small_file(path, secret, TURN_SECRET_LEN + 1, &len) == 0) {
		if (len == TURN_SECRET_LEN) {
			secret[len] = '\0';
			return 0;
		}
		log_error("%s is not a secret of %d characters", path, TURN_SECRET_LEN);
		return -1;
	}
	if (errno != ENOENT) {
		log_error("cannot read %s: %s", path, strerror(errno));
		return -1;
	}
	if (random_string(secret, TURN_SECRET_LEN, "0123456789abcdef") != 0)
		return -1;
	snprintf(temp, sizeof temp, "%s.%d", path, (int)getpid());
	int fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, secret, TURN_SECRET_LEN) != TURN_SECRET_LEN || fsync(fd) != 0 ||
	    close(fd) != 0 || link(temp, path) != 0) {
		log_error("cannot make %s: %s", path, strerror(errno));
		unlink(temp);
		return -1;
	}
	unlink(temp);
	return 0;
}

/* "<mail_domain>:<turn_port>:<expiry>:<password>": TURN REST credentials, the password the
 * base64 HMAC-SHA1 of the user name (the expiry) under the secret coturn shares. */
static int turn_answer(const struct config *config, char *out, size_t size)
{
	char secret[TURN_SECRET_LEN + 1], username[24];
	unsigned char mac[EVP_MAX_MD_SIZE], password[EVP_MAX_MD_SIZE * 2];
	unsigned mac_len = 0;
	if (turn_secret(config, secret) != 0)
		return -1;
	snprintf(username, sizeof username, "%lld", (long long)time(NULL) + TURN_LIFETIME_SECONDS);
	if (HMAC(EVP_sha1(), secret, TURN_SECRET_LEN, (const unsigned char *)username,
		 strlen(username), mac, &mac_len) == NULL)
		return -1;
	EVP_EncodeBlock(password, mac, (int)mac_len);
	int n = snprintf(out, size, "%s:%u:%s:%s", config->mail_domain, config->turn_port,
			 username, (const char *)password);
	return n > 0 && (size_t)n < size ? 0 : -1;
}

/* The shipped appversions file as one line, or -1 when it is missing or not JSON. */
static int appversions_answer(const char *path, char *out, size_t size)
{
	static char text[APPVERSIONS_FILE_MAX];
	size_t len;
	if (read_small_file(path, text, sizeof text, &len) != 0) {
		if (errno != ENOENT)
			log_warn("cannot read %s: %s", path, strerror(errno));
		return -1;
	}
	if (json_compact(text, len, out, size) < 0) {
		log_warn("%s is not JSON: not served", path);
		return -1;
	}
	return 0;
}

static int open_home(const struct config *config, const char *user)
{
	if (!mailstore_home_name(config, user, strlen(user)))
		return -1;
	int root = mailstore_open_root(config->mailboxes_dir);
	if (root < 0)
		return -1;
	int home = mailstore_open_home(root, user);
	close(root);
	return home;
}

static int token_answer(struct session *s, const char *user)
{
	int home = open_home(&s->config, user);
	if (home < 0)
		return reply(s, DICT_REPLY_NOT_FOUND, NULL);
	int loaded = devicetokens_load(home, time(NULL), &tokens);
	close(home);
	if (loaded != 0)
		return reply(s, DICT_REPLY_FAIL, NULL);
	if (tokens.count == 0)
		return reply(s, DICT_REPLY_NOT_FOUND, NULL);
	size_t used = 0;
	for (unsigned i = 0; i < tokens.count; i++) {
		int n = snprintf(answer + used, sizeof answer - used, "%s%s", i ? " " : "",
				 tokens.token[i]);
		if (n < 0 || (size_t)n >= sizeof answer - used)
			break;
		used += (size_t)n;
	}
	return reply(s, DICT_REPLY_OK, answer);
}

static int command_lookup(struct session *s, const struct dict_command *c)
{
	const char *user = c->field_count > 1 ? c->field[1] : s->user;
	const struct config *config = &s->config;
	switch (metadata_key_parse(c->field[0], c->field_len[0])) {
	case METADATA_DEVICETOKEN:
		return token_answer(s, user);
	case METADATA_TURN:
		if (turn_answer(config, answer, sizeof answer) != 0)
			return reply(s, DICT_REPLY_FAIL, NULL);
		return reply(s, DICT_REPLY_OK, answer);
	case METADATA_IROHRELAY:
		if (config->iroh_relay[0] == '\0')
			return reply(s, DICT_REPLY_NOT_FOUND, NULL);
		return reply(s, DICT_REPLY_OK, config->iroh_relay);
	case METADATA_MAXSMTPRECIPIENTS:
		snprintf(answer, sizeof answer, "%d", SMTP_RECIPIENT_LIMIT);
		return reply(s, DICT_REPLY_OK, answer);
	case METADATA_APPVERSIONS:
		if (appversions_answer(s->appversions, answer, sizeof answer) != 0)
			return reply(s, DICT_REPLY_NOT_FOUND, NULL);
		return reply(s, DICT_REPLY_OK, answer);
	default:
		return reply(s, DICT_REPLY_NOT_FOUND, NULL);
	}
}

static struct transaction *find_transaction(struct session *s, const char *id)
{
	for (int i = 0; i < TRANSACTIONS_MAX; i++)
		if (s->transactions[i].open && strcmp(s->transactions[i].id, id) == 0)
			return &s->transactions[i];
	return NULL;
}

static void command_begin(struct session *s, const struct dict_command *c)
{
	const char *user = c->field_count > 1 ? c->field[1] : s->user;
	if (c->field_len[0] > TRANSACTION_ID_MAX || strlen(user) > MAILSTORE_ADDRESS_MAX ||
	    find_transaction(s, c->field[0]) != NULL)
		return; /* its COMMIT finds no transaction and fails */
	for (int i = 0; i < TRANSACTIONS_MAX; i++) {
		struct transaction *t = &s->transactions[i];
		if (t->open)
			continue;
		memset(t, 0, offsetof(struct transaction, token));
		t->open = true;
		memcpy(t->id, c->field[0], c->field_len[0] + 1);
		snprintf(t->user, sizeof t->user, "%s", user);
		return;
	}
}

/* SET, UNSET, ATOMIC_INC, TIMESTAMP inside a transaction: what we keep is noted for COMMIT;
 * a key we do not store fails the transaction, as a read-only dict would. */
static void command_change(struct session *s, const struct dict_command *c)
{
	struct transaction *t = find_transaction(s, c->field[0]);
	if (t == NULL || c->name == DICT_TIMESTAMP || c->name == DICT_HIDE_LOG_VALUES)
		return;
	enum metadata_key key = metadata_key_parse(c->field[1], c->field_len[1]);
	if (c->name == DICT_SET && key == METADATA_DEVICETOKEN && t->token_len == 0 &&
	    devicetoken_valid(c->field[2], c->field_len[2])) {
		memcpy(t->token, c->field[2], c->field_len[2] + 1);
		t->token_len = c->field_len[2];
	} else if (c->name == DICT_SET && key == METADATA_MESSAGENEW) {
		t->messagenew = true;
	} else if (c->name == DICT_UNSET && key == METADATA_DEVICETOKEN) {
		/* a device's token goes by a 410 or its age, never by a client's say */
	} else {
		t->failed = true;
	}
}

/* One notification per token of the user into the queue. */
static int queue_notifications(const struct config *config, const char *user)
{
	int home = open_home(config, user);
	if (home < 0)
		return 0; /* no account: nobody to wake */
	int64_t now = time(NULL);
	int loaded = devicetokens_load(home, now, &tokens);
	close(home);
	if (loaded != 0)
		return -1;
	if (tokens.count == 0)
		return 0;
	char dir[CONFIG_PATH_MAX + 32]; /* state_dir is shorter than CONFIG_PATH_MAX */
	snprintf(dir, sizeof dir, "%s/%s", config->state_dir, PUSHQUEUE_DIR);
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		log_error("cannot make %s: %s", dir, strerror(errno));
		return -1;
	}
	int queue = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (queue < 0) {
		log_error("cannot open %s: %s", dir, strerror(errno));
		return -1;
	}
	int result = pushqueue_add(queue, user, &tokens, now);
	close(queue);
	if (result == 0)
		log_info("queued %u notification(s) for %s", tokens.count, user);
	return result;
}

static int command_commit(struct session *s, const struct dict_command *c)
{
	struct transaction *t = find_transaction(s, c->field[0]);
	if (t == NULL || t->failed) {
		if (t != NULL)
			t->open = false;
		return reply(s, DICT_REPLY_FAIL, NULL);
	}
	t->open = false;
	int result = 0;
	if (t->token_len > 0) {
		int home = open_home(&s->config, t->user);
		result = home >= 0 ? devicetokens_update(home, t->token, t->token_len, true, time(NULL))
				   : -1;
		if (home >= 0)
			close(home);
		if (result == 0)
			log_info("stored a device token for %s", t->user);
	}
	if (result == 0 && t->messagenew)
		result = queue_notifications(&s->config, t->user);
	return reply(s, result == 0 ? DICT_REPLY_OK : DICT_REPLY_FAIL, NULL);
}

static int command_hello(struct session *s, const struct dict_command *c)
{
	unsigned major = 0;
	if (sscanf(c->field[0], "%u", &major) != 1 || major < DICT_MAJOR_MIN ||
	    major > DICT_MAJOR_MAX) {
		log_error("dict protocol version %s is not ours", c->field[0]);
		return -1;
	}
	if (c->field_len[3] >= sizeof s->user) {
		log_error("a dict user name of %zu bytes", c->field_len[3]);
		return -1;
	}
	memcpy(s->user, c->field[3], c->field_len[3] + 1);
	s->state = STATE_READY;
	return 0;
}

/* One command line. Returns 0, or -1 to end the connection. */
static int dispatch(struct session *s, const char *line, size_t len)
{
	struct dict_command c;
	if (dict_command_parse(line, len, fields, sizeof fields, &c) != 0) {
		log_error("not a dict command: %.40s", line);
		return -1;
	}
	if (s->state == STATE_HELLO)
		return c.name == DICT_HELLO ? command_hello(s, &c) : -1;
	switch (c.name) {
	case DICT_LOOKUP: return command_lookup(s, &c);
	case DICT_ITERATE: return stream_put(&s->stream, "\n", 1) == 0 ? stream_flush(&s->stream) : -1;
	case DICT_BEGIN: command_begin(s, &c); return 0;
	case DICT_COMMIT:
	case DICT_COMMIT_ASYNC: return command_commit(s, &c);
	case DICT_ROLLBACK: {
		struct transaction *t = find_transaction(s, c.field[0]);
		if (t != NULL)
			t->open = false;
		return 0;
	}
	case DICT_SET:
	case DICT_UNSET:
	case DICT_ATOMIC_INC:
	case DICT_TIMESTAMP:
	case DICT_HIDE_LOG_VALUES: command_change(s, &c); return 0;
	default: return -1;
	}
}

static struct session session;

int main(int argc, char **argv)
{
	log_open("chatmail-metadata", LOG_TO_SYSLOG);
	struct config_error error;
	if (config_load(&session.config, &error) != 0) {
		config_log_error(&error);
		return EXIT_TEMPFAIL;
	}
	session.appversions = APPVERSIONS_DEFAULT;
	if (argc == 2 && strcmp(argv[1], "--turn-secret") == 0) {
		char secret[TURN_SECRET_LEN + 1];
		if (mailstore_become_owner(&session.config) != 0 ||
		    turn_secret(&session.config, secret) != 0)
			return EXIT_TEMPFAIL;
		printf("%s\n", secret);
		return EXIT_DONE;
	}
	if (argc == 3 && strcmp(argv[1], "--appversions") == 0)
		session.appversions = argv[2];
	else if (argc != 1) {
		log_error("usage: chatmail-metadata [--appversions FILE] | --turn-secret");
		return EXIT_USAGE;
	}
	stream_init(&session.stream, 0, 1, in_buffer, sizeof in_buffer, out_buffer,
		    sizeof out_buffer);
	session.stream.timeout_ms = IDLE_TIMEOUT_MS;
	const char *line;
	size_t len;
	while (stream_line(&session.stream, DICT_LINE_MAX, &line, &len) == 0)
		if (dispatch(&session, line, len) != 0)
			return EXIT_TEMPFAIL;
	return EXIT_DONE;
}
