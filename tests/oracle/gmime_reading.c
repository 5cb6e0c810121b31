/* The message as GMime 3 reads it: its top-level fields, its one From mailbox, and whether its
 * structure is exactly RFC 3156 PGP/MIME with an armored message in the encrypted part. */
#include "oracle.h"

#include <gmime/gmime.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARMOR_BEGIN "-----BEGIN PGP MESSAGE-----"
#define ARMOR_END "-----END PGP MESSAGE-----"

/* Parser warnings that mean readers may see another structure than the one GMime built. A
 * missing close delimiter (GMIME_WARN_TRUNCATED_MESSAGE) is not one: every reader ends the
 * last part at the end of the message; nor is a parameter GMime cannot read
 * (GMIME_WARN_INVALID_PARAMETER): where it matters, the boundary is lost and that shows. Nor
 * are repeated fields (GMIME_WARN_DUPLICATED_HEADER, GMIME_CRIT_CONFLICTING_HEADER): the
 * Postfix-style reading counts the fields that decide, and a second Content-Disposition
 * changes nothing a reader decrypts. */
static const struct {
	GMimeParserWarning code;
	const char *text;
} serious[] = {
    {GMIME_WARN_DUPLICATED_PARAMETER, "a parameter repeated"},
    {GMIME_WARN_INVALID_CONTENT_TYPE, "an invalid Content-Type"},
    {GMIME_WARN_MALFORMED_MULTIPART, "a malformed multipart"},
    {GMIME_WARN_MALFORMED_MESSAGE, "a malformed message"},
    {GMIME_CRIT_INVALID_HEADER_NAME, "a header line that is no field"},
    {GMIME_CRIT_CONFLICTING_PARAMETER, "conflicting parameters"},
    {GMIME_CRIT_MULTIPART_WITHOUT_BOUNDARY, "a multipart without a boundary"},
    {GMIME_CRIT_NESTING_OVERFLOW, "MIME nesting too deep"},
    {GMIME_WARN_PART_WITHOUT_CONTENT, "a part without content"},
    {GMIME_CRIT_PART_WITHOUT_HEADERS_OR_CONTENT, "a part without header or content"},
};

static void say(char *out, size_t cap, const char *format, ...)
    __attribute__((format(printf, 3, 4)));
static void say(char *out, size_t cap, const char *format, ...)
{
	va_list args;
	if (out[0] != '\0')
		return; /* the first problem is the one to report */
	va_start(args, format);
	vsnprintf(out, cap, format, args);
	va_end(args);
}

static void on_warning(gint64 offset, GMimeParserWarning code, const gchar *item, gpointer data)
{
	struct gmime_reading *reading = data;
	char text[256];
	for (size_t i = 0; i < sizeof serious / sizeof serious[0]; i++)
		if (serious[i].code == code)
			say(reading->problem, sizeof reading->problem,
			    "GMime warns of %s at offset %lld (%s)", serious[i].text,
			    (long long)offset,
			    oracle_excerpt(item ? item : "", item ? strlen(item) : 0, text,
					   sizeof text));
}

static int by_offset(const void *a, const void *b)
{
	const gint64 *x = a, *y = b;
	return (*x > *y) - (*x < *y);
}

static void copy_fields(GMimeHeaderList **lists, size_t count, struct gmime_fields *out)
{
	struct {
		gint64 offset;
		GMimeHeader *header;
	} * all;
	size_t n = 0, total = 0;
	for (size_t l = 0; l < count; l++)
		total += lists[l] ? (size_t)g_mime_header_list_get_count(lists[l]) : 0;
	all = calloc(total + 1, sizeof *all);
	out->fields = calloc(total + 1, sizeof *out->fields);
	if (all == NULL || out->fields == NULL)
		abort();
	for (size_t l = 0; l < count; l++)
		for (int i = 0; lists[l] && i < g_mime_header_list_get_count(lists[l]); i++) {
			all[n].header = g_mime_header_list_get_header_at(lists[l], i);
			all[n].offset = g_mime_header_get_offset(all[n].header);
			n++;
		}
	qsort(all, n, sizeof *all, by_offset);
	for (size_t i = 0; i < n; i++) {
		out->fields[i].name = g_strdup(g_mime_header_get_name(all[i].header));
		out->fields[i].value = g_strdup(g_mime_header_get_raw_value(all[i].header));
	}
	out->count = n;
	free(all);
}

/* The message's fields and its top part's Content-* fields (GMime keeps them apart) in the
 * order they stand, and those of the parts of a two-part multipart. */
static void collect_fields(GMimeMessage *message, struct gmime_reading *reading)
{
	GMimeObject *top = g_mime_message_get_mime_part(message);
	GMimeHeaderList *lists[2] = {g_mime_object_get_header_list(GMIME_OBJECT(message)),
				     top ? g_mime_object_get_header_list(top) : NULL};
	copy_fields(lists, 2, &reading->top);
	if (top == NULL || !GMIME_IS_MULTIPART(top))
		return;
	if (g_mime_multipart_get_boundary(GMIME_MULTIPART(top)) != NULL)
		snprintf(reading->boundary, sizeof reading->boundary, "%s",
			 g_mime_multipart_get_boundary(GMIME_MULTIPART(top)));
	for (int i = 0; i < 2 && i < g_mime_multipart_get_count(GMIME_MULTIPART(top)); i++) {
		GMimeObject *part = g_mime_multipart_get_part(GMIME_MULTIPART(top), i);
		lists[0] = g_mime_object_get_header_list(part);
		copy_fields(lists, 1, &reading->parts[i]);
	}
}

static void read_from(GMimeMessage *message, struct gmime_reading *reading)
{
	size_t fields = 0;
	for (size_t i = 0; i < reading->top.count; i++)
		fields += g_ascii_strcasecmp(reading->top.fields[i].name, "From") == 0;
	InternetAddressList *from = g_mime_message_get_from(message);
	InternetAddress *address;
	if (fields != 1) {
		say(reading->from_problem, sizeof reading->from_problem,
		    "GMime reads %zu From fields", fields);
		return;
	}
	if (from == NULL || internet_address_list_length(from) != 1) {
		say(reading->from_problem, sizeof reading->from_problem,
		    "GMime reads %d addresses in From",
		    from ? internet_address_list_length(from) : 0);
		return;
	}
	address = internet_address_list_get_address(from, 0);
	if (!INTERNET_ADDRESS_IS_MAILBOX(address)) {
		say(reading->from_problem, sizeof reading->from_problem,
		    "GMime reads a group in From");
		return;
	}
	snprintf(reading->from, sizeof reading->from, "%s",
		 internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(address)));
}

static GByteArray *decoded_content(GMimePart *part, GMimeStream **keep)
{
	GMimeDataWrapper *content = g_mime_part_get_content(part);
	*keep = g_mime_stream_mem_new();
	if (content != NULL)
		g_mime_data_wrapper_write_to_stream(content, *keep);
	return g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(*keep));
}

static bool is_blank(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
			return false;
	return true;
}

static bool line_is(const char *s, size_t len, const char *text)
{
	size_t n = strlen(text);
	return len >= n && memcmp(s, text, n) == 0 && is_blank(s + n, len - n);
}

static bool base64_line(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!g_ascii_isalnum(s[i]) && s[i] != '+' && s[i] != '/' && s[i] != '=' &&
		    !is_blank(s + i, 1))
			return false;
	return true;
}

/* An ASCII armor in outline (RFC 4880 §6.2), read here without our OpenPGP check: the BEGIN
 * line, armor header lines, a blank line, base64 lines, the END line, then only white space. */
static const char *armor_shape_problem(const char *s, size_t len)
{
	enum { BEGIN, HEADERS, DATA, AFTER } state = BEGIN;
	size_t pos = 0;
	while (pos < len) {
		const char *lf = memchr(s + pos, '\n', len - pos);
		size_t n = lf ? (size_t)(lf - (s + pos)) : len - pos;
		const char *line = s + pos;
		pos += n + (lf != NULL);
		if (state == BEGIN) {
			if (!line_is(line, n, ARMOR_BEGIN))
				return "does not start with " ARMOR_BEGIN;
			state = HEADERS;
		} else if (state == HEADERS) {
			if (is_blank(line, n))
				state = DATA;
			else if (memmem(line, n, ": ", 2) == NULL)
				return "has an armor header line that is no \"Key: value\"";
		} else if (state == DATA) {
			if (line_is(line, n, ARMOR_END))
				state = AFTER;
			else if (!base64_line(line, n))
				return "has a line that is not base64 inside the armor";
		} else if (!is_blank(line, n)) {
			return "has text after " ARMOR_END;
		}
	}
	return state == AFTER ? NULL : "has no " ARMOR_END " line";
}

/* The transfer encoding a leaf states, if any, must be one every reader decodes alike. */
static void check_encoding(GMimeObject *object, const char *what, bool leaf,
			   struct gmime_reading *reading)
{
	const char *value = g_mime_object_get_header(object, "Content-Transfer-Encoding");
	GMimeContentEncoding encoding;
	if (value == NULL)
		return;
	encoding = g_mime_content_encoding_from_string(value);
	if (encoding == GMIME_CONTENT_ENCODING_7BIT || encoding == GMIME_CONTENT_ENCODING_8BIT ||
	    encoding == GMIME_CONTENT_ENCODING_BINARY)
		return;
	if (leaf && (encoding == GMIME_CONTENT_ENCODING_BASE64 ||
		     encoding == GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE))
		return;
	say(reading->problem, sizeof reading->problem,
	    "GMime reads Content-Transfer-Encoding \"%.40s\" on %s", value, what);
}

static bool leaf_is(GMimeObject *object, const char *type, const char *subtype)
{
	GMimeContentType *ct = g_mime_object_get_content_type(object);
	return GMIME_IS_PART(object) && ct != NULL &&
	       g_mime_content_type_is_type(ct, type, subtype);
}

/* The body of the first part, trimmed, is "Version: 1". */
static const char *version_problem(const char *s, size_t len)
{
	static const char version[] = "Version: 1";
	while (len > 0 && g_ascii_isspace(s[0]))
		s++, len--;
	while (len > 0 && g_ascii_isspace(s[len - 1]))
		len--;
	return len == sizeof version - 1 && memcmp(s, version, len) == 0
		   ? NULL
		   : "does not say Version: 1";
}

/* Part index (0 or 1) of the multipart/encrypted: its type, its transfer encoding and what
 * its content says once decoded. */
static void check_leaf(GMimeObject *object, int index, struct gmime_reading *reading)
{
	static const char *const subtypes[] = {"pgp-encrypted", "octet-stream"};
	static const char *const ordinals[] = {"first", "second"};
	GMimeStream *keep;
	GByteArray *body;
	const char *problem;
	char where[32];
	if (!leaf_is(object, "application", subtypes[index])) {
		say(reading->problem, sizeof reading->problem,
		    "GMime's %s part is not application/%s", ordinals[index], subtypes[index]);
		return;
	}
	snprintf(where, sizeof where, "the %s part", ordinals[index]);
	check_encoding(object, where, true, reading);
	body = decoded_content(GMIME_PART(object), &keep);
	problem = index == 0 ? version_problem((const char *)body->data, body->len)
			     : armor_shape_problem((const char *)body->data, body->len);
	if (problem != NULL)
		say(reading->problem, sizeof reading->problem,
		    "GMime's %s part, transfer-decoded, %s", ordinals[index], problem);
	g_object_unref(keep);
}

static void count_leaf(GMimeObject *parent, GMimeObject *part, gpointer data)
{
	(void)parent;
	if (!GMIME_IS_MULTIPART(part))
		(*(size_t *)data)++;
}

static void check_structure(GMimeMessage *message, struct gmime_reading *reading)
{
	GMimeObject *top = g_mime_message_get_mime_part(message);
	GMimeContentType *ct = top ? g_mime_object_get_content_type(top) : NULL;
	size_t leaves = 0;
	if (top == NULL || ct == NULL || !GMIME_IS_MULTIPART(top) ||
	    !g_mime_content_type_is_type(ct, "multipart", "encrypted")) {
		say(reading->problem, sizeof reading->problem, "GMime reads the message as %s/%s",
		    ct ? g_mime_content_type_get_media_type(ct) : "nothing",
		    ct ? g_mime_content_type_get_media_subtype(ct) : "");
		return;
	}
	check_encoding(top, "the multipart", false, reading);
	if (g_mime_multipart_get_count(GMIME_MULTIPART(top)) != 2) {
		say(reading->problem, sizeof reading->problem,
		    "GMime reads %d parts in multipart/encrypted",
		    g_mime_multipart_get_count(GMIME_MULTIPART(top)));
		return;
	}
	for (int i = 0; i < 2; i++)
		check_leaf(g_mime_multipart_get_part(GMIME_MULTIPART(top), i), i, reading);
	g_mime_message_foreach(message, count_leaf, &leaves);
	if (leaves != 2)
		say(reading->problem, sizeof reading->problem, "GMime finds %zu leaf parts",
		    leaves);
}

void gmime_read(const char *msg, size_t len, struct gmime_reading *reading)
{
	static bool ready;
	GMimeParserOptions *options;
	GMimeStream *stream;
	GMimeParser *parser;
	GMimeMessage *message;
	if (!ready) {
		g_mime_init();
		ready = true;
	}
	memset(reading, 0, sizeof *reading);
	options = g_mime_parser_options_new();
	g_mime_parser_options_set_warning_callback(options, on_warning, reading);
	stream = g_mime_stream_mem_new_with_buffer(msg, len);
	parser = g_mime_parser_new_with_stream(stream);
	g_mime_parser_set_format(parser, GMIME_FORMAT_MESSAGE);
	message = g_mime_parser_construct_message(parser, options);
	if (message == NULL) {
		say(reading->problem, sizeof reading->problem, "GMime finds no message");
		say(reading->from_problem, sizeof reading->from_problem, "GMime finds no message");
	} else {
		collect_fields(message, reading);
		read_from(message, reading);
		check_structure(message, reading);
		g_object_unref(message);
	}
	g_object_unref(parser);
	g_object_unref(stream);
	g_mime_parser_options_free(options);
}

static void free_fields(struct gmime_fields *list)
{
	for (size_t i = 0; i < list->count; i++) {
		g_free(list->fields[i].name);
		g_free(list->fields[i].value);
	}
	free(list->fields);
	list->fields = NULL;
	list->count = 0;
}

void gmime_reading_free(struct gmime_reading *reading)
{
	free_fields(&reading->top);
	free_fields(&reading->parts[0]);
	free_fields(&reading->parts[1]);
}
