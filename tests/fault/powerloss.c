/*
 * powerloss.c: an LD_PRELOAD shim for the power-loss fault test
 * (tests/fault/10-power-loss.test.mjs). It wraps the calls the journal
 * writes its directory with (open, openat, write, pwrite, ftruncate,
 * fsync, fdatasync, renameat, unlinkat, linkat, mkdir, close) and keeps a
 * model of what a disk would hold after a power loss: per file, its
 * content as of its last fsync or fdatasync plus the writes made since;
 * per directory, its entries as of its last fsync. When the trigger file
 * appears, it makes the directory what a power loss would leave (each file
 * cut back to its synced content plus a random prefix of its unsynced
 * writes, the last one possibly torn part way; names created since the
 * last directory fsync gone, names unlinked or renamed since back as they
 * were; the journal directory itself gone if its parent was not fsynced
 * since it was made) and SIGKILLs the process.
 *
 * Environment:
 *   POWERLOSS_DIR      the journal directory (absolute, as in the config)
 *   POWERLOSS_TRIGGER  the file whose appearance cuts the power
 *   POWERLOSS_SEED     seed of the random prefixes (default: the pid)
 * Without POWERLOSS_DIR every call passes through untouched.
 *
 * What happened is written to stderr (the daemon's log) in one line
 * starting "powerloss:". Only direct children of the journal directory
 * are modelled; quarantine/ and its links are not.
 *
 * Threads: every wrapped call on a modelled file or directory holds one
 * mutex across the real call and the model's update (fsync and fdatasync:
 * before and after the real call, not during it), and the cut holds it
 * until the process is dead, so the cut falls between two calls or during
 * a sync.
 */
#define _GNU_SOURCE
#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PL_MAX_FDS	4096
#define PL_NAME_MAX	256

/* One write (or truncation, data NULL) made since the file's last sync. */
struct pl_op {
	struct pl_op	*next;
	off_t		 off;		/* a truncation: the new size */
	size_t		 len;
	unsigned char	*data;
};

/* A file (an inode): its synced content and the writes after it. */
struct pl_file {
	unsigned char	*synced;
	size_t		 size;
	size_t		 cap;
	struct pl_op	*ops;		/* oldest first */
	struct pl_op	**tail;
	uint64_t	 logged;	/* ops logged, ever */
	uint64_t	 synced_ops;	/* of them, applied to synced */
};

/* A directory entry: a name and its file. */
struct pl_entry {
	char		 name[PL_NAME_MAX];
	struct pl_file	*file;
};

/* An open file descriptor the model follows. */
enum pl_kind { PL_NONE, PL_FILE, PL_DIR, PL_PARENT };
struct pl_fd {
	enum pl_kind	 kind;
	struct pl_file	*file;
	dev_t		 dev;
	ino_t		 ino;
};

static pthread_mutex_t pl_lock = PTHREAD_MUTEX_INITIALIZER;
static char pl_dir[PATH_MAX];		/* "" when the shim is off */
static char pl_parent[PATH_MAX];
static char pl_trigger[PATH_MAX];
static int pl_scanned;			/* the directory was read */
static int pl_dir_made;			/* mkdir'd, parent not fsynced */
static struct pl_entry *pl_now;		/* entries now */
static size_t pl_nnow, pl_capnow;
static struct pl_entry *pl_synced;	/* as of the last fsync */
static size_t pl_nsynced;
static struct pl_fd pl_fds[PL_MAX_FDS];
static unsigned long pl_syncs;
static int pl_armed;			/* changes to let through, then cut */
static const char *pl_when = "at the trigger";
static uint64_t pl_rand_state;

static int (*real_open)(const char *, int, ...);
static int (*real_openat)(int, const char *, int, ...);
static ssize_t (*real_write)(int, const void *, size_t);
static ssize_t (*real_pwrite)(int, const void *, size_t, off_t);
static int (*real_ftruncate)(int, off_t);
static int (*real_fsync)(int);
static int (*real_fdatasync)(int);
static int (*real_renameat)(int, const char *, int, const char *);
static int (*real_rename)(const char *, const char *);
static int (*real_unlinkat)(int, const char *, int);
static int (*real_unlink)(const char *);
static int (*real_linkat)(int, const char *, int, const char *, int);
static int (*real_mkdir)(const char *, mode_t);
static int (*real_close)(int);

/* Dies with a message: the model cannot follow what the process did. */
static void
pl_die(const char *what)
{
	char line[512];
	int n;

	n = snprintf(line, sizeof line, "powerloss: %s\n", what);
	if (n > 0 && real_write != NULL)
		(void)real_write(2, line, (size_t)n);
	abort();
}

static void *
pl_alloc(size_t n)
{
	void *p = malloc(n == 0 ? 1 : n);

	if (p == NULL)
		pl_die("out of memory");
	return p;
}

/* A random number (xorshift64*); lock held. */
static uint64_t
pl_rand(void)
{
	pl_rand_state ^= pl_rand_state >> 12;
	pl_rand_state ^= pl_rand_state << 25;
	pl_rand_state ^= pl_rand_state >> 27;
	return pl_rand_state * 2685821657736338717ULL;
}

static struct pl_file *
pl_file_new(void)
{
	struct pl_file *f = pl_alloc(sizeof *f);

	memset(f, 0, sizeof *f);
	f->tail = &f->ops;
	return f;
}

/*
 * Applies the first len bytes of op (all of a truncation) to the content
 * (*data, *size, its allocation *cap).
 */
static void
pl_apply(unsigned char **data, size_t *size, size_t *cap,
    const struct pl_op *op, size_t len)
{
	size_t end = op->data == NULL ? (size_t)op->off :
	    (size_t)op->off + len;
	unsigned char *nd;

	if (end > *cap) {
		*cap = end > 2 * *cap ? end : 2 * *cap;
		if ((nd = realloc(*data, *cap)) == NULL)
			pl_die("out of memory");
		*data = nd;
	}
	if (end > *size)
		memset(*data + *size, 0, end - *size);
	if (op->data == NULL || end > *size)
		*size = end;
	if (op->data != NULL)
		memcpy(*data + op->off, op->data, len);
}

/* Records a write (data) or a truncation (data NULL) on f; lock held. */
static void
pl_file_log(struct pl_file *f, off_t off, const void *data, size_t len)
{
	struct pl_op *op = pl_alloc(sizeof *op);

	op->next = NULL;
	op->off = off;
	op->len = len;
	op->data = NULL;
	if (data != NULL) {
		op->data = pl_alloc(len);
		memcpy(op->data, data, len);
	}
	*f->tail = op;
	f->tail = &op->next;
	f->logged++;
}

/* Makes the first upto ops ever logged on f synced; lock held. */
static void
pl_file_sync(struct pl_file *f, uint64_t upto)
{
	struct pl_op *op;

	while (f->synced_ops < upto && (op = f->ops) != NULL) {
		pl_apply(&f->synced, &f->size, &f->cap, op, op->len);
		f->ops = op->next;
		if (f->ops == NULL)
			f->tail = &f->ops;
		free(op->data);
		free(op);
		f->synced_ops++;
	}
}

/* The entry name in list (n of them), or NULL. */
static struct pl_entry *
pl_find(struct pl_entry *list, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(list[i].name, name) == 0)
			return &list[i];
	return NULL;
}

/* Sets name to f in the entries now; lock held. */
static void
pl_now_set(const char *name, struct pl_file *f)
{
	struct pl_entry *e = pl_find(pl_now, pl_nnow, name);

	if (e == NULL) {
		if (pl_nnow == pl_capnow) {
			pl_capnow = pl_capnow == 0 ? 64 : pl_capnow * 2;
			pl_now = realloc(pl_now, pl_capnow * sizeof *pl_now);
			if (pl_now == NULL)
				pl_die("out of memory");
		}
		e = &pl_now[pl_nnow++];
		snprintf(e->name, sizeof e->name, "%s", name);
	}
	e->file = f;
}

static void
pl_now_remove(const char *name)
{
	struct pl_entry *e = pl_find(pl_now, pl_nnow, name);

	if (e != NULL)
		*e = pl_now[--pl_nnow];
}

/* Writes the path of name in the journal directory to out. */
static void
pl_path(char *out, size_t outlen, const char *name)
{
	int n = snprintf(out, outlen, "%s/%s", pl_dir, name);

	if (n < 0 || (size_t)n >= outlen)
		pl_die("a path too long");
}

/* Reads the file name of the directory into a new, synced pl_file. */
static struct pl_file *
pl_file_load(const char *name)
{
	struct pl_file *f = pl_file_new();
	char path[PATH_MAX + PL_NAME_MAX + 2];
	unsigned char buf[65536];
	ssize_t n;
	int fd;

	pl_path(path, sizeof path, name);
	if ((fd = real_open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return f;
	while ((n = read(fd, buf, sizeof buf)) > 0) {
		if (f->size + (size_t)n > f->cap) {
			f->cap = (f->size + (size_t)n) * 2;
			if ((f->synced = realloc(f->synced, f->cap)) == NULL)
				pl_die("out of memory");
		}
		memcpy(f->synced + f->size, buf, (size_t)n);
		f->size += (size_t)n;
	}
	real_close(fd);
	return f;
}

/*
 * Reads the journal directory as it is now into the model, all of it
 * synced (it is what the last run left on disk). Lock held.
 */
static void
pl_scan(void)
{
	struct dirent *de;
	struct stat st;
	char path[PATH_MAX + PL_NAME_MAX + 2];
	DIR *d;

	pl_scanned = 1;
	if ((d = opendir(pl_dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		pl_path(path, sizeof path, de->d_name);
		if (lstat(path, &st) == -1 || !S_ISREG(st.st_mode))
			continue;
		pl_now_set(de->d_name, pl_file_load(de->d_name));
	}
	closedir(d);
	free(pl_synced);
	pl_synced = pl_alloc(pl_nnow * sizeof *pl_synced);
	memcpy(pl_synced, pl_now, pl_nnow * sizeof *pl_synced);
	pl_nsynced = pl_nnow;
}

/*
 * What (dirfd, path) names: PL_DIR for the journal directory, PL_PARENT
 * for its parent, PL_FILE for a direct child (its name in *name), else
 * PL_NONE.
 */
static enum pl_kind
pl_resolve(int dirfd, const char *path, const char **name)
{
	size_t n = strlen(pl_dir);

	*name = NULL;
	if (pl_dir[0] == '\0' || path == NULL)
		return PL_NONE;
	if (path[0] == '/') {
		if (strcmp(path, pl_dir) == 0)
			return PL_DIR;
		if (strcmp(path, pl_parent) == 0)
			return PL_PARENT;
		if (strncmp(path, pl_dir, n) == 0 && path[n] == '/' &&
		    path[n + 1] != '\0' && strchr(path + n + 1, '/') == NULL) {
			*name = path + n + 1;
			return PL_FILE;
		}
		return PL_NONE;
	}
	if (dirfd < 0 || dirfd >= PL_MAX_FDS ||
	    pl_fds[dirfd].kind != PL_DIR)
		return PL_NONE;
	if (strchr(path, '/') != NULL || strcmp(path, ".") == 0 ||
	    strcmp(path, "..") == 0)
		return PL_NONE;
	*name = path;
	return PL_FILE;
}

/* The model's entry for fd, or NULL if it follows no such fd. */
static struct pl_fd *
pl_fd_get(int fd)
{
	struct pl_fd *p;
	struct stat st;

	if (fd < 0 || fd >= PL_MAX_FDS || pl_fds[fd].kind == PL_NONE)
		return NULL;
	p = &pl_fds[fd];
	/* Closed behind the shim's back (closedir) and reused: forget it. */
	if (fstat(fd, &st) == -1 || st.st_dev != p->dev ||
	    st.st_ino != p->ino) {
		p->kind = PL_NONE;
		return NULL;
	}
	return p;
}

static void
pl_fd_set(int fd, enum pl_kind kind, struct pl_file *f)
{
	struct stat st;

	if (fd < 0 || fd >= PL_MAX_FDS)
		pl_die("file descriptor out of range");
	if (fstat(fd, &st) == -1)
		pl_die("fstat of a new descriptor failed");
	pl_fds[fd].kind = kind;
	pl_fds[fd].file = f;
	pl_fds[fd].dev = st.st_dev;
	pl_fds[fd].ino = st.st_ino;
}

/* Writes content to path (creating it). Returns 0 or -1. */
static int
pl_put(const char *path, const unsigned char *data, size_t len)
{
	ssize_t n;
	int fd;

	fd = real_open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd == -1)
		return -1;
	while (len > 0) {
		n = real_write(fd, data, len);
		if (n <= 0) {
			real_close(fd);
			return -1;
		}
		data += n;
		len -= (size_t)n;
	}
	return real_close(fd);
}

/* Removes dir and what it holds (one level of subdirectories). */
static void
pl_remove_tree(const char *dir)
{
	char path[PATH_MAX + PL_NAME_MAX + 2];
	struct dirent *de;
	struct stat st;
	DIR *d;

	if ((d = opendir(dir)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			if (strcmp(de->d_name, ".") == 0 ||
			    strcmp(de->d_name, "..") == 0)
				continue;
			snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
			if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
				pl_remove_tree(path);
			else
				real_unlink(path);
		}
		closedir(d);
	}
	rmdir(dir);
}

/*
 * The power loss: makes the directory what a disk would hold, logs it and
 * SIGKILLs the process. Lock held; never returns.
 */
static void
pl_cut(void)
{
	char path[PATH_MAX + PL_NAME_MAX + 2], line[512];
	unsigned long long kept = 0, dropped = 0, torn = 0;
	unsigned removed = 0, restored = 0;
	struct pl_entry *e;
	struct pl_op *op;
	unsigned char *data;
	size_t i, size, cap, nops, k, len;
	int n;

	if (pl_dir_made) {
		pl_remove_tree(pl_dir);
		n = snprintf(line, sizeof line, "powerloss: after %lu syncs, "
		    "%s: %s gone (its parent was not fsynced since it was "
		    "made)\n", pl_syncs, pl_when, pl_dir);
		goto kill;
	}
	/* Names made since the directory's last fsync go. */
	for (i = 0; i < pl_nnow; i++) {
		e = pl_find(pl_synced, pl_nsynced, pl_now[i].name);
		if (e == NULL || e->file != pl_now[i].file) {
			pl_path(path, sizeof path, pl_now[i].name);
			real_unlink(path);
			if (e == NULL)
				removed++;
		}
	}
	/* Each synced name holds its file: synced content, then a random
	 * prefix of what was written since, the last write maybe torn. */
	for (i = 0; i < pl_nsynced; i++) {
		e = &pl_synced[i];
		if (pl_find(pl_now, pl_nnow, e->name) == NULL ||
		    pl_find(pl_now, pl_nnow, e->name)->file != e->file)
			restored++;
		size = cap = e->file->size;
		data = pl_alloc(size);
		memcpy(data, e->file->synced, size);
		for (nops = 0, op = e->file->ops; op != NULL; op = op->next)
			nops++;
		k = (size_t)(pl_rand() % (nops + 1));
		for (op = e->file->ops; op != NULL; op = op->next, k--) {
			if (k == 0) {
				/* This one torn: a prefix of its bytes. */
				len = op->data == NULL ? 0 :
				    (size_t)(pl_rand() % (op->len + 1));
				if (len > 0) {
					pl_apply(&data, &size, &cap, op, len);
					torn += len;
				}
				for (; op != NULL; op = op->next)
					dropped += op->data == NULL ? 0 :
					    op->len;
				dropped -= len;
				break;
			}
			pl_apply(&data, &size, &cap, op, op->len);
			kept += op->data == NULL ? 0 : op->len;
		}
		pl_path(path, sizeof path, e->name);
		if (pl_put(path, data, size) == -1)
			pl_die("cannot write a file back");
		free(data);
	}
	n = snprintf(line, sizeof line, "powerloss: after %lu syncs, %s: "
	    "%zu files, unsynced bytes kept %llu, torn %llu, dropped %llu; "
	    "%u names made since the directory's fsync removed, %u "
	    "restored\n", pl_syncs, pl_when, pl_nsynced, kept, torn, dropped,
	    removed, restored);
kill:
	if (n > 0)
		(void)real_write(2, line, (size_t)n);
	kill(getpid(), SIGKILL);
	for (;;)
		pause();
}

/*
 * Counts a change to the model (a write, a truncation, a name made,
 * renamed or removed) and cuts the power when it is the one the armed
 * trigger waits for. Lock held.
 */
static void
pl_changed(void)
{
	if (pl_armed > 0 && --pl_armed == 0) {
		pl_when = "right after a write or a change of names";
		pl_cut();
	}
}

/*
 * Waits for the trigger file, then cuts the power: at once (whatever is
 * synced then) or, one time in two, right after one of the next few
 * changes, so that the cut finds unsynced writes or names, torn too (or
 * after half a second, if no change comes).
 */
static void *
pl_watch(void *arg)
{
	struct timespec ts = { 0, 1000000 };
	int waited;

	(void)arg;
	while (access(pl_trigger, F_OK) != 0)
		nanosleep(&ts, NULL);
	pthread_mutex_lock(&pl_lock);
	if (pl_rand() % 2 == 0)
		pl_cut();
	pl_armed = 1 + (int)(pl_rand() % 4);
	pthread_mutex_unlock(&pl_lock);
	for (waited = 0; waited < 500; waited++)
		nanosleep(&ts, NULL);
	pthread_mutex_lock(&pl_lock);
	pl_when = "no change came after the trigger";
	pl_cut();
	return NULL;
}

static void
pl_resolve_all(void)
{
	real_open = dlsym(RTLD_NEXT, "open");
	real_openat = dlsym(RTLD_NEXT, "openat");
	real_write = dlsym(RTLD_NEXT, "write");
	real_pwrite = dlsym(RTLD_NEXT, "pwrite");
	real_ftruncate = dlsym(RTLD_NEXT, "ftruncate");
	real_fsync = dlsym(RTLD_NEXT, "fsync");
	real_fdatasync = dlsym(RTLD_NEXT, "fdatasync");
	real_renameat = dlsym(RTLD_NEXT, "renameat");
	real_rename = dlsym(RTLD_NEXT, "rename");
	real_unlinkat = dlsym(RTLD_NEXT, "unlinkat");
	real_unlink = dlsym(RTLD_NEXT, "unlink");
	real_linkat = dlsym(RTLD_NEXT, "linkat");
	real_mkdir = dlsym(RTLD_NEXT, "mkdir");
	real_close = dlsym(RTLD_NEXT, "close");
	if (real_open == NULL || real_openat == NULL || real_write == NULL ||
	    real_pwrite == NULL || real_ftruncate == NULL ||
	    real_fsync == NULL || real_fdatasync == NULL ||
	    real_renameat == NULL || real_rename == NULL ||
	    real_unlinkat == NULL || real_unlink == NULL ||
	    real_linkat == NULL || real_mkdir == NULL || real_close == NULL)
		pl_die("cannot find the C library's functions");
}

__attribute__((constructor)) static void
pl_init(void)
{
	const char *dir = getenv("POWERLOSS_DIR");
	const char *trigger = getenv("POWERLOSS_TRIGGER");
	const char *seed = getenv("POWERLOSS_SEED");
	pthread_t t;
	char *slash;

	pl_resolve_all();
	if (dir == NULL || dir[0] != '/' || trigger == NULL ||
	    strlen(dir) >= sizeof pl_dir || strlen(trigger) >= sizeof pl_trigger)
		return;
	snprintf(pl_dir, sizeof pl_dir, "%s", dir);
	while (strlen(pl_dir) > 1 && pl_dir[strlen(pl_dir) - 1] == '/')
		pl_dir[strlen(pl_dir) - 1] = '\0';
	snprintf(pl_parent, sizeof pl_parent, "%s", pl_dir);
	slash = strrchr(pl_parent, '/');
	if (slash == pl_parent)
		slash[1] = '\0';
	else
		*slash = '\0';
	snprintf(pl_trigger, sizeof pl_trigger, "%s", trigger);
	pl_rand_state = seed != NULL ? strtoull(seed, NULL, 10) :
	    (uint64_t)getpid();
	pl_rand_state = pl_rand_state * 0x9E3779B97F4A7C15ULL + 1;
	if (pthread_create(&t, NULL, pl_watch, NULL) != 0)
		pl_die("cannot start the watcher thread");
	pthread_detach(t);
}

/* The open and openat wrappers' common part; lock not held. */
static int
pl_open(int dirfd, const char *path, int flags, mode_t mode)
{
	struct pl_entry *e;
	struct pl_file *f;
	const char *name;
	enum pl_kind kind;
	int fd;

	pthread_mutex_lock(&pl_lock);
	kind = pl_resolve(dirfd, path, &name);
	if (kind == PL_NONE) {
		pthread_mutex_unlock(&pl_lock);
		return dirfd == AT_FDCWD ? real_open(path, flags, mode) :
		    real_openat(dirfd, path, flags, mode);
	}
	if (!pl_scanned && kind != PL_PARENT)
		pl_scan();
	fd = dirfd == AT_FDCWD ? real_open(path, flags, mode) :
	    real_openat(dirfd, path, flags, mode);
	if (fd != -1) {
		if (kind == PL_FILE) {
			e = pl_find(pl_now, pl_nnow, name);
			if (e == NULL) {
				/* Made now (O_CREAT), or there before the
				 * shim saw the directory: its bytes now. */
				f = (flags & O_CREAT) ? pl_file_new() :
				    pl_file_load(name);
				pl_now_set(name, f);
				pl_changed();
			} else
				f = e->file;
			if ((flags & O_TRUNC) &&
			    (flags & O_ACCMODE) != O_RDONLY) {
				pl_file_log(f, 0, NULL, 0);
				pl_changed();
			}
			pl_fd_set(fd, PL_FILE, f);
		} else
			pl_fd_set(fd, kind, NULL);
	}
	pthread_mutex_unlock(&pl_lock);
	return fd;
}

int
open(const char *path, int flags, ...)
{
	mode_t mode = 0;
	va_list ap;

	if ((flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE) {
		va_start(ap, flags);
		mode = va_arg(ap, mode_t);
		va_end(ap);
	}
	return pl_open(AT_FDCWD, path, flags, mode);
}

int
openat(int dirfd, const char *path, int flags, ...)
{
	mode_t mode = 0;
	va_list ap;

	if ((flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE) {
		va_start(ap, flags);
		mode = va_arg(ap, mode_t);
		va_end(ap);
	}
	return pl_open(dirfd, path, flags, mode);
}

ssize_t
write(int fd, const void *buf, size_t len)
{
	struct pl_fd *p;
	ssize_t n;
	off_t end;

	if (pl_dir[0] == '\0')
		return real_write(fd, buf, len);
	pthread_mutex_lock(&pl_lock);
	if ((p = pl_fd_get(fd)) == NULL || p->kind != PL_FILE) {
		pthread_mutex_unlock(&pl_lock);
		return real_write(fd, buf, len);
	}
	n = real_write(fd, buf, len);
	if (n > 0 && (end = lseek(fd, 0, SEEK_CUR)) != -1) {
		pl_file_log(p->file, end - n, buf, (size_t)n);
		pl_changed();
	}
	pthread_mutex_unlock(&pl_lock);
	return n;
}

ssize_t
pwrite(int fd, const void *buf, size_t len, off_t off)
{
	struct pl_fd *p;
	ssize_t n;

	if (pl_dir[0] == '\0')
		return real_pwrite(fd, buf, len, off);
	pthread_mutex_lock(&pl_lock);
	if ((p = pl_fd_get(fd)) == NULL || p->kind != PL_FILE) {
		pthread_mutex_unlock(&pl_lock);
		return real_pwrite(fd, buf, len, off);
	}
	n = real_pwrite(fd, buf, len, off);
	if (n > 0) {
		pl_file_log(p->file, off, buf, (size_t)n);
		pl_changed();
	}
	pthread_mutex_unlock(&pl_lock);
	return n;
}

int
ftruncate(int fd, off_t len)
{
	struct pl_fd *p;
	int rc;

	if (pl_dir[0] == '\0')
		return real_ftruncate(fd, len);
	pthread_mutex_lock(&pl_lock);
	rc = real_ftruncate(fd, len);
	if (rc == 0 && (p = pl_fd_get(fd)) != NULL && p->kind == PL_FILE) {
		pl_file_log(p->file, len, NULL, 0);
		pl_changed();
	}
	pthread_mutex_unlock(&pl_lock);
	return rc;
}

/*
 * fsync and fdatasync: both make a file's data and size synced, or a
 * directory's entries. What the call covers is taken when it starts and
 * made synced when it returns; the lock is not held in between, so a cut
 * can fall during the call (and then counts nothing of it as synced).
 */
static int
pl_sync(int fd, int (*real)(int))
{
	struct pl_entry *snap = NULL;
	struct pl_file *f = NULL;
	struct pl_fd *p;
	enum pl_kind kind = PL_NONE;
	uint64_t upto = 0;
	size_t nsnap = 0;
	int rc;

	if (pl_dir[0] == '\0')
		return real(fd);
	pthread_mutex_lock(&pl_lock);
	if ((p = pl_fd_get(fd)) != NULL) {
		kind = p->kind;
		f = p->file;
		if (kind == PL_FILE)
			upto = f->logged;
		else if (kind == PL_DIR) {
			nsnap = pl_nnow;
			snap = pl_alloc(nsnap * sizeof *snap);
			memcpy(snap, pl_now, nsnap * sizeof *snap);
		}
	}
	pthread_mutex_unlock(&pl_lock);
	rc = real(fd);
	pthread_mutex_lock(&pl_lock);
	if (rc == 0 && kind != PL_NONE) {
		pl_syncs++;
		if (kind == PL_FILE)
			pl_file_sync(f, upto);
		else if (kind == PL_DIR) {
			free(pl_synced);
			pl_synced = snap;
			pl_nsynced = nsnap;
			snap = NULL;
		} else if (kind == PL_PARENT)
			pl_dir_made = 0;
	}
	pthread_mutex_unlock(&pl_lock);
	free(snap);
	return rc;
}

int
fsync(int fd)
{
	return pl_sync(fd, real_fsync);
}

int
fdatasync(int fd)
{
	return pl_sync(fd, real_fdatasync);
}

int
renameat(int olddirfd, const char *oldpath, int newdirfd,
    const char *newpath)
{
	struct pl_entry *e;
	const char *from, *to;
	enum pl_kind k1, k2;
	int rc;

	pthread_mutex_lock(&pl_lock);
	k1 = pl_resolve(olddirfd, oldpath, &from);
	k2 = pl_resolve(newdirfd, newpath, &to);
	if ((k1 == PL_FILE) != (k2 == PL_FILE))
		pl_die("a rename into or out of the journal directory");
	rc = real_renameat(olddirfd, oldpath, newdirfd, newpath);
	if (rc == 0 && k1 == PL_FILE &&
	    (e = pl_find(pl_now, pl_nnow, from)) != NULL) {
		struct pl_file *f = e->file;

		pl_now_remove(from);
		pl_now_set(to, f);
		pl_changed();
	}
	pthread_mutex_unlock(&pl_lock);
	return rc;
}

int
rename(const char *oldpath, const char *newpath)
{
	return renameat(AT_FDCWD, oldpath, AT_FDCWD, newpath);
}

int
unlinkat(int dirfd, const char *path, int flags)
{
	const char *name;
	int rc;

	pthread_mutex_lock(&pl_lock);
	rc = real_unlinkat(dirfd, path, flags);
	if (rc == 0 && pl_resolve(dirfd, path, &name) == PL_FILE) {
		pl_now_remove(name);
		pl_changed();
	}
	pthread_mutex_unlock(&pl_lock);
	return rc;
}

int
unlink(const char *path)
{
	return unlinkat(AT_FDCWD, path, 0);
}

int
linkat(int olddirfd, const char *oldpath, int newdirfd, const char *newpath,
    int flags)
{
	struct pl_entry *e;
	const char *from, *to;
	int rc;

	pthread_mutex_lock(&pl_lock);
	rc = real_linkat(olddirfd, oldpath, newdirfd, newpath, flags);
	/* Links into quarantine/ are not modelled; within the directory,
	 * the new name shares the file. */
	if (rc == 0 && pl_resolve(olddirfd, oldpath, &from) == PL_FILE &&
	    pl_resolve(newdirfd, newpath, &to) == PL_FILE &&
	    (e = pl_find(pl_now, pl_nnow, from)) != NULL) {
		pl_now_set(to, e->file);
		pl_changed();
	}
	pthread_mutex_unlock(&pl_lock);
	return rc;
}

int
mkdir(const char *path, mode_t mode)
{
	const char *name;
	int rc;

	pthread_mutex_lock(&pl_lock);
	rc = real_mkdir(path, mode);
	if (rc == 0 && pl_resolve(AT_FDCWD, path, &name) == PL_DIR) {
		pl_dir_made = 1;
		if (!pl_scanned)
			pl_scan();
	}
	pthread_mutex_unlock(&pl_lock);
	return rc;
}

int
close(int fd)
{
	if (pl_dir[0] != '\0' && fd >= 0 && fd < PL_MAX_FDS) {
		pthread_mutex_lock(&pl_lock);
		pl_fds[fd].kind = PL_NONE;
		pthread_mutex_unlock(&pl_lock);
	}
	return real_close(fd);
}
