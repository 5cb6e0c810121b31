/* chatmail.ini parsing: defaults, every value type, errors that name the key and line. */
#include "config.h"
#include "test.h"

static unsigned warnings;
static void count_warning(unsigned line, const char *key, void *context)
{
	(void)line, (void)key, (void)context;
	warnings++;
}

static int parse(struct config *c, struct config_error *e, const char *text)
{
	return config_parse(c, text, strlen(text), e, count_warning, NULL);
}

static void test_defaults(void)
{
	struct config c;
	struct config_error e;
	CHECK(parse(&c, &e, "[params]\nmail_domain = Chat.Example.org\n") == 0);
	CHECK_STR(c.mail_domain, "chat.example.org");
	CHECK_STR(c.address_domain, "chat.example.org");
	CHECK(!c.ip_only);
	CHECK(c.max_user_send_per_minute == 60);
	CHECK(c.max_user_send_burst_size == 10);
	CHECK(c.max_mailbox_size == 500ull << 20);
	CHECK(c.max_message_size == 31457280);
	CHECK(c.delete_mails_after == 20 && c.delete_large_after == 7);
	CHECK(c.delete_inactive_users_after == 90);
	CHECK(c.username_min_length == 9 && c.username_max_length == 9);
	CHECK(c.password_min_length == 9);
	CHECK(c.filtermail_smtp_port == 10080 && c.filtermail_smtp_port_incoming == 10081);
	CHECK(c.postfix_reinject_port == 10025 && c.postfix_reinject_port_incoming == 10026);
	CHECK(c.max_load_1m == 5.0);
	CHECK(c.min_available_memory == 200ull << 20 && c.min_free_disk_space == 1ull << 30);
	CHECK(c.max_imap_connections == 10000 && c.max_smtp_connections == 1000);
	CHECK_STR(c.passdb_path, "/home/vmail/passdb.sqlite");
	CHECK_STR(c.mailboxes_dir, "/home/vmail/mail/chat.example.org");
	CHECK_STR(c.nocreate_file, "/etc/chatmail-nocreate");
	CHECK_STR(c.state_dir, "/var/lib/chatmail");
	CHECK_STR(c.vmail_user, "vmail");
	CHECK_STR(c.passthrough_senders, "");
}

static void test_values(void)
{
	struct config c;
	struct config_error e;
	warnings = 0;
	CHECK(parse(&c, &e,
		    "# comment\n[params]\r\n  mail_domain=10.0.0.1 \r\n"
		    "max_mailbox_size = 2G\nmax_load_1m = 1.5\n; other comment\n"
		    "passthrough_recipients = a@x.org @y.org\nmailboxes_dir = /m/{mail_domain}/x\n"
		    "no_such_key = 1\n") == 0);
	CHECK(warnings == 1);
	CHECK(c.ip_only);
	CHECK_STR(c.address_domain, "[10.0.0.1]");
	CHECK(c.max_mailbox_size == 2ull << 30);
	CHECK(c.max_load_1m == 1.5);
	CHECK_STR(c.mailboxes_dir, "/m/10.0.0.1/x");
	CHECK(config_list_has(&c.passthrough_recipient_list, "@Y.org", 6));
	CHECK(config_list_has(&c.passthrough_recipient_list, "a@x.org", 7));
	CHECK(!config_list_has(&c.passthrough_recipient_list, "a@x.or", 6));
	CHECK(!config_list_has(&c.passthrough_recipient_list, "", 0));
	/* Split once at load, at spaces, tabs and commas. */
	CHECK(parse(&c, &e, "[params]\nmail_domain = x.org\npassthrough_senders = ,a@x.org,\tb@x.org  ,\n") == 0);
	CHECK(c.passthrough_sender_list.count == 2);
	CHECK(config_list_has(&c.passthrough_sender_list, "B@x.org", 7));
	/* More entries than the filter keeps is an error naming the key, not a truncated list. */
	char text[CONFIG_LIST_MAX];
	int n = snprintf(text, sizeof text, "[params]\nmail_domain = x.org\npassthrough_senders =");
	for (int i = 0; i <= CONFIG_LIST_ENTRIES_MAX; i++)
		n += snprintf(text + n, sizeof text - (size_t)n, " a%d", i % 10);
	CHECK(parse(&c, &e, text) == -1 && strcmp(e.key, "passthrough_senders") == 0);
}

static void test_errors(void)
{
	struct config c;
	struct config_error e;
	CHECK(parse(&c, &e, "[params]\n") == -1);
	CHECK_STR(e.key, "mail_domain");
	CHECK(parse(&c, &e, "[params]\nmail_domain = x.org\nmax_message_size = 12Q\n") == -1);
	CHECK_STR(e.key, "max_message_size");
	CHECK(e.line == 3);
	CHECK(parse(&c, &e, "[params]\nmail_domain = x.org\nusername_min_length = -1\n") == -1);
	CHECK_STR(e.key, "username_min_length");
	CHECK(parse(&c, &e, "[params]\nmail_domain = x.org\nfiltermail_smtp_port = 70000\n") == -1);
	CHECK(parse(&c, &e, "[params]\nmail_domain = x.org\nmax_load_1m = 0\n") == -1);
	CHECK(parse(&c, &e, "[params]\nmail_domain = x.org\nmax_load_1m = nan\n") == -1);
	CHECK(parse(&c, &e, "[params]\nmail_domain = bad domain\n") == -1);
	CHECK(parse(&c, &e, "[params]\nmail_domain = a..b\n") == -1);
	CHECK(parse(&c, &e, "[params]\nmail_domain = x.org\njust text\n") == -1);
	CHECK(e.line == 3);
	CHECK(parse(&c, &e, "[params]\nmail_domain = x.org\npassdb_path = rel/path\n") == -1);
	CHECK_STR(e.key, "passdb_path");
	CHECK(parse(&c, &e, "[params]\nmail_domain = x.org\nusername_min_length = 10\n"
			    "username_max_length = 9\n") == -1);
	CHECK(parse(&c, &e, "[params]\nmail_domain = x.org\nmax_message_size = 99999999999999999999\n") == -1);
	char nul[] = "[params]\nmail_domain = x.org\0\n";
	CHECK(config_parse(&c, nul, sizeof nul - 1, &e, NULL, NULL) == -1);
	/* keys outside [params] are ignored with a warning, never applied */
	warnings = 0;
	CHECK(parse(&c, &e, "[other]\nmail_domain = y.org\n[params]\nmail_domain = x.org\n") == 0);
	CHECK_STR(c.mail_domain, "x.org");
	CHECK(warnings == 1);
}

static void test_sizes(void)
{
	uint64_t v;
	CHECK(config_parse_size("0", &v) == 0 && v == 0);
	CHECK(config_parse_size("10k", &v) == 0 && v == 10240);
	CHECK(config_parse_size("3M", &v) == 0 && v == 3ull << 20);
	CHECK(config_parse_size("", &v) == -1);
	CHECK(config_parse_size("M", &v) == -1);
	CHECK(config_parse_size("+5", &v) == -1);
	CHECK(config_parse_size("5 M", &v) == -1);
	CHECK(config_parse_size("99999999999999999T", &v) == -1);
}

static void test_value_text(void)
{
	struct config c;
	struct config_error e;
	char out[64];
	CHECK(parse(&c, &e, "[params]\nmail_domain = 10.0.0.1\nmax_load_1m = 2.5\n") == 0);
	CHECK(config_value_text(&c, "mail_domain", 11, out, sizeof out) == 0);
	CHECK_STR(out, "10.0.0.1");
	CHECK(config_value_text(&c, "address_domain", 14, out, sizeof out) == 0);
	CHECK_STR(out, "[10.0.0.1]");
	CHECK(config_value_text(&c, "max_mailbox_size", 16, out, sizeof out) == 0);
	CHECK_STR(out, "524288000");
	CHECK(config_value_text(&c, "max_load_1m", 11, out, sizeof out) == 0);
	CHECK_STR(out, "2.5");
	CHECK(config_value_text(&c, "postfix_reinject_port", 21, out, sizeof out) == 0);
	CHECK_STR(out, "10025");
	/* values only templates want are chatmail-render's (tests/bats/render.bats) */
	CHECK(config_value_text(&c, "max_mailbox_size_mb", 19, out, sizeof out) == -1);
	CHECK(config_value_text(&c, "mail_domainx", 12, out, sizeof out) == -1);
	CHECK(config_value_text(&c, "mail_domain", 11, out, 4) == -1);
}

int main(void)
{
	test_value_text();
	test_defaults();
	test_values();
	test_errors();
	test_sizes();
	return test_summary("config");
}
