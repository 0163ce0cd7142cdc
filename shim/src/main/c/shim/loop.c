/*
 * The event loop: container output, SIGCHLD (signalfd), control and attach sockets.
 * Runs until the container's init has been reaped and its output drained; returns its
 * exit code. Orphans reparented to the shim (it is a child subreaper) are reaped too.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "shim.h"

/* After the init exits, processes it left in the host PID namespace may keep the pipes open. */
#define DRAIN_MS 1000

enum
{
  TAG_OUT,
  TAG_ERR,
  TAG_SIG,
  TAG_CTL,
  TAG_ATTACH = TAG_CTL + CTL_TAGS,
  TAG_END = TAG_ATTACH + ATTACH_TAGS,
};

static long
now_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000L + ts.tv_nsec / 1000000;
}

/* Reaps every exited child; returns true (and sets *code) once ctr_pid was among them. */
static bool
reap (int sigfd, pid_t ctr_pid, int *code)
{
  struct signalfd_siginfo si;
  bool found = false;
  int st;
  pid_t p;
  while (read (sigfd, &si, sizeof si) > 0)
    ;
  while ((p = waitpid (-1, &st, WNOHANG)) > 0)
    if (p == ctr_pid)
      {
        *code = exit_status_code (st);
        found = true;
      }
  if (p < 0 && errno == ECHILD && !found && kill (ctr_pid, 0) < 0 && errno == ESRCH)
    {
      shim_log ("container pid %d is gone but was not our child: exit code unknown", (int) ctr_pid);
      *code = 255;
      found = true;
    }
  return found;
}

static void
close_stream (int *fd)
{
  close_fdp (fd);
}

int
loop_run (struct ctr_io *io, pid_t ctr_pid, int sigfd)
{
  struct pollfd p[TAG_END];
  int tags[TAG_END];
  bool exited = false;
  long deadline = 0;
  int code = 255;

  for (;;)
    {
      int n = 0, timeout = -1, r;
      if (exited)
        {
          long left = deadline - now_ms ();
          if ((io->out < 0 && io->err < 0) || left <= 0)
            break;
          timeout = (int) left;
        }
      if (io->out >= 0)
        {
          p[n] = (struct pollfd){ .fd = io->out, .events = POLLIN };
          tags[n++] = TAG_OUT;
        }
      if (io->err >= 0)
        {
          p[n] = (struct pollfd){ .fd = io->err, .events = POLLIN };
          tags[n++] = TAG_ERR;
        }
      if (!exited)
        {
          p[n] = (struct pollfd){ .fd = sigfd, .events = POLLIN };
          tags[n++] = TAG_SIG;
        }
      n += ctl_pollfds (p + n, tags + n, TAG_CTL);
      n += attach_pollfds (p + n, tags + n, TAG_ATTACH);

      r = poll (p, n, timeout);
      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0)
        {
          shim_log ("poll: %s", strerror (errno));
          return code;
        }
      for (int i = 0; i < n; i++)
        {
          if (p[i].revents == 0)
            continue;
          switch (tags[i])
            {
            case TAG_OUT:
              if (io_pump (io->out, STREAM_STDOUT) <= 0)
                close_stream (&io->out);
              break;
            case TAG_ERR:
              if (io_pump (io->err, STREAM_STDERR) <= 0)
                close_stream (&io->err);
              break;
            case TAG_SIG:
              if (reap (sigfd, ctr_pid, &code))
                {
                  exited = true;
                  deadline = now_ms () + DRAIN_MS;
                }
              break;
            default:
              if (tags[i] >= TAG_ATTACH)
                attach_handle (tags[i], p[i].revents, TAG_ATTACH);
              else
                ctl_handle (tags[i], p[i].revents, TAG_CTL);
            }
        }
    }
  /* The pty master stayed open for a resize racing with the exit. */
  close_fdp (&io->master);
  close_fdp (&io->out);
  close_fdp (&io->err);
  return code;
}
