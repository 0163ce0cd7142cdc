/*
 * stevedore-shim: the per-container monitor. Shared declarations.
 * The wire formats are specified in shim/PROTOCOL.md; keep both in sync.
 */
#ifndef STEVEDORE_SHIM_H
#define STEVEDORE_SHIM_H

#include <stdbool.h>
#include <poll.h>
#include <stddef.h>
#include <sys/types.h>
#include <unistd.h>

#ifndef STEVEDORE_VERSION
#define STEVEDORE_VERSION "0.1.0"
#endif

/* The largest chunk read from the container at once, hence the longest CRI log line body. */
#define SHIM_CHUNK 16384

/* File names inside --socket-dir. */
#define SHIM_CTL_SOCK "ctl.sock"
#define SHIM_ATTACH_SOCK "attach.sock"
#define SHIM_CONSOLE_SOCK "console.sock"
#define SHIM_PID_FILE "shim.pid"

enum stream
{
  STREAM_STDOUT = 1,
  STREAM_STDERR = 2,
};

struct shim_args
{
  const char *id;
  const char *bundle;
  const char *runtime;
  const char *runtime_root;
  const char *log_path;
  const char *exit_dir;
  const char *socket_dir;
  const char *pid_file;
  const char *shim_log; /* never NULL after parse_args */
  bool terminal;
  bool stdin_open;
  int sync_fd;
};

/* The shim's ends of the container's stdio; -1 where absent. */
struct ctr_io
{
  int out;    /* stdout pipe read end, or the pty master */
  int err;    /* stderr pipe read end; -1 with a terminal */
  int in;     /* stdin pipe write end, or a dup of the pty master; -1 without --stdin */
  int master; /* the pty master (for resize); -1 without a terminal */
};

/* util.c */
void shim_log (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));
int join_path (char *buf, size_t len, const char *dir, const char *name);
int write_all (int fd, const void *buf, size_t len);
int unix_listen (const char *path);
void close_fdp (int *fd);
#define cleanup_fd __attribute__ ((cleanup (close_fdp)))

/* create.c */
int runtime_create (const struct shim_args *a, struct ctr_io *io, pid_t *pid, char *err, size_t errlen);

/* io.c */
int ctrlog_open (const char *path);
int ctrlog_reopen (void);
void ctrlog_write (enum stream s, const char *buf, size_t len);
int io_pump (int fd, enum stream s);

/* attach.c */
int attach_init (const char *path, int stdin_fd);
int attach_pollfds (struct pollfd *p, int *tags, int tag_base);
void attach_handle (int tag, short revents, int tag_base);
void attach_broadcast (enum stream s, const char *buf, size_t len);
void attach_shutdown (void);
#define ATTACH_TAGS 18

/* ctl.c */
int ctl_init (const char *path, int master);
int ctl_pollfds (struct pollfd *p, int *tags, int tag_base);
void ctl_handle (int tag, short revents, int tag_base);
void ctl_shutdown (void);
#define CTL_TAGS 8

/* exit.c */
void oom_watch (pid_t pid);
bool oom_killed (void);
int exit_status_code (int wstatus);
int exit_write (const char *dir, const char *id, int code, bool oom);

/* loop.c */
int loop_run (struct ctr_io *io, pid_t ctr_pid, int sigfd);

#endif
