/* The FastCGI accept loop of the relay's web apps. */
#include "fcgi_serve.h"
#include "log.h"

#include <errno.h>
#include <signal.h>
#include <string.h>

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
