/* What the relay's web apps (newemail, mxdeliv) share: writing an answer, and the FastCGI
 * accept loop: one request at a time
 * until SIGTERM or SIGINT, which end the wait for the next request, never one under way. */
#ifndef CHATMAIL_FCGI_SERVE_H
#define CHATMAIL_FCGI_SERVE_H

#include <fcgiapp.h>
#include <stddef.h>

typedef void fcgi_handler(FCGX_Request *request, void *context);

/* Writes an answer to the request's stream, or to stdout for a CGI (out NULL), and flushes it,
 * so a client that went away shows here. Returns 0, or -1. */
int fcgi_write(FCGX_Stream *out, const char *text, size_t len);

/* Serves requests on the FastCGI socket (fd 0) with handle(request, context). Returns 0 when
 * stopped by a signal, -1 when FastCGI could not be set up or accept failed (logged). */
int fcgi_serve(fcgi_handler *handle, void *context);

#endif
