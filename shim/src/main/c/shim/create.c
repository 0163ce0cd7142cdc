/*
 * Runs "<runtime> --root R create --bundle B --pid-file P [--console-socket S] <id>" and
 * collects the container's stdio: pipes, or the pty master that runc sends over the
 * console socket (SCM_RIGHTS) when the container has a terminal.
 *
 * Without a terminal, runc passes its own stdio to the container's init, so runc's error
 * messages land in the stderr pipe; on failure that is what we report. With a terminal,
 * runc's stdout/stderr is a separate pipe that is read the same way.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shim.h"

/* Appends what is buffered in fd (non-blocking) to err, without the trailing newline. */
static void
drain_text (int fd, char *err, size_t errlen)
{
  size_t used = strlen (err);
  if (fd < 0)
    return;
  fcntl (fd, F_SETFL, O_NONBLOCK);
  while (used + 1 < errlen)
    {
      ssize_t n = read (fd, err + used, errlen - used - 1);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break;
      used += n;
    }
  err[used] = '\0';
  while (used > 0 && (err[used - 1] == '\n' || err[used - 1] == ' '))
    err[--used] = '\0';
}

static int
read_pid_file (const char *path, pid_t *pid)
{
  char buf[32];
  ssize_t n;
  long v;
  char *end;
  cleanup_fd int fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  n = read (fd, buf, sizeof buf - 1);
  if (n <= 0)
    return -1;
  buf[n] = '\0';
  v = strtol (buf, &end, 10);
  if (v <= 0 || (*end != '\0' && *end != '\n'))
    {
      errno = EINVAL;
      return -1;
    }
  *pid = (pid_t) v;
  return 0;
}

static int
receive_master (int listener)
{
  char data[1];
  char control[CMSG_SPACE (sizeof (int))];
  struct iovec iov = { data, sizeof data };
  struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control };
  struct cmsghdr *cm;
  int master;
  cleanup_fd int conn = accept4 (listener, NULL, NULL, SOCK_CLOEXEC);
  if (conn < 0)
    return -1;
  if (recvmsg (conn, &msg, MSG_CMSG_CLOEXEC) < 0)
    return -1;
  cm = CMSG_FIRSTHDR (&msg);
  if (cm == NULL || cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
    {
      errno = EBADMSG;
      return -1;
    }
  memcpy (&master, CMSG_DATA (cm), sizeof master);
  return master;
}

static void
exec_runtime (const struct shim_args *a, const char *console, int in, int out, int err)
{
  const char *argv[12];
  int i = 0;
  if (dup2 (in, 0) < 0 || dup2 (out, 1) < 0 || dup2 (err, 2) < 0)
    _exit (127);
  argv[i++] = a->runtime;
  argv[i++] = "--root";
  argv[i++] = a->runtime_root;
  argv[i++] = "create";
  argv[i++] = "--bundle";
  argv[i++] = a->bundle;
  argv[i++] = "--pid-file";
  argv[i++] = a->pid_file;
  if (console)
    {
      argv[i++] = "--console-socket";
      argv[i++] = console;
    }
  argv[i++] = a->id;
  argv[i] = NULL;
  execv (a->runtime, (char *const *) argv);
  dprintf (2, "exec %s: %s\n", a->runtime, strerror (errno));
  _exit (127);
}

/* On failure returns -1 with a human-readable message in err. */
int
runtime_create (const struct shim_args *a, struct ctr_io *io, pid_t *pid, char *err, size_t errlen)
{
  int in[2] = { -1, -1 }, out[2] = { -1, -1 }, errp[2] = { -1, -1 };
  char console[sizeof ((struct sockaddr_un *) 0)->sun_path];
  cleanup_fd int devnull = open ("/dev/null", O_RDWR | O_CLOEXEC);
  cleanup_fd int listener = -1;
  int status, ret = -1;
  pid_t child;

  err[0] = '\0';
  if (a->terminal)
    {
      if (join_path (console, sizeof console, a->socket_dir, SHIM_CONSOLE_SOCK) < 0
          || (listener = unix_listen (console)) < 0)
        {
          snprintf (err, errlen, "console socket in %s: %s", a->socket_dir, strerror (errno));
          return -1;
        }
    }
  if (devnull < 0 || pipe2 (out, O_CLOEXEC) < 0 || pipe2 (errp, O_CLOEXEC) < 0
      || (a->stdin_open && !a->terminal && pipe2 (in, O_CLOEXEC) < 0))
    {
      snprintf (err, errlen, "stdio pipes: %s", strerror (errno));
      goto out;
    }

  child = fork ();
  if (child < 0)
    {
      snprintf (err, errlen, "fork: %s", strerror (errno));
      goto out;
    }
  if (child == 0)
    exec_runtime (a, a->terminal ? console : NULL, in[0] >= 0 ? in[0] : devnull, a->terminal ? errp[1] : out[1],
                  errp[1]);
  close_fdp (&in[0]);
  close_fdp (&out[1]);
  close_fdp (&errp[1]);
  while (waitpid (child, &status, 0) < 0 && errno == EINTR)
    ;

  if (!WIFEXITED (status) || WEXITSTATUS (status) != 0)
    {
      drain_text (errp[0], err, errlen);
      if (!a->terminal)
        drain_text (out[0], err, errlen);
      if (err[0] == '\0')
        snprintf (err, errlen, "%s create failed with status %d", a->runtime, exit_status_code (status));
      goto out;
    }
  if (read_pid_file (a->pid_file, pid) < 0)
    {
      snprintf (err, errlen, "read pid file %s: %s", a->pid_file, strerror (errno));
      goto out;
    }
  if (a->terminal)
    {
      int master = receive_master (listener);
      if (master < 0)
        {
          snprintf (err, errlen, "receive pty master from %s: %s", console, strerror (errno));
          goto out;
        }
      /* Separate fds: output reaches EOF (EIO) and is closed before resize stops working. */
      io->master = master;
      io->out = fcntl (master, F_DUPFD_CLOEXEC, 3);
      io->in = a->stdin_open ? fcntl (master, F_DUPFD_CLOEXEC, 3) : -1;
      io->err = -1;
    }
  else
    {
      io->out = out[0];
      io->err = errp[0];
      io->in = in[1];
      io->master = -1;
      out[0] = errp[0] = in[1] = -1;
    }
  fcntl (io->out, F_SETFL, O_NONBLOCK);
  if (io->err >= 0)
    fcntl (io->err, F_SETFL, O_NONBLOCK);
  if (io->in >= 0)
    fcntl (io->in, F_SETFL, O_NONBLOCK);
  ret = 0;
out:
  if (a->terminal)
    unlink (console);
  close_fdp (&in[0]);
  close_fdp (&in[1]);
  close_fdp (&out[0]);
  close_fdp (&out[1]);
  close_fdp (&errp[0]);
  close_fdp (&errp[1]);
  return ret;
}
