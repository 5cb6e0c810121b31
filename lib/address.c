/* Address validation: the rules of SPEC §2, byte by byte, no allocation. */
#include "address.h"

#include <string.h>

static bool is_localpart_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

enum address_status address_check(const struct config *config, const char *addr, size_t len)
{
	if (len == 0)
		return ADDRESS_EMPTY;
	if (len > MAILSTORE_ADDRESS_MAX)
		return ADDRESS_TOO_LONG;
	const char *at = memchr(addr, '@', len);
	if (at == NULL)
		return ADDRESS_NO_AT;
	if (memchr(at + 1, '@', len - (size_t)(at - addr) - 1) != NULL)
		return ADDRESS_MANY_AT;

	size_t local_len = (size_t)(at - addr), domain_len = len - local_len - 1;
	size_t ours = strlen(config->address_domain);
	if (domain_len != ours || memcmp(at + 1, config->address_domain, ours) != 0)
		return ADDRESS_FOREIGN_DOMAIN;
	if (local_len < config->username_min_length || local_len > config->username_max_length)
		return ADDRESS_LOCALPART_LENGTH;
	for (size_t i = 0; i < local_len; i++)
		if (!is_localpart_char(addr[i]))
			return ADDRESS_LOCALPART_CHARACTERS;
	/* The localpart names a directory: no ".", "..", hidden or dotted-up paths. */
	if (addr[0] == '.' || memmem(addr, local_len, "..", 2) != NULL)
		return ADDRESS_LOCALPART_CHARACTERS;
	return ADDRESS_OK;
}

const char *address_status_text(enum address_status status)
{
	switch (status) {
	case ADDRESS_OK: return "ok";
	case ADDRESS_EMPTY: return "empty address";
	case ADDRESS_TOO_LONG: return "address too long";
	case ADDRESS_NO_AT: return "address without '@'";
	case ADDRESS_MANY_AT: return "address with more than one '@'";
	case ADDRESS_FOREIGN_DOMAIN: return "domain is not this relay's";
	case ADDRESS_LOCALPART_LENGTH: return "localpart length out of bounds";
	case ADDRESS_LOCALPART_CHARACTERS: return "localpart has characters outside [a-z0-9._-]";
	}
	return "unknown";
}

/* Appends c lower-cased; false when out is full (one byte stays for the NUL). */
static bool put(char *out, size_t cap, size_t *n, char c)
{
	if (*n + 1 >= cap)
		return false;
	out[(*n)++] = c >= 'A' && c <= 'Z' ? (char)(c + ('a' - 'A')) : c;
	return true;
}

/* The local part at addr[0..len): quoted ("a\"b") or up to the last '@'. Returns where the
 * '@' after it is, or len when there is none. */
static size_t local_part(const char *addr, size_t len, char *out, size_t cap, size_t *n)
{
	size_t i = 0, at;
	if (len > 0 && addr[0] == '"') {
		for (i = 1; i < len && addr[i] != '"'; i++) {
			if (addr[i] == '\\' && i + 1 < len)
				i++;
			if (!put(out, cap, n, addr[i]))
				return len;
		}
		return i + 1 < len && addr[i + 1] == '@' ? i + 1 : len;
	}
	const char *last = NULL;
	for (at = 0; at < len; at++)
		if (addr[at] == '@')
			last = addr + at;
	if (last == NULL)
		return len;
	at = (size_t)(last - addr);
	for (; i < at; i++)
		if (!put(out, cap, n, addr[i]))
			return len;
	return at;
}

int address_canonical(const char *addr, size_t len, char *out, size_t cap)
{
	size_t n = 0;
	size_t at = local_part(addr, len, out, cap, &n);
	if (at >= len)
		return -1;
	char *delimiter = memchr(out, ADDRESS_DELIMITER[0], n);
	if (delimiter != NULL)
		n = (size_t)(delimiter - out);
	size_t end = len;
	if (end > at + 1 && addr[end - 1] == '.')
		end--;
	for (size_t i = at; i < end; i++)
		if (!put(out, cap, &n, addr[i]))
			return -1;
	out[n] = '\0';
	return (int)n;
}
