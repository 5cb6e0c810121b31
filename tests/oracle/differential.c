/* The differential check: when our policy accepts a message as encrypted, Postfix's reading of
 * the header and GMime's reading of the whole message must agree that it is encrypted PGP/MIME
 * with one From, the sender's. */
#include "oracle.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Fields that decide the verdict or the sender: readers that meet one twice pick different
 * ones (Python's email the first, GMime the last). */
static const char *const key_fields[] = {"From", "Sender", "Content-Type",
					 "Content-Transfer-Encoding", "MIME-Version"};

static void add(struct oracle_report *report, const char *format, ...)
    __attribute__((format(printf, 2, 3)));
static void add(struct oracle_report *report, const char *format, ...)
{
	size_t used = strlen(report->why);
	va_list args;
	if (used + 3 >= sizeof report->why)
		return;
	if (used > 0) {
		memcpy(report->why + used, "; ", 3);
		used += 2;
	}
	va_start(args, format);
	vsnprintf(report->why + used, sizeof report->why - used, format, args);
	va_end(args);
}

const char *oracle_excerpt(const char *text, size_t len, char *out, size_t cap)
{
	size_t o = 0;
	for (size_t i = 0; i < len && i < 40 && o + 5 < cap; i++) {
		unsigned char c = (unsigned char)text[i];
		if (c >= 32 && c < 127)
			out[o++] = (char)c;
		else
			o += (size_t)snprintf(out + o, cap - o, "\\x%02x", c);
	}
	out[o] = '\0';
	return out;
}

const char *oracle_directions(struct our_verdict v)
{
	if (v.outgoing_encrypted && v.incoming_encrypted)
		return "outgoing and incoming";
	if (v.outgoing_encrypted)
		return "outgoing";
	return v.incoming_encrypted ? "incoming" : "neither way";
}

/* A value unfolded and trimmed: line ends removed, white space around dropped. */
static size_t normalise(const char *value, size_t len, char *out, size_t cap)
{
	size_t o = 0, start = 0;
	for (size_t i = 0; i < len && o < cap; i++)
		if (value[i] != '\r' && value[i] != '\n')
			out[o++] = value[i];
	while (start < o && (out[start] == ' ' || out[start] == '\t'))
		start++;
	while (o > start && (out[o - 1] == ' ' || out[o - 1] == '\t'))
		o--;
	memmove(out, out + start, o - start);
	return o - start;
}

/* where names the header block: "the header" or "part N's header". */
static void check_postfix_header(const struct postfix_header *header, const char *where,
				 size_t limit, struct oracle_report *report)
{
	char text[256];
	if (!header->ended)
		add(report, "Postfix finds no end of %s", where);
	else if (header->end_line_length > 0)
		add(report, "Postfix ends %s at its line %zu, which is no field: \"%s\"", where,
		    header->end_line_number,
		    oracle_excerpt(header->end_line, header->end_line_length, text, sizeof text));
	if (header->bare_cr)
		add(report,
		    "a bare CR in a line of %s: Postfix keeps it inside the line, "
		    "Python's email ends the line there",
		    where);
	for (size_t i = 0; i < header->count; i++)
		if (header->fields[i].size > limit)
			add(report,
			    "the %zu-byte field %s is over header_size_limit %zu, past which "
			    "Postfix's cleanup drops what follows",
			    header->fields[i].size,
			    oracle_excerpt(header->fields[i].name, header->fields[i].name_length,
					   text, sizeof text),
			    limit);
	for (size_t k = 0; k < sizeof key_fields / sizeof key_fields[0]; k++) {
		size_t n = 0, want = strlen(key_fields[k]);
		for (size_t i = 0; i < header->count; i++)
			n += header->fields[i].name_length == want &&
			     strncasecmp(header->fields[i].name, key_fields[k], want) == 0;
		if (n > 1)
			add(report, "Postfix reads %zu fields called %s in %s", n, key_fields[k],
			    where);
	}
}

/* Both readings must list the same fields, name for name and value for value. */
static void compare_fields(const struct postfix_header *header, const char *where,
			   const struct gmime_fields *reading, struct oracle_report *report)
{
	static char postfix_value[256 * 1024], gmime_value[256 * 1024];
	char a[256], b[256];
	size_t n = header->count < reading->count ? header->count : reading->count;
	for (size_t i = 0; i < n; i++) {
		const struct postfix_field *p = &header->fields[i];
		const struct gmime_field *g = &reading->fields[i];
		size_t pn =
		    normalise(p->value, p->value_length, postfix_value, sizeof postfix_value);
		size_t gn = normalise(g->value, strlen(g->value), gmime_value, sizeof gmime_value);
		if (strlen(g->name) != p->name_length ||
		    memcmp(g->name, p->name, p->name_length) != 0 || pn != gn ||
		    memcmp(postfix_value, gmime_value, pn) != 0) {
			add(report, "field %zu of %s: Postfix reads \"%s\", GMime \"%s\"", i + 1,
			    where, oracle_excerpt(p->name, p->name_length, a, sizeof a),
			    oracle_excerpt(g->name, strlen(g->name), b, sizeof b));
			if (p->name_length == strlen(g->name)) {
				/* from a little before the first byte that differs */
				size_t d = 0;
				while (d < pn && d < gn && postfix_value[d] == gmime_value[d])
					d++;
				d = d > 10 ? d - 10 : 0;
				add(report, "values from byte %zu: \"%s\" and \"%s\"", d,
				    oracle_excerpt(postfix_value + d, pn - d, a, sizeof a),
				    oracle_excerpt(gmime_value + d, gn - d, b, sizeof b));
			}
			return;
		}
	}
	if (header->count != reading->count)
		add(report, "Postfix reads %zu fields in %s, GMime %zu", header->count, where,
		    reading->count);
}

/* The part headers of the multipart/encrypted, read as Postfix's mime_state reads them
 * (it reads part headers with the same code), must be what GMime read there too. */
static void check_parts(const char *body, size_t len, const struct gmime_reading *reading,
			size_t limit, struct oracle_report *report)
{
	size_t starts[2];
	size_t found = postfix_part_starts(body, len, reading->boundary, starts, 2);
	for (size_t i = 0; i < found; i++) {
		struct postfix_header part;
		char where[48];
		snprintf(where, sizeof where, "part %zu's header", i + 1);
		if (!postfix_header_read(body + starts[i], len - starts[i], &part)) {
			add(report, "out of memory");
			return;
		}
		check_postfix_header(&part, where, limit, report);
		compare_fields(&part, where, &reading->parts[i], report);
		postfix_header_free(&part);
	}
}

static void check_from(const struct gmime_reading *reading, const char *sender, bool outgoing,
		       struct oracle_report *report)
{
	if (reading->from[0] == '\0')
		add(report, "%s", reading->from_problem);
	else if (outgoing && strcasecmp(reading->from, sender) != 0)
		add(report, "GMime reads From %s, the envelope sender is %s", reading->from,
		    sender);
}

bool oracle_check(const char *msg, size_t len, const char *sender, size_t header_size_limit,
		  struct oracle_report *report)
{
	struct postfix_header header;
	struct gmime_reading reading;
	memset(report, 0, sizeof *report);
	report->verdict = our_policy(msg, len, sender);
	report->checked = report->verdict.outgoing_encrypted || report->verdict.incoming_encrypted;
	if (!report->checked)
		return true;
	if (!postfix_header_read(msg, len, &header)) {
		add(report, "out of memory");
		return false;
	}
	gmime_read(msg, len, &reading);
	check_postfix_header(&header, "the header", header_size_limit, report);
	if (reading.problem[0] != '\0')
		add(report, "%s", reading.problem);
	compare_fields(&header, "the header", &reading.top, report);
	if (header.ended && reading.boundary[0] != '\0')
		check_parts(msg + header.body, len - header.body, &reading, header_size_limit,
			    report);
	/* Outgoing, From must be the logged-in sender; incoming mail may come from anyone, but
	 * from one mailbox. */
	check_from(&reading, sender, report->verdict.outgoing_encrypted, report);
	postfix_header_free(&header);
	gmime_reading_free(&reading);
	return report->why[0] == '\0';
}
