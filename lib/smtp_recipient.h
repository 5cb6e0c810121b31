/* What incoming filtering needs to know about a recipient's maildir: whether it asked for
 * end-to-end encryption (the file enforceE2EEincoming), looked up without leaving
 * mailboxes_dir. */
#ifndef CHATMAIL_SMTP_RECIPIENT_H
#define CHATMAIL_SMTP_RECIPIENT_H

#include <stdbool.h>
#include <stddef.h>

#define SMTP_RECIPIENT_ENFORCE_FILE "enforceE2EEincoming"

/* True when addr[0..len) can name one directory below mailboxes_dir: not empty, at most
 * SMTP_ADDRESS_MAX bytes, no '/', no control byte, not "." or "..". */
bool smtp_recipient_safe_name(const char *addr, size_t len);

/* Sets *enforce to whether mailboxes_dir/<addr lower-cased>/enforceE2EEincoming exists. A
 * recipient without a maildir is not enforced. The maildir is never reached through a
 * symbolic link. Returns 0, or -1 (errno set) when it cannot tell: an unsafe name, an
 * unreadable or linked directory. */
int smtp_recipient_enforces_e2ee(const char *mailboxes_dir, const char *addr, bool *enforce);

#endif
