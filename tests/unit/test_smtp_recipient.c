/* Recipient maildir lookups for incoming mail (lib/smtp_recipient.h). */
#include "smtp.h"
#include "smtp_recipient.h"
#include "test.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[] = "/tmp/test_smtp_recipient.XXXXXX";
static char mail[sizeof dir + 8];

static void make(const char *relative, bool is_dir)
{
	char path[256];
	snprintf(path, sizeof path, "%s/%s", dir, relative);
	if (is_dir)
		CHECK(mkdir(path, 0755) == 0);
	else
		CHECK(close(open(path, O_CREAT | O_WRONLY, 0644)) == 0);
}

static int enforced(const char *addr)
{
	bool enforce = true;
	int rc = smtp_recipient_enforces_e2ee(mail, addr, &enforce);
	return rc != 0 ? -1 : enforce;
}

static bool safe(const char *name)
{
	return smtp_recipient_safe_name(name, strlen(name));
}

int main(void)
{
	CHECK(safe("bob@example.org"));
	CHECK(safe(".bob"));
	CHECK(safe("..."));
	CHECK(!safe(""));
	CHECK(!safe("."));
	CHECK(!safe(".."));
	CHECK(!safe("../x"));
	CHECK(!safe("a/b@example.org"));
	CHECK(!safe("/etc"));
	CHECK(!safe("a\nb"));
	CHECK(!smtp_recipient_safe_name("a\0b", 3));
	char long_name[SMTP_ADDRESS_MAX + 2];
	memset(long_name, 'a', sizeof long_name - 1);
	long_name[sizeof long_name - 1] = '\0';
	CHECK(!safe(long_name));
	long_name[SMTP_ADDRESS_MAX] = '\0';
	CHECK(safe(long_name));

	CHECK(mkdtemp(dir) != NULL);
	snprintf(mail, sizeof mail, "%s/mail", dir);
	make("mail", true);
	make("mail/bob@example.org", true);
	make("mail/bob@example.org/" SMTP_RECIPIENT_ENFORCE_FILE, false);
	make("mail/open@example.org", true);
	make("outside", true);
	make("outside/" SMTP_RECIPIENT_ENFORCE_FILE, false);
	make("plain", true);

	CHECK(enforced("bob@example.org") == 1);
	CHECK(enforced("BOB@Example.ORG") == 1);
	CHECK(enforced("open@example.org") == 0);
	CHECK(enforced("nobody@example.org") == 0);

	/* Never outside mailboxes_dir: no path, no parent, no symbolic link. */
	CHECK(enforced("../plain") == -1 && errno == EINVAL);
	CHECK(enforced("..") == -1);
	char link[256];
	snprintf(link, sizeof link, "%s/mail/linked@example.org", dir);
	CHECK(symlink("../plain", link) == 0);
	CHECK(enforced("linked@example.org") == -1);
	/* The enforce file itself may be a link: it exists, so encryption is enforced. */
	snprintf(link, sizeof link, "%s/mail/open@example.org/" SMTP_RECIPIENT_ENFORCE_FILE, dir);
	CHECK(symlink("/nonexistent", link) == 0);
	CHECK(enforced("open@example.org") == 1);
	/* A file where the maildir should be is no maildir we can read. */
	make("mail/file@example.org", false);
	CHECK(enforced("file@example.org") == -1);

	bool enforce = true;
	CHECK(smtp_recipient_enforces_e2ee("/nonexistent", "bob@example.org", &enforce) == -1);

	char command[128];
	snprintf(command, sizeof command, "rm -rf %s", dir);
	CHECK(system(command) == 0);
	return test_summary("smtp_recipient");
}
