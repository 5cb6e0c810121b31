/* Dovecot's dict protocol lines and METADATA keys, as Dovecot 2.3.19 and 2.4.1 send them. */
#include "dict_protocol.h"
#include "test.h"

static char out[DICT_LINE_MAX + DICT_FIELDS_MAX];

static int parse(const char *line, struct dict_command *c)
{
	return dict_command_parse(line, strlen(line), out, sizeof out, c);
}

static void test_commands(void)
{
	struct dict_command c;
	CHECK(parse("H3\t2\t0\tuser@example.org\tmetadata", &c) == 0);
	CHECK(c.name == DICT_HELLO && c.field_count == 5);
	CHECK_STR(c.field[0], "3");
	CHECK_STR(c.field[3], "user@example.org");
	CHECK(parse("Lpriv/43f5f508a7ea0366dff30200c15250e3/devicetoken\tu@example.org", &c) == 0);
	CHECK(c.name == DICT_LOOKUP && c.field_count == 2);
	CHECK_STR(c.field[1], "u@example.org");
	CHECK(parse("B1\tu@example.org", &c) == 0 && c.name == DICT_BEGIN);
	CHECK(parse("S1\tpriv/abc/devicetoken\topenpgp:AAAA", &c) == 0);
	CHECK(c.field_count == 3 && c.field_len[2] == 12);
	CHECK(parse("S1\tpriv/abc/messagenew\t", &c) == 0 && c.field_len[2] == 0);
	CHECK(parse("C1", &c) == 0 && c.name == DICT_COMMIT);
	CHECK(parse("I0\t0\tpriv/abc/\tu@example.org", &c) == 0 && c.name == DICT_ITERATE);
	/* tab-escaping: \001t is a TAB inside a field, \0011 the escape itself */
	CHECK(parse("S1\tk\ta\001tb\0011c", &c) == 0);
	CHECK(c.field_len[2] == 5 && memcmp(c.field[2], "a\tb\001c", 5) == 0);
	CHECK(parse("S1\tk\t\001n", &c) == 0 && c.field[2][0] == '\n');
}

/* Version 4 (Dovecot 2.4): no user in the hello, an expiry after BEGIN's user, V. */
static void test_version4(void)
{
	struct dict_command c;
	CHECK(parse("H4\t0\t0\t\tmetadata", &c) == 0);
	CHECK(c.name == DICT_HELLO && c.field_count == 5);
	CHECK_STR(c.field[0], "4");
	CHECK(c.field_len[3] == 0);
	CHECK_STR(c.field[4], "metadata");
	CHECK(parse("B1\tu@example.org\t0", &c) == 0 && c.name == DICT_BEGIN);
	CHECK(c.field_count == 3);
	CHECK_STR(c.field[1], "u@example.org");
	CHECK(parse("V1\tyes", &c) == 0 && c.name == DICT_HIDE_LOG_VALUES);
	CHECK_STR(c.field[1], "yes");
	CHECK(parse("V1", &c) != 0); /* no value */
	CHECK(parse("Lpriv/43f5f508a7ea0366dff30200c15250e3/devicetoken\tu@example.org", &c) == 0);
	CHECK(parse("I0\t0\tpriv/abc/\tu@example.org", &c) == 0 && c.field_count == 4);
}

static void test_refused(void)
{
	struct dict_command c;
	CHECK(parse("", &c) != 0);
	CHECK(parse("X1", &c) != 0);		    /* unknown command */
	CHECK(parse("S1\tkey", &c) != 0);	    /* no value */
	CHECK(parse("H3\t2\t0", &c) != 0);	    /* short hello */
	CHECK(parse("S1\tk\tv\001", &c) != 0);	    /* escape at the end */
	CHECK(parse("S1\tk\tv\0010", &c) != 0);	    /* an escaped NUL: not in a C string */
	CHECK(parse("L1\t2\t3\t4\t5\t6\t7\t8\t9", &c) != 0); /* too many fields */
	CHECK(dict_command_parse("Lk\0x", 4, out, sizeof out, &c) != 0);
	CHECK(dict_command_parse("Lk\001\0x", 5, out, sizeof out, &c) != 0); /* found by fuzzing */
	CHECK(dict_command_parse("Lkey", 4, out, 5, &c) != 0); /* out too small */
}

static void test_escape(void)
{
	char buf[32];
	CHECK(dict_escape("a\tb\nc\001", 6, buf, sizeof buf) == 9);
	CHECK_STR(buf, "a\001tb\001nc\0011");
	CHECK(dict_escape("abc", 3, buf, 3) == -1);
	CHECK(dict_escape("abc", 3, buf, 4) == 3);
}

static const char *guid = "43f5f508a7ea0366dff30200c15250e3";

/* The kind of "<prefix>/<guid>/<rest>". */
static enum metadata_key kind(const char *prefix, const char *rest)
{
	char key[256];
	snprintf(key, sizeof key, "%s/%s/%s", prefix, guid, rest);
	return metadata_key_parse(key, strlen(key));
}

#define SERVER "vendor/vendor.dovecot/pvt/server/"

static void test_keys(void)
{
	CHECK(kind("priv", "devicetoken") == METADATA_DEVICETOKEN);
	CHECK(kind("priv", "messagenew") == METADATA_MESSAGENEW);
	CHECK(kind("shared", "devicetoken") == METADATA_OTHER);
	CHECK(kind("shared", SERVER "vendor/deltachat/turn") == METADATA_TURN);
	CHECK(kind("shared", SERVER "vendor/deltachat/irohrelay") == METADATA_IROHRELAY);
	CHECK(kind("shared", SERVER "vendor/deltachat/maxsmtprecipients") ==
	      METADATA_MAXSMTPRECIPIENTS);
	CHECK(kind("shared", SERVER "vendor/deltachat/appversions") == METADATA_APPVERSIONS);
	CHECK(kind("shared", SERVER "admin") == METADATA_OTHER); /* Dovecot's own */
	CHECK(kind("shared", SERVER "vendor/deltachat/turnx") == METADATA_OTHER);
	CHECK(kind("priv", SERVER "vendor/deltachat/turn") == METADATA_OTHER);
	CHECK(kind("shared", "vendor/deltachat/turn") == METADATA_OTHER);
	CHECK(metadata_key_parse("priv//devicetoken", 17) == METADATA_OTHER);
	CHECK(metadata_key_parse("priv/XYZ/devicetoken", 20) == METADATA_OTHER);
	/* a length that stops before the name's end */
	CHECK(metadata_key_parse("priv/abc/devicetoken", 19) == METADATA_OTHER);
}

int main(void)
{
	test_commands();
	test_version4();
	test_refused();
	test_escape();
	test_keys();
	return test_summary("test_dict_protocol");
}
