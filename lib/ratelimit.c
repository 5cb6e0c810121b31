/* GCRA over sqlite: one row per sender (its theoretical arrival time), no fsync, busy timeout. */
#include "ratelimit.h"

#include "log.h"

#include <ctype.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define RATELIMIT_PATH_MAX 1024
#define RATELIMIT_SENDER_MAX 512
#define MICROSECONDS_PER_MINUTE INT64_C(60000000)

struct ratelimit {
	sqlite3 *db;
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

	/* A stored time beyond the burst window (a clock stepped back, a damaged row) is cut
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

/* The state is disposable (losing it lets a sender start a fresh burst), so no fsync: each
 * filtermail process opens the database for one message, and with synchronous=OFF and a
 * persisted rollback journal that costs ~0.1 ms instead of ~1.5 ms (WAL, whose last close
 * checkpoints and fsyncs). A process killed mid-write is rolled back from the journal; a
 * database damaged by an operating system crash is removed and starts afresh. */
static const char schema[] = "PRAGMA journal_mode = PERSIST;"
			     "PRAGMA synchronous = OFF;"
			     "CREATE TABLE IF NOT EXISTS gcra ("
			     " sender TEXT PRIMARY KEY,"
			     " tat INTEGER NOT NULL"
			     ") WITHOUT ROWID;";

static bool damaged(int rc)
{
	return rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB;
}

/* Removes a damaged database (and its journal) so that the next process starts afresh. */
static void discard(sqlite3 *db)
{
	const char *path = sqlite3_db_filename(db, "main");
	char journal[RATELIMIT_PATH_MAX];

	if (path == NULL || path[0] == '\0')
		return;
	log_error("ratelimit: %s is damaged, starting afresh", path);
	if (snprintf(journal, sizeof journal, "%s-journal", path) < (int)sizeof journal)
		unlink(journal);
	unlink(path);
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
	int rc =
	    sqlite3_open_v2(path, &ratelimit->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_busy_timeout(ratelimit->db, RATELIMIT_BUSY_TIMEOUT_MS);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(ratelimit->db, schema, NULL, NULL, NULL);
	if (damaged(rc)) {
		discard(ratelimit->db);
		sqlite3_close(ratelimit->db);
		ratelimit->db = NULL;
		rc = sqlite3_open_v2(path, &ratelimit->db,
				     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
		if (rc == SQLITE_OK)
			rc = sqlite3_busy_timeout(ratelimit->db, RATELIMIT_BUSY_TIMEOUT_MS);
		if (rc == SQLITE_OK)
			rc = sqlite3_exec(ratelimit->db, schema, NULL, NULL, NULL);
	}
	if (rc != SQLITE_OK) {
		log_error("ratelimit: cannot open %s: %s", path,
			  ratelimit->db != NULL ? sqlite3_errmsg(ratelimit->db) : "no memory");
		ratelimit_close(ratelimit);
		return NULL;
	}
	return ratelimit;
}

void ratelimit_close(struct ratelimit *ratelimit)
{
	if (ratelimit == NULL)
		return;
	sqlite3_close(ratelimit->db);
	free(ratelimit);
}

/* Reads the stored time of sender (0 when none). Returns SQLITE_OK or an error. */
static int load(sqlite3 *db, const char *sender, int64_t *tat)
{
	sqlite3_stmt *stmt;
	int rc = sqlite3_prepare_v2(db, "SELECT tat FROM gcra WHERE sender = ?", -1, &stmt, NULL);
	if (rc != SQLITE_OK)
		return rc;
	sqlite3_bind_text(stmt, 1, sender, -1, SQLITE_STATIC);
	*tat = 0;
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		*tat = sqlite3_column_int64(stmt, 0);
		rc = SQLITE_OK;
	} else if (rc == SQLITE_DONE) {
		rc = SQLITE_OK;
	}
	sqlite3_finalize(stmt);
	return rc;
}

static int store(sqlite3 *db, const char *sender, int64_t tat)
{
	sqlite3_stmt *stmt;
	int rc = sqlite3_prepare_v2(db,
				    "INSERT INTO gcra (sender, tat) VALUES (?, ?)"
				    " ON CONFLICT (sender) DO UPDATE SET tat = excluded.tat",
				    -1, &stmt, NULL);
	if (rc != SQLITE_OK)
		return rc;
	sqlite3_bind_text(stmt, 1, sender, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 2, tat);
	rc = sqlite3_step(stmt);
	sqlite3_finalize(stmt);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* A sender whose time has passed is the same as one never seen: drop it. */
static int prune(sqlite3 *db, int64_t now)
{
	sqlite3_stmt *stmt;
	int rc = sqlite3_prepare_v2(db, "DELETE FROM gcra WHERE tat < ?", -1, &stmt, NULL);
	if (rc != SQLITE_OK)
		return rc;
	sqlite3_bind_int64(stmt, 1, now);
	rc = sqlite3_step(stmt);
	sqlite3_finalize(stmt);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

enum ratelimit_status ratelimit_check(struct ratelimit *ratelimit, const char *sender, int64_t now,
				      uint32_t per_minute, uint32_t burst)
{
	char key[RATELIMIT_SENDER_MAX];
	size_t len = strlen(sender);
	int64_t tat = 0, new_tat = 0;
	bool allowed = false;

	if (len >= sizeof key)
		return RATELIMIT_ERROR;
	for (size_t i = 0; i <= len; i++)
		key[i] = (char)tolower((unsigned char)sender[i]);

	sqlite3 *db = ratelimit->db;
	int rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = load(db, key, &tat);
	if (rc == SQLITE_OK) {
		allowed = ratelimit_gcra(tat, now, ratelimit_interval(per_minute), burst, &new_tat);
		if (new_tat != tat)
			rc = store(db, key, new_tat);
	}
	if (rc == SQLITE_OK && now % RATELIMIT_PRUNE_EVERY == 0)
		rc = prune(db, now);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		log_error("ratelimit: %s", sqlite3_errmsg(db));
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		if (damaged(rc))
			discard(db);
		return RATELIMIT_ERROR;
	}
	return allowed ? RATELIMIT_ALLOWED : RATELIMIT_DENIED;
}
