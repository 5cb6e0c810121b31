/* The SMTP client that hands one accepted message to Postfix's reinject port, whole or not at
 * all, and brings back the answer for the filter's own client. */
#ifndef CHATMAIL_SMTP_CLIENT_H
#define CHATMAIL_SMTP_CLIENT_H

#include "smtp.h"
#include "smtp_tx.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Seconds for the whole hand-over: below Postfix's smtpd_proxy_timeout (100 s by default), so
 * the filter answers before Postfix gives up on it. */
#define SMTP_CLIENT_TIME_LIMIT 90
/* A reply line we read from the downstream, and the lines of one reply (EHLO has ~15). */
#define SMTP_CLIENT_LINE_MAX 2048
#define SMTP_CLIENT_REPLY_LINES_MAX 100

struct smtp_client_request {
	uint16_t port;		    /* on 127.0.0.1 */
	const char *source_address; /* an IPv4 address to connect from, or NULL */
	const char *helo;
	/* The envelope, the XFORWARD attributes (passed on when the downstream offers XFORWARD)
	 * and the message (dot-stuffing undone, CRLF line ends). */
	const struct smtp_tx *tx;
	bool null_sender; /* MAIL FROM:<> instead of the transaction's sender */
	int time_limit;	  /* seconds */
};

struct smtp_client_answer {
	int code; /* what the filter answers its client */
	char text[SMTP_REPLY_TEXT_MAX + 1];
	size_t text_len;
	bool accepted; /* the downstream took the message (2xx after the final dot) */
};

/* Relays the message. Any downstream trouble before its final reply is a 451 4.3.0 answer;
 * its own 4xx/5xx replies are passed back as they came. Logs failures. */
void smtp_client_relay(const struct smtp_client_request *request,
		       struct smtp_client_answer *answer);

#endif
