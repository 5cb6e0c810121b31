/* DKIM key lookups for libopendkim through the system resolver (libresolv), telling NXDOMAIN
 * (no key: the signature fails) from SERVFAIL and timeouts (try again later). */
#ifndef CHATMAIL_DKIM_RESOLVER_H
#define CHATMAIL_DKIM_RESOLVER_H

#include <opendkim/dkim.h>

/* Makes lib look keys up with our query functions over a resolver state read from
 * /etc/resolv.conf. nameserver ("IPv4:port", or NULL) replaces its servers; timeout (seconds,
 * or 0) replaces its timeout and makes one attempt. Returns 0, or -1 with *error set. */
int dkim_resolver_install(DKIM_LIB *lib, const char *nameserver, unsigned timeout,
			  const char **error);

#endif
