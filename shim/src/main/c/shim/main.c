/*
 * stevedore-shim: the per-container monitor (see shim/PROTOCOL.md).
 *
 *   stevedore-shim --id ID --bundle DIR --runtime PATH --runtime-root DIR --log-path FILE
 *                  --exit-dir DIR --socket-dir DIR --pid-file FILE [--shim-log FILE]
 *                  [--terminal] [--stdin] [--sync-fd N]
 *   stevedore-shim --version
 *
 * Process shape: the launched process (P0) forks P1, which calls setsid and forks the shim
 * (P2) and exits; P2 becomes a child subreaper and runs the runtime. P0 waits for P2's one
 * JSON sync line on an internal pipe, copies it to --sync-fd (default 1, stdout) and exits
 * 0 if it reported a pid, 1 otherwise. P0 outliving the report lets a caller that cannot
 * pass extra fds (the JVM) read it from the child's stdout; P2 holds none of P0's fds.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shim.h"

static char shim_log_default[PATH_MAX];

static void
usage (void)
{
  fputs ("usage: stevedore-shim --id ID --bundle DIR --runtime PATH --runtime-root DIR --log-path FILE\n"
         "         --exit-dir DIR --socket-dir DIR --pid-file FILE [--shim-log FILE]\n"
         "         [--terminal] [--stdin] [--sync-fd N]\n",
         stderr);
}

static int
parse_args (int argc, char **argv, struct shim_args *a)
{
  static const struct option opts[] = {
    { "id", required_argument, NULL, 'i' },       { "bundle", required_argument, NULL, 'b' },
    { "runtime", required_argument, NULL, 'r' },  { "runtime-root", required_argument, NULL, 'R' },
    { "log-path", required_argument, NULL, 'l' }, { "exit-dir", required_argument, NULL, 'e' },
    { "socket-dir", required_argument, NULL, 's' }, { "pid-file", required_argument, NULL, 'p' },
    { "shim-log", required_argument, NULL, 'L' }, { "terminal", no_argument, NULL, 't' },
    { "stdin", no_argument, NULL, 'I' },          { "sync-fd", required_argument, NULL, 'S' },
    { "version", no_argument, NULL, 'v' },        { NULL, 0, NULL, 0 },
  };
  const char **paths[] = { &a->bundle, &a->runtime, &a->runtime_root, &a->log_path,
                           &a->exit_dir, &a->socket_dir, &a->pid_file, &a->shim_log };
  const char *names[] = { "bundle", "runtime", "runtime-root", "log-path", "exit-dir", "socket-dir", "pid-file", "shim-log" };
  int c;
  char *end;

  *a = (struct shim_args){ .sync_fd = 1 };
  while ((c = getopt_long (argc, argv, "", opts, NULL)) != -1)
    switch (c)
      {
      case 'i': a->id = optarg; break;
      case 'b': a->bundle = optarg; break;
      case 'r': a->runtime = optarg; break;
      case 'R': a->runtime_root = optarg; break;
      case 'l': a->log_path = optarg; break;
      case 'e': a->exit_dir = optarg; break;
      case 's': a->socket_dir = optarg; break;
      case 'p': a->pid_file = optarg; break;
      case 'L': a->shim_log = optarg; break;
      case 't': a->terminal = true; break;
      case 'I': a->stdin_open = true; break;
      case 'S':
        errno = 0;
        a->sync_fd = (int) strtol (optarg, &end, 10);
        if (errno || *end || a->sync_fd < 0 || fcntl (a->sync_fd, F_GETFD) < 0)
          {
            fprintf (stderr, "stevedore-shim: --sync-fd %s is not an open fd\n", optarg);
            return -1;
          }
        break;
      case 'v': printf ("stevedore-shim %s\n", STEVEDORE_VERSION); exit (0);
      default: usage (); return -1;
      }
  if (optind != argc || a->id == NULL || a->id[0] == '\0' || strchr (a->id, '/') != NULL)
    {
      usage ();
      return -1;
    }
  if (a->shim_log == NULL)
    {
      /* Beside the container log, named so kubelet's rotation ("<log>.*") never matches it. */
      const char *slash = a->log_path ? strrchr (a->log_path, '/') : NULL;
      int dirlen = slash ? (int) (slash - a->log_path) : 0;
      if (snprintf (shim_log_default, sizeof shim_log_default, "%.*s/shim-%s.log", dirlen, a->log_path, a->id)
          >= (int) sizeof shim_log_default)
        return -1;
      a->shim_log = shim_log_default;
    }
  for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++)
    if (*paths[i] == NULL || (*paths[i])[0] != '/')
      {
        fprintf (stderr, "stevedore-shim: --%s must be given as an absolute path\n", names[i]);
        return -1;
      }
  return 0;
}

/* P2 reports on sync: {"pid":N} or {"error":"..."} with JSON string escaping. */
static void
sync_report (int sync, pid_t pid, const char *error)
{
  char buf[8192];
  size_t n = 0;
  if (error == NULL)
    n = snprintf (buf, sizeof buf, "{\"pid\":%d}\n", (int) pid);
  else
    {
      n = snprintf (buf, sizeof buf, "{\"error\":\"");
      for (const unsigned char *p = (const unsigned char *) error; *p && n < sizeof buf - 16; p++)
        {
          if (*p == '"' || *p == '\\')
            n += snprintf (buf + n, sizeof buf - n, "\\%c", *p);
          else if (*p < 0x20)
            n += snprintf (buf + n, sizeof buf - n, "\\u%04x", *p);
          else
            buf[n++] = *p;
        }
      n += snprintf (buf + n, sizeof buf - n, "\"}\n");
    }
  if (write_all (sync, buf, n) < 0)
    shim_log ("write sync message: %s", strerror (errno));
}

static void
write_shim_pid (const char *socket_dir)
{
  char path[PATH_MAX], tmp[PATH_MAX + 4], buf[16];
  int n = snprintf (buf, sizeof buf, "%d", (int) getpid ());
  cleanup_fd int fd = -1;
  if (join_path (path, sizeof path, socket_dir, SHIM_PID_FILE) < 0)
    return;
  snprintf (tmp, sizeof tmp, "%s.tmp", path);
  fd = open (tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0 || write_all (fd, buf, n) < 0 || rename (tmp, path) < 0)
    shim_log ("write %s: %s", path, strerror (errno));
}

/* P2: the shim proper. Never returns. */
static void
shim_run (const struct shim_args *a, int sync)
{
  char ctl_path[PATH_MAX], attach_path[PATH_MAX], error[4096];
  struct ctr_io io = { -1, -1, -1, -1 };
  sigset_t mask;
  int sigfd, code;
  pid_t pid = 0;

  if (prctl (PR_SET_CHILD_SUBREAPER, 1) < 0)
    {
      snprintf (error, sizeof error, "PR_SET_CHILD_SUBREAPER: %s", strerror (errno));
      goto fail;
    }
  signal (SIGPIPE, SIG_IGN);
  sigemptyset (&mask);
  sigaddset (&mask, SIGCHLD);
  sigprocmask (SIG_BLOCK, &mask, NULL);
  sigfd = signalfd (-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
  if (sigfd < 0)
    {
      snprintf (error, sizeof error, "signalfd: %s", strerror (errno));
      goto fail;
    }
  write_shim_pid (a->socket_dir);
  if (ctrlog_open (a->log_path) < 0)
    {
      snprintf (error, sizeof error, "open container log %s: %s", a->log_path, strerror (errno));
      goto fail;
    }
  if (runtime_create (a, &io, &pid, error, sizeof error) < 0)
    goto fail;
  if (join_path (ctl_path, sizeof ctl_path, a->socket_dir, SHIM_CTL_SOCK) < 0 || ctl_init (ctl_path, io.master) < 0
      || join_path (attach_path, sizeof attach_path, a->socket_dir, SHIM_ATTACH_SOCK) < 0
      || attach_init (attach_path, io.in) < 0)
    {
      /* The container exists but cannot be served: the daemon must delete it. */
      snprintf (error, sizeof error, "sockets in %s: %s", a->socket_dir, strerror (errno));
      goto fail;
    }
  oom_watch (pid);
  sync_report (sync, pid, NULL);
  close (sync);

  code = loop_run (&io, pid, sigfd);
  ctl_shutdown ();
  attach_shutdown ();
  unlink (ctl_path);
  unlink (attach_path);
  if (exit_write (a->exit_dir, a->id, code, oom_killed ()) < 0)
    {
      shim_log ("write exit file for %s (code %d): %s", a->id, code, strerror (errno));
      _exit (1);
    }
  _exit (0);

fail:
  shim_log ("%s", error);
  sync_report (sync, 0, error);
  _exit (1);
}

/* P0: waits for P1, then relays P2's sync line (or a synthesized error) to --sync-fd. */
static int
relay (int from, int to)
{
  static char buf[8192];
  size_t n = 0;
  ssize_t r;
  while (n < sizeof buf - 1 && ((r = read (from, buf + n, sizeof buf - 1 - n)) > 0 || (r < 0 && errno == EINTR)))
    n += r > 0 ? r : 0;
  if (n == 0)
    n = snprintf (buf, sizeof buf, "{\"error\":\"stevedore-shim exited before reporting\"}\n");
  if (write_all (to, buf, n) < 0)
    return 1;
  return strncmp (buf, "{\"pid\":", 7) == 0 ? 0 : 1;
}

int
main (int argc, char **argv)
{
  struct shim_args a;
  int p[2], st;
  pid_t child;

  if (parse_args (argc, argv, &a) < 0)
    return 2;
  if (pipe2 (p, O_CLOEXEC) < 0)
    {
      perror ("stevedore-shim: pipe");
      return 1;
    }
  child = fork ();
  if (child < 0)
    {
      perror ("stevedore-shim: fork");
      return 1;
    }
  if (child == 0)
    {
      int fd;
      close (p[0]);
      setsid ();
      child = fork ();
      if (child != 0)
        _exit (child < 0 ? 1 : 0);
      /* P2: detach from the caller's stdio and cwd; fd 2 is the shim's own log from now on. */
      if (a.sync_fd > 2)
        close (a.sync_fd);
      fd = open ("/dev/null", O_RDWR);
      if (fd >= 0)
        {
          dup2 (fd, 0);
          dup2 (fd, 1);
          if (fd > 2)
            close (fd);
        }
      fd = open (a.shim_log, O_WRONLY | O_CREAT | O_APPEND, 0640);
      if (fd < 0)
        fd = open ("/dev/null", O_WRONLY);
      if (fd >= 0 && fd != 2)
        {
          dup2 (fd, 2);
          close (fd);
        }
      umask (022);
      if (chdir ("/") < 0)
        shim_log ("chdir /: %s", strerror (errno));
      shim_run (&a, p[1]);
    }
  close (p[1]);
  while (waitpid (child, &st, 0) < 0 && errno == EINTR)
    ;
  return relay (p[0], a.sync_fd);
}
