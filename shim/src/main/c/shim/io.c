/*
 * The container's output: read a chunk, write it to the CRI log file, copy it to attach clients.
 *
 * CRI log line: "<RFC3339Nano UTC> <stdout|stderr> <P|F> <text>\n". Like conmon, nothing is
 * buffered between reads: each complete line in a chunk becomes an F line, and the chunk's
 * trailing bytes without a newline become a P line (kubelet joins P lines with the next line).
 * A chunk is at most SHIM_CHUNK bytes, so no line body is longer than 16 KiB, and a partial
 * line at EOF has already been written as P (containerd does the same).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "shim.h"

static int log_fd = -1;
static const char *log_path;
static char chunk[SHIM_CHUNK];

int
ctrlog_open (const char *path)
{
  int fd = open (path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0640);
  if (fd < 0)
    return -1;
  if (log_fd >= 0)
    close (log_fd);
  log_fd = fd;
  log_path = path;
  return 0;
}

/* Kubelet renames the file when it rotates it, then asks for a reopen: this creates a new one. */
int
ctrlog_reopen (void)
{
  return ctrlog_open (log_path);
}

/* "2006-01-02T15:04:05.000000000Z stdout " into buf (always 9 fractional digits). */
static int
timestamp (char *buf, size_t len, enum stream s)
{
  struct timespec ts;
  struct tm tm;
  clock_gettime (CLOCK_REALTIME, &ts);
  gmtime_r (&ts.tv_sec, &tm);
  return snprintf (buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ %s ", tm.tm_year + 1900, tm.tm_mon + 1,
                   tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec,
                   s == STREAM_STDOUT ? "stdout" : "stderr");
}

static int
writev_all (int fd, struct iovec *iov, int cnt)
{
  while (cnt > 0)
    {
      ssize_t n = writev (fd, iov, cnt);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return -1;
      while (cnt > 0 && (size_t) n >= iov->iov_len)
        {
          n -= iov->iov_len;
          iov++;
          cnt--;
        }
      if (cnt > 0)
        {
          iov->iov_base = (char *) iov->iov_base + n;
          iov->iov_len -= n;
        }
    }
  return 0;
}

void
ctrlog_write (enum stream s, const char *buf, size_t len)
{
  char ts[64];
  int tslen;

  if (log_fd < 0)
    return;
  /* One timestamp per chunk, as conmon does: the lines of one read arrived together. */
  tslen = timestamp (ts, sizeof ts, s);
  while (len > 0)
    {
      const char *nl = memchr (buf, '\n', len);
      size_t body = nl ? (size_t) (nl - buf) : len;
      struct iovec iov[4] = {
        { ts, tslen },
        { (void *) (nl ? "F " : "P "), 2 },
        { (void *) buf, body },
        { (void *) "\n", 1 },
      };
      if (writev_all (log_fd, iov, 4) < 0)
        {
          shim_log ("write container log: %s", strerror (errno));
          return;
        }
      body += nl ? 1 : 0;
      buf += body;
      len -= body;
    }
}

/* Reads one chunk from fd. Returns > 0 bytes handled, 0 at EOF (or EIO from a closed pty), -1 on error. */
int
io_pump (int fd, enum stream s)
{
  ssize_t n;
  do
    n = read (fd, chunk, sizeof chunk);
  while (n < 0 && errno == EINTR);
  if (n < 0 && errno == EAGAIN)
    return 1;
  if (n < 0 && errno == EIO)
    return 0;
  if (n <= 0)
    return (int) n;
  ctrlog_write (s, chunk, n);
  attach_broadcast (s, chunk, n);
  return (int) n;
}
