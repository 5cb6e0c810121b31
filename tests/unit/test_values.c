/* A profile's render values: definitions in order, conditional blocks, errors by line. */
#include "test.h"
#include "values.h"

static struct values values;

/* Inputs: run_dir=/r, empty=""; then what the file defined so far. */
static const char *lookup(const char *name, size_t len, void *context)
{
	(void)context;
	if (len == 7 && memcmp(name, "run_dir", len) == 0)
		return "/r";
	if (len == 5 && memcmp(name, "empty", len) == 0)
		return "";
	return values_get(&values, name, len);
}

static int parse(const char *text, struct values_error *error)
{
	memset(&values, 0, sizeof values);
	return values_parse(&values, text, strlen(text), lookup, NULL, error);
}

static const char *get(const char *name)
{
	const char *value = values_get(&values, name, strlen(name));
	return value != NULL ? value : "(none)";
}

static void test_definitions(void)
{
	struct values_error e;
	CHECK(parse("# a comment\n\nlog = {run_dir}/log\r\n  nginx_log =  {log}/nginx.log  \n"
		    "blank =\nlog = {log}/again\n",
		    &e) == 0);
	CHECK_STR(get("log"), "/r/log/again");
	CHECK_STR(get("nginx_log"), "/r/log/nginx.log");
	CHECK_STR(get("blank"), "");
	CHECK(values.count == 3);
	CHECK(e.line == 0);
}

static void test_blocks(void)
{
	struct values_error e;
	CHECK(parse("a = 1\n[if run_dir]\na = 2\n[end]\n[if empty]\na = 3\nb = 3\n[end]\n"
		    "[if run_dir = /r]\nc = yes\n[end]\n[if run_dir = /x]\nc = no\n[end]\n"
		    "[if a = 2]\nd = {c}\n[end]\n",
		    &e) == 0);
	CHECK_STR(get("a"), "2");
	CHECK_STR(get("b"), "(none)");
	CHECK_STR(get("c"), "yes");
	CHECK_STR(get("d"), "yes");
}

static void test_errors(void)
{
	struct values_error e;
	CHECK(parse("a = 1\nb = {nope}\n", &e) == -1);
	CHECK(e.line == 2);
	CHECK_STR(e.name, "nope");
	CHECK(parse("a = 1\n[if nope]\n[end]\n", &e) == -1);
	CHECK(e.line == 2);
	CHECK_STR(e.name, "nope");
	CHECK(parse("[if run_dir]\n", &e) == -1);
	CHECK(parse("[end]\n", &e) == -1);
	CHECK(parse("[if run_dir]\n[if run_dir]\n[end]\n[end]\n", &e) == -1);
	CHECK(e.line == 2);
	CHECK(parse("[else]\n", &e) == -1);
	CHECK(parse("[if run_dir\n", &e) == -1);
	CHECK(parse("[if run_dir ~ x]\n[end]\n", &e) == -1);
	CHECK(parse("Upper = 1\n", &e) == -1);
	CHECK(parse("a 1\n", &e) == -1);
	CHECK(parse("= 1\n", &e) == -1);
	/* a block that does not hold is checked too: a mistake shows whatever the machine */
	CHECK(parse("[if empty]\na = {nope}\n[end]\n", &e) == -1);
	CHECK(e.line == 2);
	CHECK(parse("[if empty]\na 1\n[end]\n", &e) == -1);
	char many[VALUES_MAX * 16 + 64];
	size_t used = 0;
	for (int i = 0; i <= VALUES_MAX; i++)
		used += (size_t)snprintf(many + used, sizeof many - used, "v%d = x\n", i);
	CHECK(parse(many, &e) == -1);
	CHECK_STR(e.message, "too many values");
}

int main(void)
{
	test_definitions();
	test_blocks();
	test_errors();
	return test_summary("test_values");
}
