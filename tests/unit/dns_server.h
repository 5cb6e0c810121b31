/* A tiny DNS server on a loopback UDP port, in a child process, for tests that look names up
 * through the real resolver library: TXT answers from a table, NXDOMAIN for names it does not
 * know, SERVFAIL for names under "servfail.", FORMERR under "formerr.", and silence (a timeout) for
 * names under "timeout.". It counts the queries it got. */
#ifndef CHATMAIL_DNS_SERVER_H
#define CHATMAIL_DNS_SERVER_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define DNS_SERVER_RECORDS_MAX 32

struct dns_server {
	const char *names[DNS_SERVER_RECORDS_MAX];
	const char *texts[DNS_SERVER_RECORDS_MAX];
	size_t count;
	volatile unsigned *queries; /* shared with the child */
	pid_t pid;
	char address[32]; /* "127.0.0.1:port" */
};

static inline void dns_server_add(struct dns_server *server, const char *name, const char *text)
{
	if (server->count < DNS_SERVER_RECORDS_MAX) {
		server->names[server->count] = name;
		server->texts[server->count++] = text;
	}
}

/* The question's name, dotted, into name[cap]; returns where the question's type starts, 0 when
 * the packet is not a question we understand (no compression in questions). */
static inline size_t dns_server_question(const unsigned char *packet, size_t len, char *name,
					 size_t cap)
{
	size_t pos = 12, out = 0;
	while (pos < len && packet[pos] != 0) {
		size_t label = packet[pos++];
		if (label > 63 || pos + label > len || out + label + 2 > cap)
			return 0;
		if (out > 0)
			name[out++] = '.';
		memcpy(name + out, packet + pos, label);
		out += label;
		pos += label;
	}
	name[out] = '\0';
	return pos + 5 <= len ? pos + 1 : 0;
}

/* The answer to one query in reply[]: header and question copied, then the TXT record in
 * character-strings of at most 255 bytes. Returns its length, 0 to stay silent. */
static inline size_t dns_server_answer(const struct dns_server *server, const unsigned char *query,
				       size_t len, unsigned char *reply, size_t cap)
{
	char name[256];
	size_t type_at = dns_server_question(query, len, name, sizeof name), pos, rdlen_at;
	const char *text = NULL;
	int rcode = 3; /* NXDOMAIN */
	if (type_at == 0 || strncasecmp(name, "timeout.", 8) == 0 || type_at + 4 > cap)
		return 0;
	if (strncasecmp(name, "servfail.", 9) == 0)
		rcode = 2;
	if (strncasecmp(name, "formerr.", 8) == 0)
		rcode = 1;
	for (size_t i = 0; i < server->count && rcode == 3; i++) {
		if (strcasecmp(server->names[i], name) == 0) {
			text = server->texts[i];
			rcode = 0;
		}
	}
	memcpy(reply, query, type_at + 4);
	reply[2] = (unsigned char)(0x84 | (query[2] & 0x01)); /* QR, AA, the query's RD */
	reply[3] = (unsigned char)(0x80 | rcode);	      /* RA */
	memset(reply + 6, 0, 6);
	pos = type_at + 4;
	if (text == NULL)
		return pos;
	reply[7] = 1; /* ANCOUNT */
	if (pos + 12 + strlen(text) + strlen(text) / 255 + 1 > cap)
		return 0;
	memcpy(reply + pos, "\xc0\x0c\x00\x10\x00\x01\x00\x00\x00\x3c", 10); /* TXT IN TTL 60 */
	rdlen_at = pos + 10;
	pos += 12;
	for (size_t off = 0, n; off < strlen(text); off += n) {
		n = strlen(text) - off > 255 ? 255 : strlen(text) - off;
		reply[pos++] = (unsigned char)n;
		memcpy(reply + pos, text + off, n);
		pos += n;
	}
	reply[rdlen_at] = (unsigned char)((pos - rdlen_at - 2) >> 8);
	reply[rdlen_at + 1] = (unsigned char)(pos - rdlen_at - 2);
	return pos;
}

static inline void dns_server_loop(const struct dns_server *server, int fd)
{
	unsigned char query[512], reply[4096];
	for (;;) {
		struct sockaddr_in peer;
		socklen_t peer_len = sizeof peer;
		ssize_t n =
		    recvfrom(fd, query, sizeof query, 0, (struct sockaddr *)&peer, &peer_len);
		size_t len;
		if (n < 12)
			continue;
		(*server->queries)++;
		len = dns_server_answer(server, query, (size_t)n, reply, sizeof reply);
		if (len > 0)
			(void)sendto(fd, reply, len, 0, (struct sockaddr *)&peer, peer_len);
	}
}

/* Starts the server with the records added so far. Returns 0, or -1. */
static inline int dns_server_start(struct dns_server *server)
{
	struct sockaddr_in address = {.sin_family = AF_INET};
	socklen_t len = sizeof address;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	server->queries = mmap(NULL, sizeof *server->queries, PROT_READ | PROT_WRITE,
			       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (fd < 0 || server->queries == MAP_FAILED ||
	    bind(fd, (struct sockaddr *)&address, sizeof address) != 0 ||
	    getsockname(fd, (struct sockaddr *)&address, &len) != 0)
		return -1;
	snprintf(server->address, sizeof server->address, "127.0.0.1:%u",
		 (unsigned)ntohs(address.sin_port));
	server->pid = fork();
	if (server->pid < 0)
		return -1;
	if (server->pid == 0) {
		/* Never outlive the test. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		alarm(300);
		dns_server_loop(server, fd);
		_exit(0);
	}
	close(fd);
	return 0;
}

static inline void dns_server_stop(struct dns_server *server)
{
	if (server->pid > 0) {
		kill(server->pid, SIGKILL);
		waitpid(server->pid, NULL, 0);
		server->pid = 0;
	}
}

#endif
