/* Template placeholders: known names filled, foreign syntax kept, unknown names refused. */
#include "template.h"
#include "test.h"

static const char *lookup(const char *name, size_t len, void *context)
{
	(void)context;
	if (len == 11 && memcmp(name, "mail_domain", len) == 0)
		return "example.org";
	if (len == 4 && memcmp(name, "port", len) == 0)
		return "993";
	if (len == 5 && memcmp(name, "empty", len) == 0)
		return "";
	return NULL;
}

static int render(const char *in, char *out, size_t size, struct template_error *e)
{
	size_t n;
	return template_render(in, strlen(in), lookup, NULL, out, size, &n, e);
}

int main(void)
{
	char out[256];
	struct template_error e;
	CHECK(render("host {mail_domain}:{port}{empty}\n", out, sizeof out, &e) == 0);
	CHECK_STR(out, "host example.org:993\n");
	CHECK(render("service imap {\n  x = ${queue_directory} %{user} {Upper} { a } {1x}\n}", out,
		     sizeof out, &e) == 0);
	CHECK_STR(out, "service imap {\n  x = ${queue_directory} %{user} {Upper} { a } {1x}\n}");
	CHECK(render("a\nb {nope} c", out, sizeof out, &e) == -1);
	CHECK_STR(e.name, "nope");
	CHECK(e.line == 2);
	CHECK(render("{mail_domain}{mail_domain}", out, 20, &e) == -1);
	CHECK(render("{mail_domain", out, sizeof out, &e) == 0);
	CHECK_STR(out, "{mail_domain");
	CHECK(render("{", out, sizeof out, &e) == 0);
	CHECK_STR(out, "{");
	CHECK(render("", out, sizeof out, &e) == 0);
	CHECK_STR(out, "");
	return test_summary("template");
}
