/* One log line per event, "program: level: message", to stderr, syslog or a file. */
#ifndef CHATMAIL_LOG_H
#define CHATMAIL_LOG_H

enum log_target { LOG_TO_STDERR, LOG_TO_SYSLOG };

/* The environment variable CHATMAIL_LOG ("stderr", "syslog" or an absolute file path to
 * append to) overrides the target, so tests can read what a program logged. */
void log_open(const char *program, enum log_target target);
void log_info(const char *format, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *format, ...) __attribute__((format(printf, 1, 2)));
void log_error(const char *format, ...) __attribute__((format(printf, 1, 2)));

#endif
