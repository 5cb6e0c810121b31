/* The answer's writing and the FastCGI accept loop of the relay's web apps. */
#include "fcgi_serve.h"
#include "log.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

int fcgi_write(FCGX_Stream *out, const char *text, size_t len)
{
	if (out != NULL)
		return len <= (size_t)INT32_MAX && FCGX_PutStr(text, (int)len, out) == (int)len &&
				       FCGX_FFlush(out) == 0
			       ? 0
			       : -1;
	while (len > 0) {
		ssize_t n = write(STDOUT_FILENO, text, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		text += n;
		len -= (size_t)n;
	}
	return 0;
}

static volatile sig_atomic_t stopping;

static void on_stop(int signal_number)
{
	(void)signal_number;
	stopping = 1;
	FCGX_ShutdownPending();
}

int fcgi_serve(fcgi_handler *handle, void *context)
{
	FCGX_Request fcgi;
	struct sigaction stop = {.sa_handler = on_stop};

	/* No SA_RESTART: a stop signal ends the wait in accept(), not a request under way. */
	sigemptyset(&stop.sa_mask);
	sigaction(SIGTERM, &stop, NULL);
	sigaction(SIGINT, &stop, NULL);
	if (FCGX_Init() != 0 || FCGX_InitRequest(&fcgi, 0, FCGI_FAIL_ACCEPT_ON_INTR) != 0) {
		log_error("cannot set up FastCGI");
		return -1;
	}
	int result = 0;
	while (!stopping) {
		if (FCGX_Accept_r(&fcgi) < 0) {
			if (!stopping) {
				log_error("cannot accept a FastCGI request: %s", strerror(errno));
				result = -1;
			}
			break;
		}
		handle(&fcgi, context);
		FCGX_Finish_r(&fcgi);
	}
	FCGX_Free(&fcgi, 1);
	return result;
}
