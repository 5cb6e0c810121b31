/* The /mxdeliv request's envelope and body, both ways (SPEC §5b). */
#include "mxdeliv.h"

#include "address.h"
#include "smtp.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static bool is_space(char c)
{
	return c == ' ' || c == '\t';
}

/* An address as the envelope carries it: printable ASCII or UTF-8, no space, no <>, no comma
 * (the list separator), no quote (a quoted local part is not ours to read). */
static bool address_byte(unsigned char c)
{
	return c > ' ' && c != 0x7f && c != '<' && c != '>' && c != ',' && c != '"' && c != '\\';
}

/* value[0..len) trimmed and without one pair of <>, into path; "" allowed (<>). */
static int parse_address(const char *value, size_t len, struct smtp_path *path)
{
	while (len > 0 && is_space(value[0])) {
		value++;
		len--;
	}
	while (len > 0 && is_space(value[len - 1]))
		len--;
	if (len >= 2 && value[0] == '<' && value[len - 1] == '>') {
		value++;
		len -= 2;
	}
	if (len > SMTP_ADDRESS_MAX)
		return -1;
	for (size_t i = 0; i < len; i++)
		if (!address_byte((unsigned char)value[i]))
			return -1;
	memset(path, 0, sizeof *path);
	memcpy(path->address, value, len);
	path->address[len] = '\0';
	path->address_len = len;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)value[i] >= 0x80)
			path->smtputf8 = true;
	return 0;
}

int mxdeliv_sender(struct smtp_tx *tx, const char *value, size_t len)
{
	struct smtp_path path;

	if (value == NULL)
		len = 0;
	if (len > MXDELIV_HEADER_VALUE_MAX || parse_address(value != NULL ? value : "", len, &path) != 0)
		return -1;
	if (path.address_len > 0 && memchr(path.address, '@', path.address_len) == NULL)
		return -1;
	path.body_8bit = true;
	tx->mail = path;
	if (address_canonical(path.address, path.address_len, tx->sender, sizeof tx->sender) < 0)
		tx->sender[0] = '\0';
	return 0;
}

int mxdeliv_recipients(struct smtp_tx *tx, const char *value, size_t len)
{
	struct smtp_path path;
	size_t start = 0;

	if (len > MXDELIV_HEADER_VALUE_MAX)
		return -1;
	for (size_t i = 0; i <= len; i++) {
		if (i < len && value[i] != ',')
			continue;
		if (parse_address(value + start, i - start, &path) != 0 || path.address_len == 0 ||
		    smtp_tx_add_recipient(tx, &path) != 0)
			return -1;
		start = i + 1;
	}
	return 0;
}

int mxdeliv_content_length(const char *value, size_t max, size_t *length)
{
	size_t n = 0;

	if (value == NULL || value[0] == '\0')
		return -1;
	for (const char *p = value; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		size_t digit = (size_t)(*p - '0');
		if (digit > max || n > (max - digit) / 10)
			return 1;
		n = n * 10 + digit;
	}
	*length = n;
	return 0;
}

size_t mxdeliv_crlf_size(const char *in, size_t len)
{
	size_t size = len;

	for (size_t i = 0; i < len; i++)
		if (in[i] == '\n' && (i == 0 || in[i - 1] != '\r'))
			size++;
	return size;
}

size_t mxdeliv_crlf(const char *in, size_t len, char *out)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		if (in[i] == '\n' && (i == 0 || in[i - 1] != '\r'))
			out[n++] = '\r';
		out[n++] = in[i];
	}
	return n;
}

int mxdeliv_http_status(int smtp_code)
{
	return smtp_code >= 200 && smtp_code < 300 ? MXDELIV_HTTP_OK : MXDELIV_HTTP_REFUSED;
}

bool mxdeliv_accepted(int http_status)
{
	return http_status >= 200 && http_status < 300;
}

bool mxdeliv_host_lacks_it(int http_status)
{
	return http_status != MXDELIV_HTTP_REFUSED && http_status != MXDELIV_HTTP_TOO_LARGE;
}

bool mxdeliv_verify(const char *domain)
{
	return domain[0] != '[' && domain[0] != '_';
}

int mxdeliv_url(const char *host, char *url, size_t size)
{
	bool v6 = strchr(host, ':') != NULL;
	if (host[0] == '\0')
		return -1;
	int n = snprintf(url, size, "https://%s%s%s/mxdeliv", v6 ? "[" : "", host, v6 ? "]" : "");
	return n < 0 || (size_t)n >= size ? -1 : 0;
}

/* Host names compare without case; a name longer than a slot is never remembered. */
static bool same_host(const char *slot, const char *host)
{
	return strncasecmp(slot, host, MXDELIV_HOST_MAX + 1) == 0;
}

bool mxdeliv_memory_smtp_only(const struct mxdeliv_memory *memory, const char *host, int64_t now)
{
	for (size_t i = 0; i < MXDELIV_MEMORY_HOSTS; i++)
		if (memory->entry[i].until > now && same_host(memory->entry[i].host, host))
			return true;
	return false;
}

void mxdeliv_memory_remember(struct mxdeliv_memory *memory, const char *host, int64_t now)
{
	size_t slot = 0;

	if (strlen(host) > MXDELIV_HOST_MAX)
		return;
	for (size_t i = 0; i < MXDELIV_MEMORY_HOSTS; i++) {
		if (same_host(memory->entry[i].host, host)) {
			slot = i;
			break;
		}
		if (memory->entry[i].until < memory->entry[slot].until)
			slot = i;
	}
	memset(memory->entry[slot].host, 0, sizeof memory->entry[slot].host);
	memcpy(memory->entry[slot].host, host, strlen(host));
	memory->entry[slot].until = now + MXDELIV_SMTP_ONLY_SECONDS;
}
