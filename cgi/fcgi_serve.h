/* The FastCGI accept loop the relay's web apps (newemail, mxdeliv) share: one request at a time
 * until SIGTERM or SIGINT, which end the wait for the next request, never one under way. */
#ifndef CHATMAIL_FCGI_SERVE_H
#define CHATMAIL_FCGI_SERVE_H

#include <fcgiapp.h>

typedef void fcgi_handler(FCGX_Request *request, void *context);

/* Serves requests on the FastCGI socket (fd 0) with handle(request, context). Returns 0 when
 * stopped by a signal, -1 when FastCGI could not be set up or accept failed (logged). */
int fcgi_serve(fcgi_handler *handle, void *context);

#endif
