/*
 * Small helpers: the shim's own error log, paths, full writes, listening sockets.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "shim.h"

/* fd 2 is the shim's own log file (--shim-log) once detached; never the container log. */
void
shim_log (const char *fmt, ...)
{
  char line[1024];
  struct timespec ts;
  struct tm tm;
  int n;
  va_list ap;

  clock_gettime (CLOCK_REALTIME, &ts);
  gmtime_r (&ts.tv_sec, &tm);
  n = snprintf (line, sizeof line, "%04d-%02d-%02dT%02d:%02d:%02dZ stevedore-shim[%d]: ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int) getpid ());
  va_start (ap, fmt);
  n += vsnprintf (line + n, sizeof line - n - 1, fmt, ap);
  va_end (ap);
  if (n > (int) sizeof line - 2)
    n = sizeof line - 2;
  line[n++] = '\n';
  (void) write_all (STDERR_FILENO, line, n);
}

int
join_path (char *buf, size_t len, const char *dir, const char *name)
{
  int n = snprintf (buf, len, "%s/%s", dir, name);
  if (n < 0 || (size_t) n >= len)
    {
      errno = ENAMETOOLONG;
      return -1;
    }
  return 0;
}

int
write_all (int fd, const void *buf, size_t len)
{
  const char *p = buf;
  while (len > 0)
    {
      ssize_t n = write (fd, p, len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return -1;
      p += n;
      len -= n;
    }
  return 0;
}

/* A non-blocking, close-on-exec SOCK_STREAM listener at path (replacing a stale one). */
int
unix_listen (const char *path)
{
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  int fd;

  if (strlen (path) >= sizeof addr.sun_path)
    {
      errno = ENAMETOOLONG;
      return -1;
    }
  strcpy (addr.sun_path, path);
  fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0)
    return -1;
  unlink (path);
  if (bind (fd, (struct sockaddr *) &addr, sizeof addr) < 0 || listen (fd, 8) < 0)
    {
      int saved = errno;
      close (fd);
      errno = saved;
      return -1;
    }
  return fd;
}

void
close_fdp (int *fd)
{
  if (*fd >= 0)
    close (*fd);
  *fd = -1;
}
