/* The push parts that are pure: device token files, queue items, the retry schedule, and the
 * JSON check of appversions. */
#include "devicetokens.h"
#include "jsoncheck.h"
#include "pushqueue.h"
#include "test.h"

#define DAY 86400
static struct devicetokens tokens;
static char text[DEVICETOKENS_FILE_MAX + 1];

static void test_tokens(void)
{
	const int64_t now = 1800000000;
	const char *file = "1799999000 openpgp:AAA\n"
			   "1790000000 openpgp:OLD\n"	/* over 90 days: dropped */
			   "1800009999 openpgp:FUTURE\n" /* from the future: dropped */
			   "broken line\n"
			   "1799999500 openpgp:BBB\n"
			   "1799999900 openpgp:AAA"; /* the same token later: its newer time */
	devicetokens_parse(file, strlen(file), now, &tokens);
	CHECK(tokens.count == 2);
	CHECK_STR(tokens.token[0], "openpgp:AAA");
	CHECK(tokens.set_at[0] == 1799999900);
	CHECK_STR(tokens.token[1], "openpgp:BBB");
	CHECK(devicetokens_set(&tokens, "openpgp:BBB", 11, now) == 0 && tokens.count == 2);
	CHECK(tokens.set_at[1] == now);
	CHECK(devicetokens_set(&tokens, "bad token", 9, now) == -1);
	CHECK(devicetokens_set(&tokens, "", 0, now) == -1);
	CHECK(devicetokens_remove(&tokens, "openpgp:AAA", 11) == 1 && tokens.count == 1);
	CHECK(devicetokens_remove(&tokens, "openpgp:AAA", 11) == 0);
	CHECK(devicetokens_format(&tokens, text, sizeof text) > 0);
	CHECK_STR(text, "1800000000 openpgp:BBB\n");
	CHECK(devicetokens_format(&tokens, text, 5) == -1);
	/* 89 days old stays, 90 goes */
	snprintf(text, sizeof text, "%lld a\n%lld b\n", (long long)(now - 89 * DAY),
		 (long long)(now - 90 * DAY));
	devicetokens_parse(text, strlen(text), now, &tokens);
	CHECK(tokens.count == 1 && strcmp(tokens.token[0], "a") == 0);
}

static void test_token_cap(void)
{
	char token[16];
	tokens.count = 0;
	for (int i = 0; i < DEVICETOKENS_PER_ACCOUNT_MAX + 3; i++) {
		snprintf(token, sizeof token, "t%d", i);
		CHECK(devicetokens_set(&tokens, token, strlen(token), 1000 + i) == 0);
	}
	/* the tokens set longest ago made room */
	CHECK(tokens.count == DEVICETOKENS_PER_ACCOUNT_MAX);
	CHECK(devicetokens_remove(&tokens, "t0", 2) == 0);
	CHECK(devicetokens_remove(&tokens, "t3", 2) == 1);
	static char big[DEVICETOKEN_MAX + 2];
	memset(big, 'x', sizeof big - 1);
	CHECK(devicetoken_valid(big, DEVICETOKEN_MAX));
	CHECK(!devicetoken_valid(big, DEVICETOKEN_MAX + 1));
}

static void test_items(void)
{
	struct push_item item, back;
	char buf[PUSHQUEUE_ITEM_MAX];
	memset(&item, 0, sizeof item);
	item.queued = 1800000000;
	item.due = 1800000008;
	item.attempts = 1;
	strcpy(item.addr, "abc@example.org");
	strcpy(item.token, "openpgp:XYZ");
	long len = push_item_format(&item, buf, sizeof buf);
	CHECK(len > 0);
	CHECK_STR(buf, "chatmail-push 1\n1800000000 1 1800000008\nabc@example.org\nopenpgp:XYZ\n");
	CHECK(push_item_parse(buf, (size_t)len, &back) == 0);
	CHECK(back.queued == item.queued && back.due == item.due && back.attempts == 1);
	CHECK_STR(back.addr, item.addr);
	CHECK_STR(back.token, item.token);
	CHECK(push_item_parse(buf, (size_t)len - 1, &back) == -1); /* cut */
	const char *bad[] = {
		"chatmail-push 2\n1 0 1\na@b\nt\n",
		"chatmail-push 1\n1 0 1\nA/B@b\nt\n", /* not a canonical address */
		"chatmail-push 1\n1 0 1\na@b\nt t\n",	/* not a token */
		"chatmail-push 1\n1 x 1\na@b\nt\n",
		"chatmail-push 1\n1 0 1\na@b\nt\nmore",
		"chatmail-push 1\n99999999999999999999 0 1\na@b\nt\n",
		"chatmail-push 1\n1 00 1\na@b\nt\n", /* found by fuzzing: not what we write */
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		CHECK(push_item_parse(bad[i], strlen(bad[i]), &back) == -1);
}

static void test_batch(void)
{
	const char *batch = "chatmail-push 1\n1800000000 0 1800000000\nabc@example.org\nt1\nt2\nt3\n";
	struct push_item item;
	size_t at, len = strlen(batch);
	CHECK(push_batch_parse(batch, len, &item, &at) == 0);
	CHECK_STR(item.token, "t1");
	CHECK_STR(item.addr, "abc@example.org");
	CHECK(push_batch_next(batch, len, &at, &item) == 1 && strcmp(item.token, "t2") == 0);
	CHECK(push_batch_next(batch, len, &at, &item) == 1 && strcmp(item.token, "t3") == 0);
	CHECK(push_batch_next(batch, len, &at, &item) == 0);
	CHECK(push_item_parse(batch, len, &item) == -1); /* one token only */
	const char *broken = "chatmail-push 1\n1 0 1\na@b\nt1\nbad token\n";
	CHECK(push_batch_parse(broken, strlen(broken), &item, &at) == 0);
	CHECK(push_batch_next(broken, strlen(broken), &at, &item) == -1);
	const char *none = "chatmail-push 1\n1 0 1\na@b\n";
	CHECK(push_batch_parse(none, strlen(none), &item, &at) == -1); /* no token at all */
}

static void test_schedule(void)
{
	struct push_item item = {.queued = 1000, .attempts = 0, .due = 1000};
	int64_t expect[] = {8, 64, 512, 4096};
	int64_t now = 1000;
	for (int i = 0; i < 4; i++) {
		CHECK(push_item_retry(&item, now, 1) == 0);
		CHECK(item.due == now + expect[i]);
		CHECK(item.attempts == (unsigned)i + 1);
		now = item.due;
	}
	/* the fifth retry (32768 s) would fall after 5 hours: given up */
	CHECK(push_item_retry(&item, now, 1) == -1);
	/* a retry late in the 5 hours is given up when it would fall after them */
	struct push_item late = {.queued = 1000, .attempts = 3, .due = 0};
	CHECK(push_item_retry(&late, 1000 + 5 * 3600 - 100, 1) == -1);
	/* scaled for tests: 8 ms is one second, rounded up */
	struct push_item fast = {.queued = 1000, .attempts = 0, .due = 1000};
	CHECK(push_item_retry(&fast, 1000, 0.001) == 0 && fast.due == 1001);
}

static void test_json(void)
{
	char out[256];
	const char *spaced = " { \"a\" : [1, 2.5e3, -0, true,false, null, \"x\\\"y\\u00e9\"] }\n";
	CHECK(json_compact(spaced, strlen(spaced), out, sizeof out) > 0);
	CHECK_STR(out, "{\"a\":[1,2.5e3,-0,true,false,null,\"x\\\"y\\u00e9\"]}");
	const char *in = "{\"a\": {\"b\": []}, \"c\": \"d e\"}";
	CHECK(json_compact(in, strlen(in), out, sizeof out) > 0);
	CHECK_STR(out, "{\"a\":{\"b\":[]},\"c\":\"d e\"}");
	const char *bad[] = {"", "{", "{\"a\":}", "[1,]", "{\"a\" 1}", "01", "\"a\nb\"", "[] []",
			     "tru", "{a:1}", "\"\\x\"", "1.", "-"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		CHECK(json_compact(bad[i], strlen(bad[i]), out, sizeof out) == -1);
	char deep[80];
	memset(deep, '[', 40);
	memset(deep + 40, ']', 40);
	CHECK(json_compact(deep, 80, out, sizeof out) == -1); /* deeper than the cap */
	CHECK(json_compact("[1,2,3]", 7, out, 4) == -1);      /* does not fit */
}

int main(void)
{
	test_tokens();
	test_token_cap();
	test_items();
	test_batch();
	test_schedule();
	test_json();
	return test_summary("test_push");
}
