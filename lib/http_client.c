/* One HTTP/1.1 POST with a bounded answer: URL and answer parsing (pure), then the exchange
 * over TCP or OpenSSL with one deadline for every wait. */
#include "http_client.h"

#include <errno.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int is_host_char(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' ||
	       c == '.' || c == '_';
}

static int is_v6_char(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':' ||
	       c == '.';
}

static int copy_span(char *out, size_t cap, const char *start, size_t len)
{
	if (len >= cap)
		return -1;
	memcpy(out, start, len);
	out[len] = '\0';
	return 0;
}

int http_url_parse(const char *url, struct http_url *out)
{
	memset(out, 0, sizeof(*out));
	for (const char *p = url; *p; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f || *p == '#')
			return -1;
	const char *rest;
	if (strncasecmp(url, "https://", 8) == 0) {
		out->tls = 1;
		rest = url + 8;
	} else if (strncasecmp(url, "http://", 7) == 0) {
		rest = url + 7;
	} else {
		return -1;
	}
	size_t authority = strcspn(rest, "/?");
	const char *path = rest + authority;
	if (memchr(rest, '@', authority) != NULL)
		return -1;
	const char *host = rest, *host_end, *port = NULL;
	if (*rest == '[') {
		host = rest + 1;
		host_end = memchr(host, ']', authority - 1);
		if (host_end == NULL)
			return -1;
		for (const char *p = host; p < host_end; p++)
			if (!is_v6_char(*p))
				return -1;
		if (host_end + 1 < path) {
			if (host_end[1] != ':')
				return -1;
			port = host_end + 2;
		}
	} else {
		host_end = memchr(rest, ':', authority);
		if (host_end != NULL)
			port = host_end + 1;
		else
			host_end = path;
		for (const char *p = host; p < host_end; p++)
			if (!is_host_char(*p))
				return -1;
	}
	if (host_end == host || copy_span(out->host, sizeof(out->host), host, host_end - host) != 0)
		return -1;
	if (port == NULL) {
		strcpy(out->port, out->tls ? "443" : "80");
	} else {
		size_t digits = path - port;
		long value = 0;
		if (digits == 0 || digits > 5)
			return -1;
		for (size_t i = 0; i < digits; i++) {
			if (!is_digit(port[i]))
				return -1;
			value = value * 10 + (port[i] - '0');
		}
		if (value < 1 || value > 65535)
			return -1;
		snprintf(out->port, sizeof(out->port), "%ld", value);
	}
	if (*path == '\0')
		path = "/";
	if (*path == '?')
		return -1; /* a query needs a path before it */
	return copy_span(out->path, sizeof(out->path), path, strlen(path));
}

/* The position after the next CRLF in buf[pos..len), or 0 when there is none yet. */
static size_t line_end(const char *buf, size_t len, size_t pos)
{
	for (size_t i = pos; i + 1 < len; i++)
		if (buf[i] == '\r')
			return buf[i + 1] == '\n' ? i + 2 : 0;
		else if (buf[i] == '\n' || buf[i] == '\0')
			return 0;
	return 0;
}

static int is_token_char(char c)
{
	return (c > 0x20 && c < 0x7f) && strchr("()<>@,;:\\\"/[]?={}", c) == NULL;
}

struct head {
	size_t end; /* where the body starts */
	int status;
	int chunked;
	long long content_length; /* -1: none */
};

/* One field line "name: value" (no CRLF) into head. Returns 0, or -1 when it is malformed or
 * frames the body in a way we do not read. */
static int head_field(const char *line, size_t len, struct head *head)
{
	size_t name = 0;
	while (name < len && is_token_char(line[name]))
		name++;
	if (name == 0 || name == len || line[name] != ':')
		return -1;
	const char *value = line + name + 1;
	size_t value_len = len - name - 1;
	while (value_len > 0 && (*value == ' ' || *value == '\t'))
		value++, value_len--;
	while (value_len > 0 && (value[value_len - 1] == ' ' || value[value_len - 1] == '\t'))
		value_len--;
	for (size_t i = 0; i < value_len; i++)
		if ((unsigned char)value[i] < 0x20 && value[i] != '\t')
			return -1;
	if (name == 14 && strncasecmp(line, "Content-Length", 14) == 0) {
		long long n = 0;
		if (value_len == 0 || value_len > 15 || head->content_length >= 0)
			return -1;
		for (size_t i = 0; i < value_len; i++) {
			if (!is_digit(value[i]))
				return -1;
			n = n * 10 + (value[i] - '0');
		}
		head->content_length = n;
	} else if (name == 17 && strncasecmp(line, "Transfer-Encoding", 17) == 0) {
		if (value_len != 7 || strncasecmp(value, "chunked", 7) != 0 || head->chunked)
			return -1;
		head->chunked = 1;
	}
	return 0;
}

/* The status line and fields from pos. Returns HTTP_PARSE_DONE with head filled. */
static enum http_parse parse_head(const char *buf, size_t len, size_t pos, struct head *head)
{
	memset(head, 0, sizeof(*head));
	head->content_length = -1;
	size_t next = line_end(buf, len, pos);
	if (next == 0)
		return len - pos >= HTTP_HEAD_MAX || memchr(buf + pos, '\n', len - pos) ? HTTP_PARSE_BAD
											: HTTP_PARSE_MORE;
	const char *line = buf + pos;
	size_t line_len = next - 2 - pos;
	if (line_len < 12 || memcmp(line, "HTTP/1.", 7) != 0 || (line[7] != '0' && line[7] != '1') ||
	    line[8] != ' ' || !is_digit(line[9]) || !is_digit(line[10]) || !is_digit(line[11]) ||
	    (line_len > 12 && line[12] != ' '))
		return HTTP_PARSE_BAD;
	head->status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
	if (head->status < 100 || head->status > 599)
		return HTTP_PARSE_BAD;
	for (pos = next;;) {
		if (pos - (size_t)(line - buf) > HTTP_HEAD_MAX)
			return HTTP_PARSE_BAD;
		next = line_end(buf, len, pos);
		if (next == 0) {
			if (len - pos >= HTTP_HEAD_MAX || memchr(buf + pos, '\n', len - pos) ||
			    memchr(buf + pos, '\0', len - pos))
				return HTTP_PARSE_BAD;
			return HTTP_PARSE_MORE;
		}
		if (next == pos + 2)
			break;
		if (head_field(buf + pos, next - 2 - pos, head) != 0)
			return HTTP_PARSE_BAD;
		pos = next;
	}
	if (head->chunked && head->content_length >= 0)
		return HTTP_PARSE_BAD; /* RFC 9112 6.1: a request smuggling signal, never guessed at */
	head->end = next;
	return HTTP_PARSE_DONE;
}

static void body_append(struct http_response *out, const char *data, size_t len)
{
	size_t room = HTTP_BODY_MAX - out->body_len;
	if (len > room) {
		len = room;
		out->body_truncated = 1;
	}
	memcpy(out->body + out->body_len, data, len);
	out->body_len += len;
	out->body[out->body_len] = '\0';
}

static enum http_parse parse_chunked(const char *buf, size_t len, size_t pos, int closed,
				     struct http_response *out)
{
	enum http_parse more = closed ? HTTP_PARSE_BAD : HTTP_PARSE_MORE;
	for (;;) {
		size_t next = line_end(buf, len, pos);
		if (next == 0)
			return len - pos > 1024 ? HTTP_PARSE_BAD : more;
		size_t size = 0, digits = 0;
		for (; pos + digits < next - 2; digits++) {
			char c = buf[pos + digits];
			int value = is_digit(c) ? c - '0'
				    : (c >= 'a' && c <= 'f') ? c - 'a' + 10
				    : (c >= 'A' && c <= 'F') ? c - 'A' + 10
							     : -1;
			if (value < 0)
				break;
			if (digits >= 8)
				return HTTP_PARSE_BAD;
			size = size * 16 + (size_t)value;
		}
		if (digits == 0 || (pos + digits < next - 2 && buf[pos + digits] != ';'))
			return HTTP_PARSE_BAD;
		if (size == 0)
			return HTTP_PARSE_DONE; /* trailer fields, if any, are not needed */
		pos = next;
		size_t available = len - pos < size ? len - pos : size;
		body_append(out, buf + pos, available);
		if (out->body_truncated)
			return HTTP_PARSE_DONE;
		if (available < size || len - pos - size < 2)
			return more;
		if (buf[pos + size] != '\r' || buf[pos + size + 1] != '\n')
			return HTTP_PARSE_BAD;
		pos += size + 2;
	}
}

enum http_parse http_response_parse(const char *buf, size_t len, int closed,
				    struct http_response *out)
{
	out->status = 0;
	out->body_len = 0;
	out->body[0] = '\0';
	out->body_truncated = 0;
	struct head head;
	size_t pos = 0;
	for (;;) {
		enum http_parse parsed = parse_head(buf, len, pos, &head);
		if (parsed != HTTP_PARSE_DONE)
			return parsed == HTTP_PARSE_MORE && closed ? HTTP_PARSE_BAD : parsed;
		if (head.status >= 200 || head.status == 101)
			break;
		pos = head.end; /* an interim answer (100 Continue): the real one follows */
	}
	if (head.status == 101)
		return HTTP_PARSE_BAD; /* we never asked to switch protocols */
	out->status = head.status;
	if (head.status == 204 || head.status == 304)
		return HTTP_PARSE_DONE;
	const char *body = buf + head.end;
	size_t available = len - head.end;
	if (head.chunked)
		return parse_chunked(buf, len, head.end, closed, out);
	if (head.content_length >= 0) {
		size_t want = (unsigned long long)head.content_length < available
				      ? (size_t)head.content_length
				      : available;
		body_append(out, body, want);
		if ((long long)available >= head.content_length || out->body_truncated)
			return HTTP_PARSE_DONE;
	} else {
		body_append(out, body, available);
		if (closed || out->body_truncated)
			return HTTP_PARSE_DONE;
	}
	if (closed) {
		out->status = 0;
		return HTTP_PARSE_BAD; /* the connection ended inside the announced body */
	}
	return HTTP_PARSE_MORE;
}

/* ---- the exchange ---- */

struct connection {
	int fd;
	SSL *ssl;
	long long deadline_ms;
	struct http_response *response;
};

static long long now_ms(void)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

static int fail(struct http_response *response, const char *what, const char *detail)
{
	response->status = 0;
	snprintf(response->error, sizeof(response->error), "%s%s%s", what, detail ? ": " : "",
		 detail ? detail : "");
	return -1;
}

/* Waits until fd is ready for events before the deadline. */
static int wait_ready(struct connection *c, short events)
{
	for (;;) {
		long long left = c->deadline_ms - now_ms();
		if (left <= 0)
			return fail(c->response, "timeout", NULL);
		struct pollfd p = {.fd = c->fd, .events = events};
		int n = poll(&p, 1, (int)left);
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return fail(c->response, "poll", strerror(errno));
	}
}

static const char *tls_error(void)
{
	static char text[160];
	unsigned long code = ERR_get_error();
	if (code == 0)
		return "connection closed";
	ERR_error_string_n(code, text, sizeof(text));
	return text;
}

/* Retries an OpenSSL call that wants to read or write, within the deadline. result is what
 * the call returned; returns 1 to retry, 0 on success, -1 after a failure. */
static int tls_retry(struct connection *c, int result, const char *what)
{
	if (result > 0)
		return 0;
	int error = SSL_get_error(c->ssl, result);
	if (error == SSL_ERROR_WANT_READ)
		return wait_ready(c, POLLIN) == 0 ? 1 : -1;
	if (error == SSL_ERROR_WANT_WRITE)
		return wait_ready(c, POLLOUT) == 0 ? 1 : -1;
	if (error == SSL_ERROR_ZERO_RETURN)
		return fail(c->response, what, "connection closed");
	long verified = SSL_get_verify_result(c->ssl);
	if (verified != X509_V_OK)
		return fail(c->response, "certificate", X509_verify_cert_error_string(verified));
	return fail(c->response, what, tls_error());
}

static int send_all(struct connection *c, const char *data, size_t len)
{
	while (len > 0) {
		int chunk = len > 1 << 30 ? 1 << 30 : (int)len;
		ssize_t n;
		if (c->ssl) {
			int result = SSL_write(c->ssl, data, chunk);
			int retry = tls_retry(c, result, "TLS write");
			if (retry != 0) {
				if (retry < 0)
					return -1;
				continue;
			}
			n = result;
		} else {
			n = send(c->fd, data, (size_t)chunk, MSG_NOSIGNAL);
			if (n < 0) {
				if (errno == EAGAIN || errno == EINTR) {
					if (wait_ready(c, POLLOUT) != 0)
						return -1;
					continue;
				}
				return fail(c->response, "send", strerror(errno));
			}
		}
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Reads some bytes. Returns how many, 0 at the end of the answer, -1 on failure. */
static ssize_t receive_some(struct connection *c, char *buf, size_t cap)
{
	for (;;) {
		if (c->ssl) {
			int result = SSL_read(c->ssl, buf, (int)cap);
			if (result > 0)
				return result;
			int error = SSL_get_error(c->ssl, result);
			if (error == SSL_ERROR_ZERO_RETURN ||
			    (error == SSL_ERROR_SYSCALL && ERR_peek_error() == 0))
				return 0; /* closed, with or without close_notify: the parser decides */
			if (tls_retry(c, result, "TLS read") != 1)
				return -1;
			continue;
		}
		ssize_t n = recv(c->fd, buf, cap, 0);
		if (n >= 0)
			return n;
		if (errno != EAGAIN && errno != EINTR)
			return fail(c->response, "recv", strerror(errno));
		if (wait_ready(c, POLLIN) != 0)
			return -1;
	}
}

static int connect_to(struct connection *c, const struct http_url *url)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV};
	struct addrinfo *addresses;
	int error = getaddrinfo(url->host, url->port, &hints, &addresses);
	if (error != 0)
		return fail(c->response, "resolve", gai_strerror(error));
	const char *why = "no address";
	for (struct addrinfo *a = addresses; a != NULL; a = a->ai_next) {
		c->fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
			       a->ai_protocol);
		if (c->fd < 0)
			continue;
		int connected = connect(c->fd, a->ai_addr, a->ai_addrlen) == 0;
		if (!connected && errno == EINPROGRESS) {
			if (wait_ready(c, POLLOUT) != 0) {
				why = "timeout"; /* the deadline is spent: no other address */
				close(c->fd);
				c->fd = -1;
				break;
			}
			int status = 0;
			socklen_t size = sizeof(status);
			getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &status, &size);
			connected = status == 0;
			why = strerror(status);
		} else if (!connected) {
			why = strerror(errno);
		}
		if (connected) {
			freeaddrinfo(addresses);
			return 0;
		}
		close(c->fd);
		c->fd = -1;
	}
	freeaddrinfo(addresses);
	return fail(c->response, "connect", why);
}

static int tls_start(struct connection *c, SSL_CTX *context, const struct http_url *url,
		     int verify)
{
	SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION);
	if (verify) {
		if (SSL_CTX_set_default_verify_paths(context) != 1)
			return fail(c->response, "TLS", "no CA store");
		SSL_CTX_set_verify(context, SSL_VERIFY_PEER, NULL);
	}
	c->ssl = SSL_new(context);
	if (c->ssl == NULL || SSL_set_fd(c->ssl, c->fd) != 1)
		return fail(c->response, "TLS", tls_error());
	int literal = strchr(url->host, ':') != NULL ||
		      strspn(url->host, "0123456789.") == strlen(url->host);
	if (!literal)
		SSL_set_tlsext_host_name(c->ssl, url->host);
	if (verify) {
		X509_VERIFY_PARAM *param = SSL_get0_param(c->ssl);
		int named = literal ? X509_VERIFY_PARAM_set1_ip_asc(param, url->host)
				    : X509_VERIFY_PARAM_set1_host(param, url->host, 0);
		if (named != 1)
			return fail(c->response, "TLS", "bad host for verification");
	}
	for (;;) {
		int retry = tls_retry(c, SSL_connect(c->ssl), "TLS handshake");
		if (retry <= 0)
			return retry;
	}
}

/* The request's head: request line, Host, framing, the caller's fields. */
static int request_head(const struct http_request *request, const struct http_url *url,
			char *head, size_t cap, struct http_response *response)
{
	int bracket = strchr(url->host, ':') != NULL;
	int default_port = strcmp(url->port, url->tls ? "443" : "80") == 0;
	int n = snprintf(head, cap,
			 "POST %s HTTP/1.1\r\nHost: %s%s%s%s%s\r\nContent-Length: %zu\r\n"
			 "Connection: close\r\n",
			 url->path, bracket ? "[" : "", url->host, bracket ? "]" : "",
			 default_port ? "" : ":", default_port ? "" : url->port, request->body_len);
	if (n < 0 || (size_t)n >= cap)
		return fail(response, "request", "too long");
	size_t used = (size_t)n;
	for (size_t i = 0; i < request->header_count; i++) {
		const char *field = request->headers[i];
		if (strpbrk(field, "\r\n") != NULL || strchr(field, ':') == NULL)
			return fail(response, "request", "malformed header field");
		n = snprintf(head + used, cap - used, "%s\r\n", field);
		if (n < 0 || (size_t)n >= cap - used)
			return fail(response, "request", "too long");
		used += (size_t)n;
	}
	if (used + 2 >= cap)
		return fail(response, "request", "too long");
	memcpy(head + used, "\r\n", 3);
	return 0;
}

/* Reads until the answer parses as complete or the connection ends. */
static int read_answer(struct connection *c)
{
	size_t cap = HTTP_HEAD_MAX + 2 * HTTP_BODY_MAX + 1024, len = 0;
	char *buf = malloc(cap);
	if (buf == NULL)
		return fail(c->response, "memory", NULL);
	struct http_response *response = c->response;
	enum http_parse parsed = HTTP_PARSE_MORE;
	int closed = 0;
	while (parsed == HTTP_PARSE_MORE && len < cap) {
		ssize_t n = receive_some(c, buf + len, cap - len);
		if (n < 0) {
			free(buf);
			return -1;
		}
		closed = n == 0;
		len += (size_t)n;
		parsed = http_response_parse(buf, len, closed, response);
	}
	free(buf);
	if (parsed == HTTP_PARSE_DONE)
		return 0;
	return fail(response, "answer", len == cap ? "too long" : "malformed");
}

int http_post(const struct http_request *request, struct http_response *response)
{
	memset(response, 0, sizeof(*response));
	struct http_url url;
	if (http_url_parse(request->url, &url) != 0)
		return fail(response, "bad URL", NULL);
	char head[8192];
	if (request_head(request, &url, head, sizeof(head), response) != 0)
		return -1;
	struct connection c = {.fd = -1,
			       .deadline_ms = now_ms() + request->timeout_ms,
			       .response = response};
	/* A peer that closes early must not kill the caller through SIGPIPE inside OpenSSL. */
	sigset_t pipe_only, old;
	sigemptyset(&pipe_only);
	sigaddset(&pipe_only, SIGPIPE);
	sigprocmask(SIG_BLOCK, &pipe_only, &old);
	SSL_CTX *context = NULL;
	int result = connect_to(&c, &url);
	if (result == 0 && url.tls) {
		context = SSL_CTX_new(TLS_client_method());
		result = context ? tls_start(&c, context, &url, request->verify)
				 : fail(response, "TLS", tls_error());
	}
	if (result == 0)
		result = send_all(&c, head, strlen(head));
	if (result == 0 && request->body_len > 0)
		result = send_all(&c, request->body, request->body_len);
	if (result == 0)
		result = read_answer(&c);
	if (c.ssl != NULL)
		SSL_free(c.ssl);
	SSL_CTX_free(context);
	if (c.fd >= 0)
		close(c.fd);
	ERR_clear_error();
	struct timespec no_wait = {0, 0};
	while (sigtimedwait(&pipe_only, NULL, &no_wait) > 0)
		;
	sigprocmask(SIG_SETMASK, &old, NULL);
	return result;
}
