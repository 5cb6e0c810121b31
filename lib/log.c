/* Logging: one line per event; peer-supplied text is made printable before it is written. */
#include "log.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#define LOG_LINE_MAX 1024

static const char *log_program = "chatmail";
static enum log_target log_target = LOG_TO_STDERR;
static int log_fd = 2;

void log_open(const char *program, enum log_target target)
{
	const char *override = getenv("CHATMAIL_LOG");

	log_program = program;
	log_target = target;
	log_fd = 2;
	if (override != NULL && strcmp(override, "stderr") == 0) {
		log_target = LOG_TO_STDERR;
	} else if (override != NULL && strcmp(override, "syslog") == 0) {
		log_target = LOG_TO_SYSLOG;
	} else if (override != NULL && override[0] == '/') {
		int fd = open(override, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
		if (fd >= 0) {
			log_target = LOG_TO_STDERR;
			log_fd = fd;
		}
	}
	if (log_target == LOG_TO_SYSLOG)
		openlog(program, LOG_PID, LOG_MAIL);
}

__attribute__((format(printf, 3, 0))) static void log_write(int priority, const char *level,
							   const char *format, va_list args)
{
	char message[LOG_LINE_MAX];
	int n = vsnprintf(message, sizeof message, format, args);

	if (n < 0)
		return;
	/* Never let a peer's bytes forge a second log line or a terminal escape. */
	for (char *p = message; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p == 0x7f)
			*p = '?';
	if (log_target == LOG_TO_SYSLOG) {
		syslog(priority, "%s: %s", level, message);
		return;
	}
	char line[LOG_LINE_MAX + 64];
	n = snprintf(line, sizeof line, "%s: %s: %s\n", log_program, level, message);
	if (n < 0)
		return;
	size_t len = (size_t)n < sizeof line ? (size_t)n : sizeof line - 1;
	if (len > 0 && line[len - 1] != '\n')
		line[len - 1] = '\n';
	ssize_t written = write(log_fd, line, len);
	(void)written;
}

#define LOG_FUNCTION(name, priority, level)                                                      \
	void name(const char *format, ...)                                                       \
	{                                                                                        \
		va_list args;                                                                    \
		va_start(args, format);                                                          \
		log_write(priority, level, format, args);                                        \
		va_end(args);                                                                    \
	}

LOG_FUNCTION(log_info, LOG_INFO, "info")
LOG_FUNCTION(log_warn, LOG_WARNING, "warning")
LOG_FUNCTION(log_error, LOG_ERR, "error")
