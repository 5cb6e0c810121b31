/* GCRA over a memory-mapped table: one slot per sender (its keyed hash and theoretical arrival
 * time), one fcntl lock per bucket, no fsync. A process opens it, checks one sender, exits:
 * a few system calls and one page, where sqlite cost ~2.5 ms. */
#include "ratelimit.h"

#include "log.h"
#include "random.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define RATELIMIT_PATH_MAX 1024
#define RATELIMIT_SENDER_MAX 512
#define MICROSECONDS_PER_MINUTE INT64_C(60000000)
#define TABLE_MAGIC "chatmail-ratelimit-1"
#define TABLE_HEADER 4096 /* a page: no bucket straddles two */
#define RATELIMIT_LOCK_WAIT_MS 3000

struct slot {
	uint64_t hash;
	int64_t tat; /* at or before now: free (a sender whose time passed is one never seen) */
};

struct bucket {
	struct slot slots[RATELIMIT_WAYS];
};

struct header {
	char magic[sizeof TABLE_MAGIC];
	uint32_t buckets;
	uint32_t ways;
	uint64_t key[2]; /* the hash key, random per table: no one can aim at another's bucket */
};

#define TABLE_SIZE (TABLE_HEADER + (size_t)RATELIMIT_BUCKETS * sizeof(struct bucket))

struct ratelimit {
	int fd;
	unsigned char *map;
};

int64_t ratelimit_interval(uint32_t per_minute)
{
	if (per_minute == 0)
		per_minute = 1;
	int64_t interval = MICROSECONDS_PER_MINUTE / per_minute;
	return interval > 0 ? interval : 1;
}

bool ratelimit_gcra(int64_t tat, int64_t now, int64_t interval, uint32_t burst, int64_t *new_tat)
{
	int64_t window = (int64_t)burst * interval;

	/* A stored time beyond the burst window (a clock stepped back, a damaged slot) is cut
	 * back to the window, and that is stored even when the message must wait. */
	if (tat > now + window)
		tat = now + window;
	*new_tat = tat;
	int64_t next = (tat > now ? tat : now) + interval;
	if (next - now > window)
		return false;
	*new_tat = next;
	return true;
}

int64_t ratelimit_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                                                                                   \
	do {                                                                                       \
		v0 += v1, v1 = ROTL(v1, 13), v1 ^= v0, v0 = ROTL(v0, 32);                          \
		v2 += v3, v3 = ROTL(v3, 16), v3 ^= v2;                                             \
		v0 += v3, v3 = ROTL(v3, 21), v3 ^= v0;                                             \
		v2 += v1, v1 = ROTL(v1, 17), v1 ^= v2, v2 = ROTL(v2, 32);                          \
	} while (0)

/* SipHash-2-4 (Aumasson and Bernstein): a keyed hash that senders cannot steer. */
static uint64_t siphash(const uint64_t key[2], const unsigned char *in, size_t len)
{
	uint64_t v0 = key[0] ^ 0x736f6d6570736575ULL, v1 = key[1] ^ 0x646f72616e646f6dULL;
	uint64_t v2 = key[0] ^ 0x6c7967656e657261ULL, v3 = key[1] ^ 0x7465646279746573ULL;
	uint64_t b = (uint64_t)len << 56, m;
	size_t i = 0;

	for (; i + 8 <= len; i += 8) {
		m = 0;
		for (int j = 7; j >= 0; j--)
			m = m << 8 | in[i + (size_t)j];
		v3 ^= m;
		SIPROUND;
		SIPROUND;
		v0 ^= m;
	}
	for (int j = 0; i + (size_t)j < len; j++)
		b |= (uint64_t)in[i + (size_t)j] << (8 * j);
	v3 ^= b;
	SIPROUND;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	for (int j = 0; j < 4; j++)
		SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

static const struct header *header_of(const struct ratelimit *ratelimit)
{
	return (const struct header *)ratelimit->map;
}

static struct bucket *bucket_at(const struct ratelimit *ratelimit, size_t index)
{
	return (struct bucket *)(ratelimit->map + TABLE_HEADER) + index;
}

/* Writes a fresh table (empty, a new key) to a file of its own, then puts it in place: no
 * process ever sees it half made. replace says whether it takes the place of a damaged one;
 * otherwise a table another process put there first wins. */
static int create(const char *path, bool replace)
{
	char temp[RATELIMIT_PATH_MAX + 16];
	struct header header = {
	    .magic = TABLE_MAGIC, .buckets = RATELIMIT_BUCKETS, .ways = RATELIMIT_WAYS};

	if (random_bytes(header.key, sizeof header.key) != 0)
		return -1;
	int n = snprintf(temp, sizeof temp, "%s.XXXXXX", path);
	if (n < 0 || (size_t)n >= sizeof temp)
		return -1;
	int fd = mkstemp(temp);
	if (fd < 0)
		return -1;
	int rc = ftruncate(fd, (off_t)TABLE_SIZE) == 0 &&
			 pwrite(fd, &header, sizeof header, 0) == (ssize_t)sizeof header
		     ? 0
		     : -1;
	close(fd);
	if (rc == 0 && replace)
		rc = rename(temp, path);
	else if (rc == 0)
		rc = link(temp, path) == 0 || errno == EEXIST ? 0 : -1;
	unlink(temp);
	return rc;
}

/* Maps the table at path. Returns 0, 1 when it is not a table of ours, or -1. */
static int map_table(struct ratelimit *ratelimit, const char *path)
{
	struct stat st;

	ratelimit->fd = open(path, O_RDWR | O_CLOEXEC);
	if (ratelimit->fd < 0)
		return -1;
	if (fstat(ratelimit->fd, &st) != 0)
		return -1;
	if (st.st_size != (off_t)TABLE_SIZE)
		return 1;
	ratelimit->map =
	    mmap(NULL, TABLE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, ratelimit->fd, 0);
	if (ratelimit->map == MAP_FAILED) {
		ratelimit->map = NULL;
		return -1;
	}
	const struct header *header = header_of(ratelimit);
	if (memcmp(header->magic, TABLE_MAGIC, sizeof TABLE_MAGIC) != 0 ||
	    header->buckets != RATELIMIT_BUCKETS || header->ways != RATELIMIT_WAYS)
		return 1;
	return 0;
}

static void unmap_table(struct ratelimit *ratelimit)
{
	if (ratelimit->map != NULL)
		munmap(ratelimit->map, TABLE_SIZE);
	if (ratelimit->fd >= 0)
		close(ratelimit->fd);
	ratelimit->map = NULL;
	ratelimit->fd = -1;
}

struct ratelimit *ratelimit_open(const char *state_dir)
{
	char path[RATELIMIT_PATH_MAX];
	int n = snprintf(path, sizeof path, "%s/%s", state_dir, RATELIMIT_FILE);
	if (n < 0 || (size_t)n >= sizeof path) {
		log_error("ratelimit: state_dir path too long");
		return NULL;
	}
	struct ratelimit *ratelimit = calloc(1, sizeof *ratelimit);
	if (ratelimit == NULL)
		return NULL;
	ratelimit->fd = -1;
	int rc = map_table(ratelimit, path);
	if (rc < 0 && errno == ENOENT && create(path, false) == 0)
		rc = map_table(ratelimit, path);
	if (rc > 0) {
		/* An operating system crash without fsync, or a file of someone else: a sender
		 * starts a fresh burst, which is all that losing the table costs. */
		log_error("ratelimit: %s is damaged, starting afresh", path);
		unmap_table(ratelimit);
		rc = create(path, true) == 0 ? map_table(ratelimit, path) : -1;
	}
	if (rc != 0) {
		log_error("ratelimit: cannot open %s: %s", path,
			  rc > 0 ? "not a table after starting afresh" : strerror(errno));
		ratelimit_close(ratelimit);
		return NULL;
	}
	return ratelimit;
}

void ratelimit_close(struct ratelimit *ratelimit)
{
	if (ratelimit == NULL)
		return;
	unmap_table(ratelimit);
	free(ratelimit);
}

/* Locks (F_WRLCK) or unlocks (F_UNLCK) one bucket's bytes. An open-file-description lock is
 * released when its process dies, so a killed filtermail never holds a bucket. */
static int lock_bucket(const struct ratelimit *ratelimit, size_t index, short type)
{
	struct flock lock = {
	    .l_type = type,
	    .l_whence = SEEK_SET,
	    .l_start = (off_t)(TABLE_HEADER + index * sizeof(struct bucket)),
	    .l_len = (off_t)sizeof(struct bucket),
	};
	if (type == F_UNLCK)
		return fcntl(ratelimit->fd, F_OFD_SETLK, &lock);
	/* A bucket is held for microseconds; a holder that stopped (SIGSTOP, a debugger) must not
	 * stall every other sender of its bucket: after RATELIMIT_LOCK_WAIT_MS the check fails
	 * (a 4xx, never a free pass). */
	struct timespec pause = {0, 100000};
	for (long waited_us = 0;; waited_us += pause.tv_nsec / 1000) {
		if (fcntl(ratelimit->fd, F_OFD_SETLK, &lock) == 0)
			return 0;
		if (errno != EAGAIN && errno != EACCES && errno != EINTR)
			return -1;
		if (waited_us >= RATELIMIT_LOCK_WAIT_MS * 1000L) {
			errno = ETIMEDOUT;
			return -1;
		}
		nanosleep(&pause, NULL);
		if (pause.tv_nsec < 20000000)
			pause.tv_nsec *= 2;
	}
}

/* The sender's slot in bucket: its own, else one whose time has passed, else NULL. */
static struct slot *find_slot(struct bucket *bucket, uint64_t hash, int64_t now)
{
	struct slot *free_slot = NULL;
	for (size_t i = 0; i < RATELIMIT_WAYS; i++) {
		struct slot *slot = &bucket->slots[i];
		if (slot->hash == hash)
			return slot;
		if (free_slot == NULL && slot->tat <= now)
			free_slot = slot;
	}
	if (free_slot != NULL) {
		free_slot->hash = hash;
		free_slot->tat = 0;
	}
	return free_slot;
}

enum ratelimit_status ratelimit_check(struct ratelimit *ratelimit, const char *sender, int64_t now,
				      uint32_t per_minute, uint32_t burst)
{
	unsigned char key[RATELIMIT_SENDER_MAX];
	size_t len = strlen(sender);
	int64_t new_tat = 0;
	bool allowed = false;

	if (len >= sizeof key)
		return RATELIMIT_ERROR;
	for (size_t i = 0; i < len; i++)
		key[i] = (unsigned char)tolower((unsigned char)sender[i]);
	uint64_t hash = siphash(header_of(ratelimit)->key, key, len);
	size_t index = (size_t)(hash % RATELIMIT_BUCKETS);
	if (lock_bucket(ratelimit, index, F_WRLCK) != 0) {
		log_error("ratelimit: cannot lock: %s", strerror(errno));
		return RATELIMIT_ERROR;
	}
	struct slot *slot = find_slot(bucket_at(ratelimit, index), hash, now);
	if (slot != NULL) {
		allowed =
		    ratelimit_gcra(slot->tat, now, ratelimit_interval(per_minute), burst, &new_tat);
		slot->tat = new_tat;
	}
	lock_bucket(ratelimit, index, F_UNLCK);
	if (slot == NULL) {
		log_error("ratelimit: every slot of %s's bucket is in use", sender);
		return RATELIMIT_ERROR;
	}
	return allowed ? RATELIMIT_ALLOWED : RATELIMIT_DENIED;
}

size_t ratelimit_senders(const struct ratelimit *ratelimit, int64_t now)
{
	size_t count = 0;
	for (size_t b = 0; b < RATELIMIT_BUCKETS; b++)
		for (size_t i = 0; i < RATELIMIT_WAYS; i++)
			count += bucket_at(ratelimit, b)->slots[i].tat > now;
	return count;
}
