/* SMTP pieces shared by filtermail's server and client sides: limits, reply codes, line,
 * command, path and reply parsing, dot-stuffing. Pure functions over (buf, len). */
#ifndef CHATMAIL_SMTP_H
#define CHATMAIL_SMTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A command line with its CRLF (RFC 5321 4.5.3.1.4 allows 512; extensions make it longer). */
#define SMTP_LINE_MAX 1000
/* A path with its <> (RFC 5321 4.5.3.1.3), so an address has at most 254 octets. */
#define SMTP_PATH_MAX 256
#define SMTP_ADDRESS_MAX (SMTP_PATH_MAX - 2)
/* A text line of DATA. RFC 5321 says 1000, but Postfix passes longer lines from its client
 * through and real mail carries them; far beyond that (a 1 MB line) the message is refused. */
#define SMTP_DATA_LINE_MAX 65536
/* Recipients per message, like Postfix smtpd_recipient_limit. */
#define SMTP_RECIPIENT_LIMIT 1000
/* Errors per session before the server hangs up, like Postfix smtpd_hard_error_limit. */
#define SMTP_ERROR_LIMIT 20
/* Seconds a peer may stay silent, like Postfix smtpd_timeout. */
#define SMTP_TIMEOUT_SECONDS 300
/* Text of one reply line we keep from a peer (RFC 5321 4.5.3.1.5 says 512 with the code). */
#define SMTP_REPLY_TEXT_MAX 512
/* One XFORWARD attribute value, xtext-encoded (Postfix keeps a whole command under 512). */
#define SMTP_XFORWARD_VALUE_MAX 255

/* Reply codes (RFC 5321 4.2.3, RFC 3156-era 523 from the reference relay). */
#define SMTP_REPLY_READY 220		 /* greeting */
#define SMTP_REPLY_CLOSING 221		 /* answer to QUIT */
#define SMTP_REPLY_OK 250		 /* requested action done */
#define SMTP_REPLY_START_DATA 354	 /* send the message, end with <CRLF>.<CRLF> */
#define SMTP_REPLY_UNAVAILABLE 421	 /* closing the channel: timeout, too many errors */
#define SMTP_REPLY_RATE_LIMITED 450	 /* sender over its rate, try later */
#define SMTP_REPLY_LOCAL_ERROR 451	 /* our trouble or the downstream's: try later */
#define SMTP_REPLY_TOO_MANY 452		 /* too many recipients: the rest later */
#define SMTP_REPLY_SYNTAX 500		 /* command unrecognized or line malformed */
#define SMTP_REPLY_ARGUMENT_SYNTAX 501	 /* bad parameters or arguments */
#define SMTP_REPLY_NOT_IMPLEMENTED 502	 /* command not implemented */
#define SMTP_REPLY_BAD_SEQUENCE 503	 /* command out of order */
#define SMTP_REPLY_ENCRYPTION_NEEDED 523 /* the reference relay's refusal of cleartext */
#define SMTP_REPLY_MAILBOX_UNAVAILABLE 550 /* no such user here */
#define SMTP_REPLY_TOO_BIG 552		 /* exceeded storage allocation (message size) */
#define SMTP_REPLY_MAILBOX_NAME 553	 /* mailbox name not allowed (a sender spelling) */
#define SMTP_REPLY_FAILED 554		 /* transaction failed (bad content, no recipients) */
#define SMTP_REPLY_BAD_PARAMETER 555	 /* MAIL/RCPT parameter not recognized */

/* One line found in an input buffer. */
enum smtp_line_status {
	SMTP_LINE_OK,	    /* a line ending in CRLF */
	SMTP_LINE_MORE,	    /* no line end yet and still within the bound: read more */
	SMTP_LINE_BARE_LF,  /* a line ending in LF without CR */
	SMTP_LINE_NUL,	    /* a line (CRLF or not) holding a NUL byte */
	SMTP_LINE_TOO_LONG, /* max bytes without a line end: consumed is all of it */
};

/* Looks for the next line in buf[0..len), at most max bytes with its line end. On a complete
 * line, *line_len excludes the line end and *consumed includes it. */
enum smtp_line_status smtp_line_find(const char *buf, size_t len, size_t max, size_t *line_len,
				     size_t *consumed);

enum smtp_verb {
	SMTP_VERB_UNKNOWN,
	SMTP_VERB_EHLO,
	SMTP_VERB_HELO,
	SMTP_VERB_MAIL,
	SMTP_VERB_RCPT,
	SMTP_VERB_DATA,
	SMTP_VERB_RSET,
	SMTP_VERB_NOOP,
	SMTP_VERB_QUIT,
	SMTP_VERB_XFORWARD,
	SMTP_VERB_VRFY,
	SMTP_VERB_HELP,
};

struct smtp_command {
	enum smtp_verb verb;
	const char *arg; /* points into the line; spaces around it trimmed */
	size_t arg_len;
};

/* Splits a command line (without CRLF) into its verb (case-insensitive) and argument. */
void smtp_command_parse(const char *line, size_t len, struct smtp_command *command);

enum smtp_path_status {
	SMTP_PATH_OK,
	SMTP_PATH_SYNTAX,    /* not "FROM:<path>" / "TO:<path>" */
	SMTP_PATH_TOO_LONG,  /* the address exceeds SMTP_ADDRESS_MAX */
	SMTP_PATH_PARAMETER, /* a parameter we cannot honour (BODY=BINARYMIME, bad SIZE) */
};

/* MAIL FROM and RCPT TO with the parameters the filter acts on. */
struct smtp_path {
	char address[SMTP_ADDRESS_MAX + 1]; /* without <>, source route dropped; "" for <> */
	size_t address_len;
	bool has_size;
	uint64_t size;	/* SIZE= */
	bool body_8bit; /* BODY=8BITMIME */
	bool smtputf8;	/* SMTPUTF8 */
};

/* Parses the argument of MAIL ("FROM:<a@b> SIZE=10") or RCPT ("TO:<a@b>"). Tolerates what
 * Postfix's smtpd accepts and passes through to a proxy filter: spaces after the colon, a
 * path without <>, and parameters we do not know (ignored). */
enum smtp_path_status smtp_parse_mail(const char *arg, size_t len, struct smtp_path *path);
enum smtp_path_status smtp_parse_rcpt(const char *arg, size_t len, struct smtp_path *path);

/* The XFORWARD attributes Postfix's smtpd_proxy_filter client sends. */
enum smtp_xforward_attribute {
	SMTP_XFORWARD_NAME,
	SMTP_XFORWARD_ADDR,
	SMTP_XFORWARD_PORT,
	SMTP_XFORWARD_PROTO,
	SMTP_XFORWARD_HELO,
	SMTP_XFORWARD_IDENT,
	SMTP_XFORWARD_SOURCE,
	SMTP_XFORWARD_COUNT,
};

struct smtp_xforward {
	bool present[SMTP_XFORWARD_COUNT];
	char value[SMTP_XFORWARD_COUNT][SMTP_XFORWARD_VALUE_MAX + 1]; /* still xtext-encoded */
};

/* "NAME ADDR PORT PROTO HELO IDENT SOURCE": what an EHLO reply offers after XFORWARD. */
extern const char *const smtp_xforward_names[SMTP_XFORWARD_COUNT];

/* Adds the attributes of one XFORWARD argument ("NAME=x ADDR=1.2.3.4") to xforward, each value
 * cut to SMTP_XFORWARD_VALUE_MAX (never inside an xtext escape). All or nothing: returns 0, or
 * -1 (xforward unchanged) on an unknown name or a malformed value. */
int smtp_parse_xforward(const char *arg, size_t len, struct smtp_xforward *xforward);

/* One reply line as a client reads it: "250-text" or "250 text". */
struct smtp_reply_line {
	int code;  /* 200..599 */
	bool more; /* '-': more lines follow */
	const char *text;
	size_t text_len;
};

/* Parses a reply line (without CRLF). Returns 0, or -1 when it is not "ddd", "ddd text" or
 * "ddd-text" with a code from 200 to 599. */
int smtp_reply_parse(const char *line, size_t len, struct smtp_reply_line *reply);

/* True when an EHLO reply line's text (after "250-") announces keyword (case-insensitive);
 * *params then points to what follows the keyword. */
bool smtp_ehlo_keyword(const char *text, size_t len, const char *keyword, const char **params,
		       size_t *params_len);

/* Dot-stuffing for sending a message as DATA: a '.' at a line start goes out doubled. */
struct smtp_stuffer {
	bool line_start;
};

void smtp_stuffer_init(struct smtp_stuffer *stuffer);

/* Copies in[0..in_len) to out[0..out_size) stuffing dots, as far as out has room. Sets
 * *consumed to the input bytes taken and returns the bytes written. out_size must be >= 2. */
size_t smtp_stuff(struct smtp_stuffer *stuffer, const char *in, size_t in_len, char *out,
		  size_t out_size, size_t *consumed);

/* Writes "code text\r\n" (or "code-text\r\n" when more) to out. Returns the length, or 0 when
 * out is too small. Bytes of text that are not printable ASCII become '?'. */
size_t smtp_reply_format(char *out, size_t size, int code, bool more, const char *text,
			 size_t text_len);

#endif
