/* chatmail-notifier: sends the push queue (SPEC 5a). A persistent process (systemd,
 * Restart=always; scripts/relay locally) that waits on the queue directory with inotify, POSTs
 * each item's token to push_notification_url, and keeps an unanswered one for its retries.
 * 200 or 410 ends an item (410 also removes the token from the account); anything else is
 * retried after 8, 64, 512, 4096 s until 5 hours after the delivery. The queue is the state:
 * a restart reads it again, and an item is removed as soon as its answer came.
 * usage: chatmail-notifier          env: CHATMAIL_PUSH_RETRY_SCALE (tests: e.g. 0.01) */
#include "config.h"
#include "devicetokens.h"
#include "http_client.h"
#include "log.h"
#include "mailstore.h"
#include "pushqueue.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define EXIT_DONE 0
#define EXIT_TEMPFAIL 111 /* chatmail.ini or the queue unusable: systemd starts us again */

#define HTTP_OK 200
#define HTTP_GONE 410 /* the token is no longer valid: it goes */
/* One POST, connect to answer (the reference relay waits 60 s). */
#define POST_TIMEOUT_MS 10000
/* The queue is read again at least this often, whatever inotify says. */
#define RESCAN_MS 60000

struct notifier {
	struct config config;
	int queue_fd;
	int inotify_fd;
	double scale;
};

static volatile sig_atomic_t stopping;

static void on_signal(int signal_number)
{
	(void)signal_number;
	stopping = 1;
}

static void remove_token(const struct notifier *n, const struct push_item *item)
{
	int root = mailstore_open_root(n->config.mailboxes_dir);
	int home = root >= 0 ? mailstore_open_home(root, item->addr) : -1;
	if (root >= 0)
		close(root);
	if (home < 0)
		return; /* the account is gone, and its tokens with it */
	if (devicetokens_update(home, item->token, strlen(item->token), false, time(NULL)) == 0)
		log_info("removed a device token of %s: the notification server answered 410",
			 item->addr);
	close(home);
}

static void give_up_or_keep(const struct notifier *n, const char *name, struct push_item *item,
			    const char *why)
{
	if (push_item_retry(item, time(NULL), n->scale) != 0) {
		log_error("Push notification dropped for %s after %u attempts (%s)", item->addr,
			  item->attempts, why);
		unlinkat(n->queue_fd, name, 0);
		return;
	}
	log_warn("Push notification failed for %s (%s); next try in %lld s", item->addr, why,
		 (long long)(item->due - time(NULL)));
	if (pushqueue_write(n->queue_fd, name, item) != 0)
		log_error("cannot keep the queue item %s: %s", name, strerror(errno));
}

static void send_item(const struct notifier *n, const char *name, struct push_item *item)
{
	static struct http_response response;
	static const char *const headers[] = {"Content-Type: text/plain"};
	struct http_request request = {
		.url = n->config.push_notification_url,
		.verify = 1,
		.headers = headers,
		.header_count = 1,
		.body = item->token,
		.body_len = strlen(item->token),
		.timeout_ms = POST_TIMEOUT_MS,
	};
	if (http_post(&request, &response) != 0) {
		give_up_or_keep(n, name, item, response.error);
		return;
	}
	if (response.status == HTTP_OK || response.status == HTTP_GONE) {
		/* answered: removed before anything else, so no restart sends it again */
		unlinkat(n->queue_fd, name, 0);
		if (response.status == HTTP_GONE)
			remove_token(n, item);
		else
			log_info("Push notification sent for %s", item->addr);
		return;
	}
	char why[32];
	snprintf(why, sizeof why, "HTTP %d", response.status);
	give_up_or_keep(n, name, item, why);
}

/* Sends every due item. Returns the milliseconds until the next one is due (at most RESCAN_MS). */
static int run_queue(const struct notifier *n)
{
	static struct push_item item;
	int64_t next = RESCAN_MS;
	int dir_fd = dup(n->queue_fd);
	DIR *dir = dir_fd >= 0 ? fdopendir(dir_fd) : NULL;
	if (dir == NULL) {
		log_error("cannot read the queue: %s", strerror(errno));
		if (dir_fd >= 0)
			close(dir_fd);
		return RESCAN_MS;
	}
	rewinddir(dir);
	const struct dirent *entry;
	while (!stopping && (entry = readdir(dir)) != NULL) {
		const char *name = entry->d_name;
		if (name[0] == '.' || strlen(name) >= PUSHQUEUE_NAME_MAX)
			continue;
		int read = pushqueue_read(n->queue_fd, name, &item);
		if (read == 1) {
			next = 0; /* split into one item per token: read them at once */
			continue;
		}
		if (read != 0) {
			if (errno != ENOENT) {
				log_warn("removing a broken queue item %s", name);
				unlinkat(n->queue_fd, name, 0);
			}
			continue;
		}
		int64_t now = time(NULL);
		if (item.due > now) {
			if ((item.due - now) * 1000 < next)
				next = (item.due - now) * 1000;
			continue;
		}
		send_item(n, name, &item);
		if (item.attempts > 0 && item.due > now && (item.due - now) * 1000 < next)
			next = (item.due - now) * 1000;
	}
	closedir(dir);
	return (int)next;
}

static int open_queue(struct notifier *n)
{
	char dir[CONFIG_PATH_MAX + 32]; /* state_dir is shorter than CONFIG_PATH_MAX */
	snprintf(dir, sizeof dir, "%s/%s", n->config.state_dir, PUSHQUEUE_DIR);
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		log_error("cannot make %s: %s", dir, strerror(errno));
		return -1;
	}
	n->queue_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	n->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (n->queue_fd < 0 || n->inotify_fd < 0 ||
	    inotify_add_watch(n->inotify_fd, dir, IN_MOVED_TO) < 0) {
		log_error("cannot watch %s: %s", dir, strerror(errno));
		return -1;
	}
	return 0;
}

static void drain(int fd)
{
	char events[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	while (read(fd, events, sizeof events) > 0)
		;
}

int main(void)
{
	static struct notifier n;
	log_open("chatmail-notifier", LOG_TO_SYSLOG);
	struct config_error error;
	if (config_load(&n.config, &error) != 0) {
		config_log_error(&error);
		return EXIT_TEMPFAIL;
	}
	n.scale = 1;
	const char *scale = getenv("CHATMAIL_PUSH_RETRY_SCALE");
	if (scale != NULL && *scale != '\0') {
		char *end;
		n.scale = strtod(scale, &end);
		if (*end != '\0' || !(n.scale > 0) || n.scale > 1) {
			log_error("CHATMAIL_PUSH_RETRY_SCALE must lie in (0, 1]");
			return EXIT_TEMPFAIL;
		}
	}
	struct http_url url;
	if (http_url_parse(n.config.push_notification_url, &url) != 0) {
		log_error("push_notification_url is not an http(s) URL");
		return EXIT_TEMPFAIL;
	}
	if (mailstore_become_owner(&n.config) != 0 || open_queue(&n) != 0)
		return EXIT_TEMPFAIL;
	struct sigaction action = {.sa_handler = on_signal};
	sigaction(SIGTERM, &action, NULL);
	sigaction(SIGINT, &action, NULL);
	signal(SIGPIPE, SIG_IGN);
	log_info("sending the push queue to %s", n.config.push_notification_url);
	while (!stopping) {
		drain(n.inotify_fd);
		int wait = run_queue(&n);
		struct pollfd pfd = {.fd = n.inotify_fd, .events = POLLIN};
		if (!stopping && wait > 0)
			poll(&pfd, 1, wait);
	}
	return EXIT_DONE;
}
