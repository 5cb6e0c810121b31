/* The differential oracle over tests/data/eml and the mutations generated from its encrypted
 * messages (run from the repository root). Prints each disagreement, then "oracle: N passed,
 * N failed"; exits 1 when any input failed. */
#include "mutations.h"
#include "oracle.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CORPUS "tests/data/eml"
#define SENDER "alice@chat.example.org" /* the From of every corpus message but the bounces */
#define MESSAGE_MAX (16 * 1024 * 1024)

struct run {
	size_t limit;
	size_t passed, failed, checked;
	struct our_verdict base; /* of the last IS_BASE input */
	char base_name[256];
};

/* With ORACLE_DUMP=dir, every input is also written to dir/<name>, to replay one by hand. */
static void dump(const char *name, const char *msg, size_t len)
{
	const char *dir = getenv("ORACLE_DUMP");
	char path[1024];
	FILE *f;
	if (dir == NULL)
		return;
	snprintf(path, sizeof path, "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (f == NULL || fwrite(msg, 1, len, f) != len || fclose(f) != 0)
		fprintf(stderr, "oracle: cannot write %s\n", path);
}

static void run_one(const char *name, const char *msg, size_t len, enum expectation expect,
		    void *context)
{
	struct run *run = context;
	static struct oracle_report report;
	bool ok = oracle_check(msg, len, SENDER, run->limit, &report);
	struct our_verdict v = report.verdict;
	dump(name, msg, len);
	run->checked += report.checked;
	if (!ok)
		printf("FAIL %s: our policy accepts it as encrypted (%s), but %s\n", name,
		       oracle_directions(v), report.why);
	if (expect == IS_BASE) {
		run->base = v;
		snprintf(run->base_name, sizeof run->base_name, "%s", name);
		if (!report.checked) {
			printf("FAIL %s: a base of the mutations is not accepted as encrypted "
			       "(outgoing: %s; incoming: %s): the oracle would check nothing\n",
			       name, v.outgoing_reason, v.incoming_reason);
			ok = false;
		}
	}
	if (expect == AS_BASE && (v.outgoing_encrypted != run->base.outgoing_encrypted ||
				  v.incoming_encrypted != run->base.incoming_encrypted)) {
		printf("FAIL %s: canonical PGP/MIME like %s, which our policy accepts as encrypted "
		       "%s; this one %s (outgoing: %s; incoming: %s)\n",
		       name, run->base_name, oracle_directions(run->base), oracle_directions(v),
		       v.outgoing_reason, v.incoming_reason);
		ok = false;
	}
	if (ok)
		run->passed++;
	else
		run->failed++;
}

static char *load(const char *name, size_t *len)
{
	char path[512];
	char *text = malloc(MESSAGE_MAX);
	FILE *f;
	snprintf(path, sizeof path, "%s/%s", CORPUS, name);
	f = fopen(path, "rb");
	if (f == NULL || text == NULL) {
		fprintf(stderr, "oracle: cannot read %s (run from the repository root)\n", path);
		exit(2);
	}
	*len = fread(text, 1, MESSAGE_MAX, f);
	fclose(f);
	return text;
}

static int eml_only(const struct dirent *entry)
{
	size_t n = strlen(entry->d_name);
	return n > 4 && strcmp(entry->d_name + n - 4, ".eml") == 0;
}

int main(void)
{
	struct run run = {.limit = postfix_header_size_limit()};
	struct dirent **names;
	char *armor_source = NULL;
	size_t armor_source_len = 0;
	int n = scandir(CORPUS, &names, eml_only, alphasort);
	if (n <= 0) {
		fprintf(stderr, "oracle: no messages in %s (run from the repository root)\n",
			CORPUS);
		return 2;
	}
	for (int i = 0; i < n; i++) {
		size_t len;
		const char *name = names[i]->d_name;
		char *msg = load(name, &len);
		bool base = strncmp(name, "encrypted", 9) == 0;
		run_one(name, msg, len, base ? IS_BASE : ANY, &run);
		if (base)
			header_mutations(name, msg, len, run.limit, run_one, &run);
		if (strcmp(name, "encrypted.eml") == 0) {
			armor_source = msg;
			armor_source_len = len;
		} else {
			free(msg);
		}
		free(names[i]);
	}
	free(names);
	if (armor_source == NULL) {
		fprintf(stderr, "oracle: no %s/encrypted.eml\n", CORPUS);
		return 2;
	}
	structure_mutations(armor_source, armor_source_len, run_one, &run);
	free(armor_source);
	printf("oracle: %zu inputs accepted as encrypted by our policy were read again by GMime "
	       "and as Postfix does (header_size_limit %zu)\n",
	       run.checked, run.limit);
	printf("oracle: %zu passed, %zu failed\n", run.passed, run.failed);
	return run.failed == 0 ? 0 : 1;
}
