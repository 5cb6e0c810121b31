/* Dovecot's auth cache, flushed for one address through the auth master socket that
 * conf/dovecot/dovecot.conf puts below state_dir, so a deleted account gets no more mail. */
#ifndef CHATMAIL_AUTHCACHE_H
#define CHATMAIL_AUTHCACHE_H

#include <stddef.h>

/* The socket below state_dir; its "-master" ending gives it Dovecot's master protocol. */
#define AUTHCACHE_SOCKET "dovecot-auth-master"
#define AUTHCACHE_TIMEOUT_MS 5000
#define AUTHCACHE_REPLY_MAX 1024

enum authcache_result {
	AUTHCACHE_FLUSHED,
	AUTHCACHE_NO_DOVECOT, /* nothing listens there, so nothing is cached */
	AUTHCACHE_FAILED,     /* logged */
};

/* Asks Dovecot to forget what its auth cache holds for user (passdb and userdb). */
enum authcache_result authcache_flush(const char *state_dir, const char *user);

/* Dovecot's answer buf[0..len) to "CACHE-FLUSH\t1\t...": 1 once it holds the line
 * "OK\t1\t<count>" (count set), 0 while more must be read, -1 for anything else. */
int authcache_parse_reply(const char *buf, size_t len, unsigned long *count);

#endif
