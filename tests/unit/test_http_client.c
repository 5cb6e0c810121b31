/* http_client: the URL and answer parsers, then real exchanges with a one-connection server in
 * a child process (plain and TLS, with a test CA made here), timeouts and refusals. */
#include "http_client.h"
#include "test.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static void test_url_parse(void)
{
	struct http_url u;
	CHECK(http_url_parse("https://relay.example/mxdeliv", &u) == 0 && u.tls == 1);
	CHECK_STR(u.host, "relay.example");
	CHECK_STR(u.port, "443");
	CHECK_STR(u.path, "/mxdeliv");
	CHECK(http_url_parse("http://127.0.0.1:8080", &u) == 0 && u.tls == 0);
	CHECK_STR(u.host, "127.0.0.1");
	CHECK_STR(u.port, "8080");
	CHECK_STR(u.path, "/");
	CHECK(http_url_parse("HTTPS://[2001:db8::1]:4443/notify?x=1", &u) == 0);
	CHECK_STR(u.host, "2001:db8::1");
	CHECK_STR(u.port, "4443");
	CHECK_STR(u.path, "/notify?x=1");
	CHECK(http_url_parse("https://_underscore.example/x", &u) == 0);
	const char *bad[] = {"ftp://a/", "https://", "https:///x", "https://a:0/", "https://a:65536/",
			     "https://a:12a/", "https://user@a/", "https://a/ b", "https://a/#f",
			     "https://[::1/", "https://[::1]x/", "https://a b/", "https://a?q",
			     "https://a:/", "https://[zz]/", "https://a\x7f/", "https://a:123456/"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int parsed = http_url_parse(bad[i], &u);
		CHECK(parsed == -1);
		if (parsed != -1)
			fprintf(stderr, "  accepted: %s\n", bad[i]);
	}
	char long_host[400];
	memset(long_host, 'a', sizeof(long_host));
	memcpy(long_host, "http://", 7);
	long_host[sizeof(long_host) - 1] = '\0';
	CHECK(http_url_parse(long_host, &u) == -1);
}

static enum http_parse parse(const char *text, int closed, struct http_response *r)
{
	return http_response_parse(text, strlen(text), closed, r);
}

static void test_response_parse(void)
{
	static struct http_response r;
	CHECK(parse("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", 0, &r) == HTTP_PARSE_DONE);
	CHECK(r.status == 200 && r.body_len == 5);
	CHECK_STR(r.body, "hello");
	CHECK(parse("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel", 0, &r) == HTTP_PARSE_MORE);
	CHECK(parse("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel", 1, &r) == HTTP_PARSE_BAD);
	CHECK(r.status == 0);
	CHECK(parse("HTTP/1.1 200 OK\r\nContent-Le", 0, &r) == HTTP_PARSE_MORE);
	CHECK(parse("HTTP/1.1 200 OK\r\nContent-Le", 1, &r) == HTTP_PARSE_BAD);
	/* chunked, with an extension and a trailer */
	CHECK(parse("HTTP/1.1 400 Bad\r\nTransfer-Encoding: chunked\r\n\r\n4;x=y\r\n554 \r\n"
		    "3\r\n5.7\r\n0\r\nX: y\r\n\r\n",
		    0, &r) == HTTP_PARSE_DONE);
	CHECK(r.status == 400);
	CHECK_STR(r.body, "554 5.7");
	CHECK(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nab", 0, &r) ==
	      HTTP_PARSE_MORE);
	CHECK(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcdXY", 0, &r) ==
	      HTTP_PARSE_BAD);
	CHECK(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 0, &r) ==
	      HTTP_PARSE_BAD);
	CHECK(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n123456789\r\n", 0, &r) ==
	      HTTP_PARSE_BAD);
	/* the end of the connection ends a body without framing */
	CHECK(parse("HTTP/1.0 200 OK\r\n\r\nuntil close", 0, &r) == HTTP_PARSE_MORE);
	CHECK(parse("HTTP/1.0 200 OK\r\n\r\nuntil close", 1, &r) == HTTP_PARSE_DONE);
	CHECK_STR(r.body, "until close");
	/* an interim answer is skipped; 204 has no body */
	CHECK(parse("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n", 0, &r) ==
	      HTTP_PARSE_DONE);
	CHECK(r.status == 204 && r.body_len == 0);
	/* framing that could be read two ways, or malformed heads, are refused */
	const char *bad[] = {
		"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\nok",
		"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok",
		"HTTP/1.1 200 OK\r\nContent-Length: -2\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 2x\r\n\r\nok",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
		"HTTP/1.1 200 OK\nContent-Length: 2\n\nok",
		"HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n",
		"HTTP/1.1 200 OK\r\nNoColon\r\n\r\n",
		"HTTP/1.1 200 OK\r\nX: a\rb\r\n\r\n",
		"HTTP/2 200\r\n\r\n",
		"HTTP/1.1 2000 OK\r\n\r\n",
		"HTTP/1.1 099 Low\r\n\r\n",
		"HTTP/1.1 101 Switching\r\n\r\n",
		"SMTP/1.1 200 OK\r\n\r\n",
		"HTTP/1.1 200OK\r\n\r\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		enum http_parse parsed = parse(bad[i], 1, &r);
		CHECK(parsed == HTTP_PARSE_BAD);
		if (parsed != HTTP_PARSE_BAD)
			fprintf(stderr, "  accepted: %s\n", bad[i]);
	}
	/* a long body is cut at HTTP_BODY_MAX and that is enough to end the parse */
	size_t big = HTTP_BODY_MAX + 100;
	char *text = malloc(64 + big);
	int head = snprintf(text, 64, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n", big * 2);
	memset(text + head, 'x', big);
	CHECK(http_response_parse(text, (size_t)head + big, 0, &r) == HTTP_PARSE_DONE);
	CHECK(r.body_len == HTTP_BODY_MAX && r.body_truncated && r.body[HTTP_BODY_MAX] == '\0');
	free(text);
	/* a head that never ends is refused once it passes HTTP_HEAD_MAX */
	text = malloc(HTTP_HEAD_MAX + 64);
	head = snprintf(text, 64, "HTTP/1.1 200 OK\r\nX: ");
	memset(text + head, 'y', HTTP_HEAD_MAX);
	CHECK(http_response_parse(text, (size_t)head + HTTP_HEAD_MAX, 0, &r) == HTTP_PARSE_BAD);
	free(text);
}

/* ---- a test CA and a server certificate for IP 127.0.0.1 and DNS relay.test ---- */

static EVP_PKEY *new_key(void)
{
	return EVP_EC_gen("P-256");
}

static X509 *new_cert(EVP_PKEY *key, const char *name, X509 *issuer, EVP_PKEY *issuer_key,
		      const char *san)
{
	X509 *cert = X509_new();
	X509_set_version(cert, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(cert), issuer ? 2 : 1);
	X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
	X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
	X509_set_pubkey(cert, key);
	X509_NAME *subject = X509_get_subject_name(cert);
	X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC, (const unsigned char *)name, -1,
				   -1, 0);
	X509_set_issuer_name(cert, issuer ? X509_get_subject_name(issuer) : subject);
	X509V3_CTX context;
	X509V3_set_ctx(&context, issuer ? issuer : cert, cert, NULL, NULL, 0);
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &context, NID_basic_constraints,
						  issuer ? "CA:FALSE" : "critical,CA:TRUE");
	X509_add_ext(cert, ext, -1);
	X509_EXTENSION_free(ext);
	if (san) {
		ext = X509V3_EXT_conf_nid(NULL, &context, NID_subject_alt_name, san);
		X509_add_ext(cert, ext, -1);
		X509_EXTENSION_free(ext);
	}
	X509_sign(cert, issuer_key ? issuer_key : key, EVP_sha256());
	return cert;
}

static X509 *server_cert;
static EVP_PKEY *server_key;

/* Makes the CA and the server certificate; the CA goes to ca_path for SSL_CERT_FILE. */
static int make_certificates(const char *ca_path)
{
	EVP_PKEY *ca_key = new_key();
	X509 *ca = new_cert(ca_key, "chatmail test CA", NULL, NULL, NULL);
	server_key = new_key();
	server_cert = new_cert(server_key, "relay.test", ca, ca_key, "IP:127.0.0.1,DNS:relay.test");
	FILE *f = fopen(ca_path, "w");
	if (f == NULL || !PEM_write_X509(f, ca))
		return -1;
	fclose(f);
	X509_free(ca);
	EVP_PKEY_free(ca_key);
	return 0;
}

/* ---- a server for one connection, in a child ---- */

enum serve { SERVE_ECHO, SERVE_CHUNKED, SERVE_SILENT };

static int listen_loopback(int *port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t size = sizeof(a);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(fd, 4) != 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &size) != 0)
		return -1;
	*port = ntohs(a.sin_port);
	return fd;
}

/* Reads the request (head and Content-Length body) into buf; returns its length. */
static size_t read_request(SSL *ssl, int fd, char *buf, size_t cap)
{
	size_t len = 0;
	for (;;) {
		int n = ssl ? SSL_read(ssl, buf + len, (int)(cap - 1 - len))
			    : (int)read(fd, buf + len, cap - 1 - len);
		if (n <= 0)
			return len;
		len += (size_t)n;
		buf[len] = '\0';
		char *end = strstr(buf, "\r\n\r\n");
		const char *cl = strstr(buf, "Content-Length: ");
		if (end && cl && len >= (size_t)(end + 4 - buf) + strtoul(cl + 16, NULL, 10))
			return len;
	}
}

static void serve_one(int listener, int tls, enum serve what)
{
	int fd = accept(listener, NULL, NULL);
	SSL *ssl = NULL;
	if (tls) {
		SSL_CTX *context = SSL_CTX_new(TLS_server_method());
		SSL_CTX_use_certificate(context, server_cert);
		SSL_CTX_use_PrivateKey(context, server_key);
		ssl = SSL_new(context);
		SSL_set_fd(ssl, fd);
		if (SSL_accept(ssl) != 1)
			_exit(0); /* the client refused our certificate */
	}
	static char request[65536];
	size_t len = read_request(ssl, fd, request, sizeof(request));
	if (what == SERVE_SILENT) {
		sleep(5);
		_exit(0);
	}
	char answer[70000];
	int n = what == SERVE_ECHO
			? snprintf(answer, sizeof(answer),
				   "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n%s", len, request)
			: snprintf(answer, sizeof(answer),
				   "HTTP/1.1 410 Gone\r\nTransfer-Encoding: chunked\r\n\r\n"
				   "5\r\ngone \r\n3\r\nnow\r\n0\r\n\r\n");
	if (ssl) {
		SSL_write(ssl, answer, n);
		SSL_shutdown(ssl);
	} else if (write(fd, answer, (size_t)n) != n) {
		_exit(1);
	}
	_exit(0);
}

/* Starts a server for one connection and posts to it. */
static int post_to(int tls, enum serve what, const char *host, int verify, int timeout_ms,
		   struct http_response *r)
{
	int port;
	int listener = listen_loopback(&port);
	pid_t pid = fork();
	if (pid == 0)
		serve_one(listener, tls, what);
	close(listener);
	char url[128];
	snprintf(url, sizeof(url), "%s://%s:%d/mxdeliv", tls ? "https" : "http", host, port);
	const char *headers[] = {"X-Mail-From: a@example.org", "X-Mail-To: b@relay.test"};
	struct http_request request = {.url = url,
				       .verify = verify,
				       .headers = headers,
				       .header_count = 2,
				       .body = "Subject: hi\r\n\r\nbody\r\n",
				       .body_len = 21,
				       .timeout_ms = timeout_ms};
	int result = http_post(&request, r);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return result;
}

static void test_exchanges(void)
{
	static struct http_response r;
	/* the request as the server read it comes back as the body */
	CHECK(post_to(0, SERVE_ECHO, "127.0.0.1", 0, 5000, &r) == 0 && r.status == 200);
	CHECK(strncmp(r.body, "POST /mxdeliv HTTP/1.1\r\nHost: 127.0.0.1:", 40) == 0);
	CHECK(strstr(r.body, "\r\nContent-Length: 21\r\n") != NULL);
	CHECK(strstr(r.body, "\r\nX-Mail-From: a@example.org\r\nX-Mail-To: b@relay.test\r\n\r\n"
			     "Subject: hi\r\n\r\nbody\r\n") != NULL);
	CHECK(post_to(0, SERVE_CHUNKED, "127.0.0.1", 0, 5000, &r) == 0 && r.status == 410);
	CHECK_STR(r.body, "gone now");

	/* TLS: verified against the CA in SSL_CERT_FILE, by IP address */
	CHECK(post_to(1, SERVE_ECHO, "127.0.0.1", 1, 5000, &r) == 0 && r.status == 200);
	CHECK(strstr(r.body, "X-Mail-To: b@relay.test") != NULL);
	CHECK(post_to(1, SERVE_CHUNKED, "127.0.0.1", 1, 5000, &r) == 0 && r.status == 410);
	/* the certificate does not name "localhost": refused when verifying, accepted when not */
	CHECK(post_to(1, SERVE_ECHO, "localhost", 1, 5000, &r) == -1 && r.status == 0);
	CHECK(strncmp(r.error, "certificate", 11) == 0);
	CHECK(post_to(1, SERVE_ECHO, "localhost", 0, 5000, &r) == 0 && r.status == 200);
	/* a CA nobody trusts */
	char *trusted = getenv("SSL_CERT_FILE");
	setenv("SSL_CERT_FILE", "/dev/null", 1);
	CHECK(post_to(1, SERVE_ECHO, "127.0.0.1", 1, 5000, &r) == -1 && r.status == 0);
	CHECK(strncmp(r.error, "certificate", 11) == 0);
	setenv("SSL_CERT_FILE", trusted, 1);

	/* a silent server costs the timeout, no more; a closed port is refused */
	long long start = (long long)time(NULL);
	CHECK(post_to(0, SERVE_SILENT, "127.0.0.1", 0, 300, &r) == -1);
	CHECK_STR(r.error, "timeout");
	CHECK(post_to(1, SERVE_SILENT, "127.0.0.1", 0, 300, &r) == -1);
	CHECK_STR(r.error, "timeout");
	CHECK((long long)time(NULL) - start <= 2);
	int port;
	int listener = listen_loopback(&port);
	close(listener);
	char url[64];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/", port);
	struct http_request request = {.url = url, .timeout_ms = 1000};
	CHECK(http_post(&request, &r) == -1 && strncmp(r.error, "connect", 7) == 0);
	/* header fields that would split the request are refused before connecting */
	const char *split[] = {"X-Mail-To: a\r\nX-Evil: 1"};
	request.headers = split;
	request.header_count = 1;
	CHECK(http_post(&request, &r) == -1 && strncmp(r.error, "request", 7) == 0);
	request.url = "gopher://x/";
	CHECK(http_post(&request, &r) == -1 && strcmp(r.error, "bad URL") == 0);
}

int main(void)
{
	test_url_parse();
	test_response_parse();
	char ca_path[] = "/tmp/test_http_client_ca_XXXXXX";
	int fd = mkstemp(ca_path);
	if (fd < 0 || make_certificates(ca_path) != 0) {
		fprintf(stderr, "test_http_client: cannot make test certificates\n");
		return 1;
	}
	close(fd);
	setenv("SSL_CERT_FILE", ca_path, 1);
	test_exchanges();
	unlink(ca_path);
	return test_summary("test_http_client");
}
