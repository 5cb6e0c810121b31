/* The JSON writer: escaping, UTF-8 handling and buffer bounds. */
#include "json.h"
#include "test.h"

/* One {"k": value} object as text, or "" when it did not fit. */
static const char *one(const char *value, size_t len, char *out, size_t size)
{
	struct json_writer writer;
	json_begin(&writer, out, size);
	json_member(&writer, "k", value, len);
	json_end(&writer);
	return out;
}

#define ONE(value) one((value), sizeof(value) - 1, out, sizeof out)

int main(void)
{
	char out[256];
	struct json_writer writer;

	json_begin(&writer, out, sizeof out);
	CHECK(json_end(&writer) == 3);
	CHECK_STR(out, "{}\n");

	json_begin(&writer, out, sizeof out);
	json_member(&writer, "email", "a@b", 3);
	json_member(&writer, "password", "x", 1);
	CHECK(json_end(&writer) == strlen("{\"email\": \"a@b\", \"password\": \"x\"}\n"));
	CHECK_STR(out, "{\"email\": \"a@b\", \"password\": \"x\"}\n");

	/* quote and backslash are the characters a password from punctuation brings */
	CHECK_STR(ONE("a\"b\\c"), "{\"k\": \"a\\\"b\\\\c\"}\n");
	CHECK_STR(ONE("/'<>&`{}"), "{\"k\": \"/'<>&`{}\"}\n");
	CHECK_STR(ONE("\n\r\t\x01\x1f"), "{\"k\": \"\\u000a\\u000d\\u0009\\u0001\\u001f\"}\n");
	CHECK_STR(ONE("a\0b"), "{\"k\": \"a\\u0000b\"}\n");
	CHECK_STR(ONE("\x7f"), "{\"k\": \"\x7f\"}\n");
	/* well-formed UTF-8 passes, broken bytes become U+FFFD one by one */
	CHECK_STR(ONE("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"),
		  "{\"k\": \"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"}\n");
	CHECK_STR(ONE("\xff"), "{\"k\": \"\\ufffd\"}\n");
	CHECK_STR(ONE("\xc3"), "{\"k\": \"\\ufffd\"}\n");           /* truncated */
	CHECK_STR(ONE("\xc0\xaf"), "{\"k\": \"\\ufffd\\ufffd\"}\n"); /* overlong '/' */
	CHECK_STR(ONE("\xe0\x80\xaf"), "{\"k\": \"\\ufffd\\ufffd\\ufffd\"}\n");
	CHECK_STR(ONE("\xed\xa0\x80"), "{\"k\": \"\\ufffd\\ufffd\\ufffd\"}\n"); /* surrogate */
	CHECK_STR(ONE("\xf4\x90\x80\x80"), "{\"k\": \"\\ufffd\\ufffd\\ufffd\\ufffd\"}\n");
	CHECK_STR(ONE("\xe2\x82"), "{\"k\": \"\\ufffd\\ufffd\"}\n");
	CHECK_STR(ONE("\xe2\x82x"), "{\"k\": \"\\ufffd\\ufffdx\"}\n");

	/* Exactly fitting, one byte short, and nothing at all. */
	const char *want = "{\"k\": \"abc\"}\n";
	char tight[32];
	CHECK_STR(one("abc", 3, tight, strlen(want) + 1), want);
	memset(tight, 'x', sizeof tight);
	CHECK_STR(one("abc", 3, tight, strlen(want)), "");
	CHECK(tight[strlen(want)] == 'x');
	json_begin(&writer, tight, 0);
	json_member(&writer, "k", "abc", 3);
	CHECK(json_end(&writer) == 0);
	/* an escape that would straddle the end does not fit either */
	CHECK_STR(one("\x01", 1, tight, strlen("{\"k\": \"\\u0001\"}\n")), "");
	CHECK_STR(one("\x01", 1, tight, strlen("{\"k\": \"\\u0001\"}\n") + 1),
		  "{\"k\": \"\\u0001\"}\n");

	/* Numbers and booleans (chatmailctl --json): bare, after a string member. */
	json_begin(&writer, out, sizeof out);
	json_member(&writer, "addr", "a@b", 3);
	json_member_uint(&writer, "zero", 0);
	json_member_uint(&writer, "max", UINT64_MAX);
	json_member_bool(&writer, "yes", true);
	json_member_bool(&writer, "no", false);
	CHECK(json_end(&writer) > 0);
	CHECK_STR(out, "{\"addr\": \"a@b\", \"zero\": 0, \"max\": 18446744073709551615, "
		       "\"yes\": true, \"no\": false}\n");
	json_begin(&writer, tight, strlen("{\"n\": 1234}\n"));
	json_member_uint(&writer, "n", 1234);
	CHECK(json_end(&writer) == 0);

	return test_summary("json");
}
