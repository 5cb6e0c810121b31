/* POST /mxdeliv (SPEC §5b), relay-to-relay delivery over HTTPS: the envelope in X-Mail-From and
 * X-Mail-To header fields, the message as the body. Pure: what the receiver (cgi/mxdeliv.c) and
 * the sender (filters/mxdeliv-send.c) read and write of the request, and what its answer means. */
#ifndef CHATMAIL_MXDELIV_H
#define CHATMAIL_MXDELIV_H
#include "smtp_tx.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Answers (SPEC §5b). */
#define MXDELIV_HTTP_OK 200		  /* body: the SMTP reply of the accepting server */
#define MXDELIV_HTTP_REFUSED 400	  /* body: the SMTP refusal ("550 5.1.1 ...") */
#define MXDELIV_HTTP_METHOD_NOT_ALLOWED 405 /* anything but POST */
#define MXDELIV_HTTP_TOO_LARGE 413	  /* a body over max_message_size */
#define MXDELIV_HTTP_INTERNAL_ERROR 500	  /* the receiver cannot work (its chatmail.ini) */

/* One X-Mail-From or X-Mail-To value as the receiver accepts it: a few addresses of a header
 * line (nginx's large_client_header_buffers holds 8k). */
#define MXDELIV_HEADER_VALUE_MAX 8192

/* X-Mail-From: value (NULL when the field is absent: the empty sender <>) becomes tx->mail and
 * tx->sender. 0, or -1 when it is not one address. */
int mxdeliv_sender(struct smtp_tx *tx, const char *value, size_t len);

/* One X-Mail-To: value adds its recipients to tx: one address, or several joined by ",", which
 * is how nginx 1.23 and later pass repeated header lines. Each may be written <a@b>. 0, or -1
 * when an address is malformed or longer than SMTP_ADDRESS_MAX, or past SMTP_RECIPIENT_LIMIT
 * or out of memory (tx then holds what came before). */
int mxdeliv_recipients(struct smtp_tx *tx, const char *value, size_t len);

/* A CONTENT_LENGTH value: 0 with *length set, 1 when over max, -1 when not a decimal number. */
int mxdeliv_content_length(const char *value, size_t max, size_t *length);

/* The body with CRLF line ends, as the reinject port wants it: a bare LF becomes CRLF. out has
 * room for mxdeliv_crlf_size(in, len) bytes; returns the bytes written. */
size_t mxdeliv_crlf_size(const char *in, size_t len);
size_t mxdeliv_crlf(const char *in, size_t len, char *out);

/* The HTTP status that carries an SMTP reply code. */
int mxdeliv_http_status(int smtp_code);

/* The sender's side: whether an answer means the peer took the message (any 2xx). */
bool mxdeliv_accepted(int http_status);

/* Whether a failed POST says the host has no /mxdeliv, so that it gets mail by SMTP only for a
 * while: no answer, or any answer but the refusals of a working /mxdeliv (400 with an SMTP
 * reply, 413 over its size limit), which SMTP will repeat or overcome with the same message. */
bool mxdeliv_host_lacks_it(int http_status);

/* Whether the certificate of a recipient domain's host is verified: not for an address literal
 * ("[192.0.2.1]") nor a domain starting with "_" (test set-ups), as the reference relay does. */
bool mxdeliv_verify(const char *domain);

/* https://HOST/mxdeliv into url (HOST bracketed when it is an IPv6 literal); 0, or -1 when it
 * does not fit or HOST is empty. */
int mxdeliv_url(const char *host, char *url, size_t size);

/* The hosts that needed SMTP, remembered for MXDELIV_SMTP_ONLY_SECONDS (SPEC §5b): a fixed
 * table, the file state_dir/MXDELIV_MEMORY_FILE as it is in memory. A full table forgets the
 * host whose time ends first. */
#define MXDELIV_SMTP_ONLY_SECONDS (30 * 60)
#define MXDELIV_MEMORY_HOSTS 256
#define MXDELIV_HOST_MAX 255
#define MXDELIV_MEMORY_FILE "mxdeliv-smtp-only"
struct mxdeliv_memory {
	struct {
		int64_t until; /* 0: a free slot */
		char host[MXDELIV_HOST_MAX + 1];
	} entry[MXDELIV_MEMORY_HOSTS];
};
bool mxdeliv_memory_smtp_only(const struct mxdeliv_memory *memory, const char *host, int64_t now);
void mxdeliv_memory_remember(struct mxdeliv_memory *memory, const char *host, int64_t now);
#endif
