/* libopendkim's own stub resolver asks with res_nquery, which answers NXDOMAIN and SERVFAIL
 * alike (-1), so a missing key would only ever defer. We send the query ourselves and hand
 * libopendkim the reply: NOERROR and NXDOMAIN go on to its parser (no TXT record, or no name:
 * "no key"), anything else is a failure for now. */
#include "dkim_resolver.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netinet/in.h>
#include <resolv.h>

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* The one thing a finished query hands from query_start to query_wait. */
struct reply {
	size_t len;
};

static int query_start(void *service, int type, unsigned char *name, unsigned char *buf,
		       size_t buflen, void **handle)
{
	res_state state = service;
	unsigned char query[NS_PACKETSZ];
	HEADER header;
	struct reply *reply;
	int query_len, len;

	query_len = res_nmkquery(state, ns_o_query, (const char *)name, ns_c_in, type, NULL, 0,
				 NULL, query, sizeof query);
	if (query_len < 0)
		return DKIM_DNS_ERROR;
	/* Timeouts, unreachable servers and SERVFAIL from every server all come back as -1. */
	len = res_nsend(state, query, query_len, buf, buflen > INT_MAX ? INT_MAX : (int)buflen);
	if (len < (int)sizeof header)
		return DKIM_DNS_ERROR;
	memcpy(&header, buf, sizeof header);
	if (header.rcode != ns_r_noerror && header.rcode != ns_r_nxdomain)
		return DKIM_DNS_ERROR;
	reply = malloc(sizeof *reply);
	if (reply == NULL)
		return DKIM_DNS_ERROR;
	reply->len = (size_t)len;
	*handle = reply;
	return DKIM_DNS_SUCCESS;
}

/* res_nsend is synchronous: the reply is there once query_start returned. */
static int query_wait(void *service, void *handle, struct timeval *timeout, size_t *bytes,
		      int *error, int *dnssec)
{
	const struct reply *reply = handle;
	(void)service;
	(void)timeout;
	if (bytes != NULL)
		*bytes = reply->len;
	if (error != NULL)
		*error = 0;
	if (dnssec != NULL)
		*dnssec = DKIM_DNSSEC_UNKNOWN;
	return DKIM_DNS_SUCCESS;
}

static int query_cancel(void *service, void *handle)
{
	(void)service;
	free(handle);
	return 0;
}

static void resolver_close(void *service)
{
	res_nclose(service);
	free(service);
}

/* "IPv4:port" into the resolver's one server. */
static int set_nameserver(res_state state, const char *nameserver)
{
	char host[INET_ADDRSTRLEN];
	struct sockaddr_in address = {.sin_family = AF_INET};
	const char *colon = strrchr(nameserver, ':');
	char *end;
	unsigned long port;

	if (colon == NULL || (size_t)(colon - nameserver) >= sizeof host)
		return -1;
	memcpy(host, nameserver, (size_t)(colon - nameserver));
	host[colon - nameserver] = '\0';
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (inet_pton(AF_INET, host, &address.sin_addr) != 1 || errno != 0 || *end != '\0' ||
	    end == colon + 1 || port == 0 || port > 65535)
		return -1;
	address.sin_port = htons((unsigned short)port);
	state->nsaddr_list[0] = address;
	state->nscount = 1;
	return 0;
}

int dkim_resolver_install(DKIM_LIB *lib, const char *nameserver, unsigned timeout,
			  const char **error)
{
	res_state state = calloc(1, sizeof *state);
	if (state == NULL) {
		*error = "out of memory";
		return -1;
	}
	if (res_ninit(state) != 0) {
		free(state);
		*error = "cannot set up the resolver (/etc/resolv.conf)";
		return -1;
	}
	if (nameserver != NULL && set_nameserver(state, nameserver) != 0) {
		resolver_close(state);
		*error = "nameserver is not IPv4:port";
		return -1;
	}
	if (timeout > 0) {
		state->retrans = timeout > INT_MAX ? INT_MAX : (int)timeout;
		state->retry = 1;
	}
	dkim_dns_set_init(lib, NULL);
	dkim_dns_set_query_service(lib, state);
	dkim_dns_set_query_start(lib, query_start);
	dkim_dns_set_query_waitreply(lib, query_wait);
	dkim_dns_set_query_cancel(lib, query_cancel);
	dkim_dns_set_close(lib, resolver_close);
	return 0;
}
