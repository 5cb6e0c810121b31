/* One HTTP/1.1 POST over TLS (OpenSSL) or plain TCP, one request per connection, every wait
 * bounded by one deadline: what /mxdeliv delivery and push notifications send. The URL and
 * answer parsers are pure functions (unit-tested and fuzzed); I/O lives in http_post. */
#ifndef CHATMAIL_HTTP_CLIENT_H
#define CHATMAIL_HTTP_CLIENT_H

#include <stddef.h>

struct http_request {
	const char *url;	    /* "https://host[:port]/path" or "http://…"; host may be an
				       IPv4 literal or "[v6]" */
	int verify;		    /* 1: verify the chain (system CAs; SSL_CERT_FILE and SSL_CERT_DIR
				       honoured) and the host name; 0: no verification */
	const char *const *headers; /* extra "Name: value" lines without CRLF, may be NULL */
	size_t header_count;
	const char *body;
	size_t body_len;
	int timeout_ms; /* the whole exchange: connect, TLS, request and answer */
};

/* The part of an answer's body that is kept; a longer body is cut and flagged. */
#define HTTP_BODY_MAX 4096
/* An answer's status line and header fields must fit in this. */
#define HTTP_HEAD_MAX 16384

struct http_response {
	int status; /* 100..599, or 0 when no valid answer was read */
	char body[HTTP_BODY_MAX + 1]; /* NUL-terminated, cut at HTTP_BODY_MAX */
	size_t body_len;
	int body_truncated;
	char error[256]; /* when status is 0: connect, TLS, verify, timeout or syntax */
};

/* Sends the request and reads the answer. Returns 0 when an HTTP answer was read (whatever
 * its status), -1 otherwise (response->error says why, status is 0). */
int http_post(const struct http_request *request, struct http_response *response);

struct http_url {
	int tls;
	char host[256]; /* without the brackets of an IPv6 literal */
	char port[6];
	char path[1024]; /* from the first '/', "/" when the URL has none */
};

/* Splits "http[s]://host[:port][/path]". Returns 0, or -1 for anything else (userinfo, a
 * fragment, spaces or control bytes, an empty host, a port outside 1..65535, too long). */
int http_url_parse(const char *url, struct http_url *out);

enum http_parse { HTTP_PARSE_DONE, HTTP_PARSE_MORE, HTTP_PARSE_BAD };

/* Parses the answer in buf[0..len): status line, header fields, and the body framed by
 * Content-Length, chunked transfer coding, or the end of the connection (closed: no more bytes
 * will come). Fills status and body (cut at HTTP_BODY_MAX, which is enough to end the parse).
 * HTTP_PARSE_MORE: the answer is incomplete and the connection still open. */
enum http_parse http_response_parse(const char *buf, size_t len, int closed,
				    struct http_response *out);

#endif
