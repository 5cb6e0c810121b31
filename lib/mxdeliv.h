/* POST /mxdeliv (SPEC §5b), relay-to-relay delivery over HTTPS: the envelope in X-Mail-From and
 * X-Mail-To header fields, the message as the body. Pure: what the receiver (cgi/mxdeliv.c) and
 * the sender (filters/mxdeliv-send.c) read and write of the request, and what its answer means. */
#ifndef CHATMAIL_MXDELIV_H
#define CHATMAIL_MXDELIV_H
#include "smtp_tx.h"
#include <stdbool.h>
#include <stddef.h>

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
#endif
