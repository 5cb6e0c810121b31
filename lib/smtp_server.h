/* The server side of an SMTP session as an explicit state machine over input bytes: no I/O.
 * The caller reads, hands bytes in, writes the reply, and decides MAIL and message fates. */
#ifndef CHATMAIL_SMTP_SERVER_H
#define CHATMAIL_SMTP_SERVER_H

#include "smtp.h"
#include "smtp_tx.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SMTP_SERVER_REPLY_MAX 1024
#define SMTP_HOSTNAME_MAX 255

enum smtp_state {
	SMTP_STATE_START, /* greeted, waiting for EHLO/HELO */
	SMTP_STATE_READY, /* EHLO/HELO done, no transaction */
	SMTP_STATE_MAIL,  /* MAIL accepted */
	SMTP_STATE_RCPT,  /* at least one RCPT accepted */
	SMTP_STATE_DATA,  /* receiving the message */
};

enum smtp_action {
	SMTP_ACTION_NONE,    /* nothing to say: read more input */
	SMTP_ACTION_REPLY,   /* send reply, go on */
	SMTP_ACTION_MAIL,    /* a well-formed MAIL in server->tx.mail: call smtp_server_mail_accept
			      * or smtp_server_refuse */
	SMTP_ACTION_RCPT,    /* a well-formed RCPT, the last of server->tx.recipients: call
			      * smtp_server_rcpt_accept or smtp_server_rcpt_refuse */
	SMTP_ACTION_DATA,    /* send reply (354), then hand the following input in as before */
	SMTP_ACTION_MESSAGE, /* a whole, well-formed message in server->tx.data: decide, then call
			      * smtp_server_message_done */
	SMTP_ACTION_CLOSE,   /* send reply, then close the connection */
};

/* The session: the connection's state and replies; the transaction is tx. */
struct smtp_server {
	enum smtp_state state;
	char hostname[SMTP_HOSTNAME_MAX + 1];
	uint64_t max_message_size;
	unsigned errors; /* 5xx replies so far */
	bool skipping;	 /* inside a command line beyond SMTP_LINE_MAX */
	struct smtp_tx tx;
	char reply[SMTP_SERVER_REPLY_MAX];
	size_t reply_len;
};

/* Starts a session; server->reply then holds the 220 greeting. */
void smtp_server_init(struct smtp_server *server, const char *hostname, uint64_t max_message_size);
void smtp_server_free(struct smtp_server *server);

/* Takes input from buf[0..len): at most one command line, or DATA bytes. Sets *consumed
 * (which may be less than len: call again with the rest) and says what to do next. */
enum smtp_action smtp_server_input(struct smtp_server *server, const char *buf, size_t len,
				   size_t *consumed);

/* After SMTP_ACTION_MAIL: the transaction starts (250). */
void smtp_server_mail_accept(struct smtp_server *server);

/* After SMTP_ACTION_MAIL: refuse with code and text ("5.1.7 Bad sender"); nothing changes. */
void smtp_server_refuse(struct smtp_server *server, int code, const char *text);

/* After SMTP_ACTION_RCPT: the recipient is taken (250), or refused with code and text and
 * dropped from the transaction. */
void smtp_server_rcpt_accept(struct smtp_server *server);
void smtp_server_rcpt_refuse(struct smtp_server *server, int code, const char *text);

/* After SMTP_ACTION_MESSAGE: reply with the message's fate and end the transaction. */
void smtp_server_message_done(struct smtp_server *server, int code, const char *text,
			      size_t text_len);

/* The peer stayed silent too long: a 421 reply to send before closing. */
void smtp_server_timeout(struct smtp_server *server);

#endif
