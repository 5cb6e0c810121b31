/* spawner: what Postfix spawn(8) does for filtermail, and no more: accepts on a TCP port of
 * 127.0.0.1 (a free one, printed on the first line), forks, puts the connection on stdin and
 * stdout, execs the command. On SIGTERM it
 * waits for its children and prints how many ran, their CPU time per child (user + system, from
 * their rusage), its own CPU per child (accept and fork) and the peak RSS of the largest child.
 *
 * usage: spawner COMMAND... */
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static double seconds(struct timeval tv)
{
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	struct sockaddr_in addr = {.sin_family = AF_INET};
	socklen_t addr_len = sizeof addr;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (bind(listener, (struct sockaddr *)&addr, sizeof addr) != 0 ||
	    listen(listener, 256) != 0 ||
	    getsockname(listener, (struct sockaddr *)&addr, &addr_len) != 0) {
		perror("spawner");
		return 1;
	}
	printf("%d\n", ntohs(addr.sin_port));
	fflush(stdout);
	struct sigaction term = {.sa_handler = on_term}; /* no SA_RESTART: accept returns */
	sigaction(SIGTERM, &term, NULL);
	signal(SIGCHLD, SIG_DFL);
	long children = 0;
	while (!stop) {
		int fd = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		if (fd < 0)
			continue;
		pid_t pid = fork();
		if (pid == 0) {
			dup2(fd, STDIN_FILENO);
			dup2(fd, STDOUT_FILENO);
			execv(argv[1], argv + 1);
			_exit(127);
		}
		children += pid > 0;
		close(fd);
	}
	while (wait(NULL) > 0 || errno == EINTR)
		;
	struct rusage self, kids;
	getrusage(RUSAGE_SELF, &self);
	getrusage(RUSAGE_CHILDREN, &kids);
	double n = children > 0 ? (double)children : 1;
	printf("children %ld  cpu %.2f ms/child  spawner %.2f ms/child  peak RSS %ld KiB\n",
	       children, (seconds(kids.ru_utime) + seconds(kids.ru_stime)) * 1000 / n,
	       (seconds(self.ru_utime) + seconds(self.ru_stime)) * 1000 / n, kids.ru_maxrss);
	return 0;
}
