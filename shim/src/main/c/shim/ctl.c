/*
 * The control socket (<socket-dir>/ctl.sock, SOCK_STREAM): a line protocol. Each request is
 * one line, each answered by one line, "ok" or "error <text>", in order:
 *
 *   reopen-log             reopen (create) the container log at its path
 *   resize <rows> <cols>   set the terminal size (TIOCSWINSZ on the pty master)
 *
 * Lines longer than 255 bytes close the connection.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include "shim.h"

#define MAX_CLIENTS 4
#define LINE_MAX_LEN 256

struct client
{
  int fd;
  size_t len;
  char line[LINE_MAX_LEN];
};

static int listener = -1;
static int master = -1;
static struct client clients[MAX_CLIENTS];

int
ctl_init (const char *path, int pty_master)
{
  for (int i = 0; i < MAX_CLIENTS; i++)
    clients[i].fd = -1;
  master = pty_master;
  listener = unix_listen (path);
  return listener < 0 ? -1 : 0;
}

int
ctl_pollfds (struct pollfd *p, int *tags, int tag_base)
{
  int n = 0;
  if (listener >= 0)
    {
      p[n] = (struct pollfd){ .fd = listener, .events = POLLIN };
      tags[n++] = tag_base;
    }
  for (int i = 0; i < MAX_CLIENTS; i++)
    if (clients[i].fd >= 0)
      {
        p[n] = (struct pollfd){ .fd = clients[i].fd, .events = POLLIN };
        tags[n++] = tag_base + 1 + i;
      }
  return n;
}

static void
reply (struct client *c, const char *text)
{
  char buf[LINE_MAX_LEN];
  int n = snprintf (buf, sizeof buf, "%s\n", text);
  if (n >= (int) sizeof buf)
    n = sizeof buf - 1;
  /* Replies are tiny; a client that cannot take one is gone. */
  if (send (c->fd, buf, n, MSG_DONTWAIT | MSG_NOSIGNAL) != n)
    close_fdp (&c->fd);
}

static void
execute (struct client *c, const char *line)
{
  char err[LINE_MAX_LEN];
  unsigned rows, cols;
  char extra;

  if (strcmp (line, "reopen-log") == 0)
    {
      if (ctrlog_reopen () < 0)
        {
          snprintf (err, sizeof err, "error reopen log: %s", strerror (errno));
          reply (c, err);
          return;
        }
      reply (c, "ok");
    }
  else if (sscanf (line, "resize %u %u%c", &rows, &cols, &extra) == 2 && rows <= 0xffff && cols <= 0xffff)
    {
      struct winsize ws = { .ws_row = rows, .ws_col = cols };
      if (master < 0)
        reply (c, "error resize: the container has no terminal");
      else if (ioctl (master, TIOCSWINSZ, &ws) < 0)
        {
          snprintf (err, sizeof err, "error resize: %s", strerror (errno));
          reply (c, err);
        }
      else
        reply (c, "ok");
    }
  else
    reply (c, "error unknown request");
}

static void
read_client (struct client *c)
{
  ssize_t n = read (c->fd, c->line + c->len, sizeof c->line - c->len);
  char *nl;
  if (n < 0 && (errno == EAGAIN || errno == EINTR))
    return;
  if (n <= 0)
    {
      close_fdp (&c->fd);
      return;
    }
  c->len += n;
  while (c->fd >= 0 && (nl = memchr (c->line, '\n', c->len)) != NULL)
    {
      size_t used = nl - c->line + 1;
      *nl = '\0';
      execute (c, c->line);
      memmove (c->line, c->line + used, c->len - used);
      c->len -= used;
    }
  if (c->fd >= 0 && c->len == sizeof c->line)
    close_fdp (&c->fd);
}

void
ctl_handle (int tag, short revents, int tag_base)
{
  (void) revents;
  tag -= tag_base;
  if (tag == 0)
    {
      int fd = accept4 (listener, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
      if (fd < 0)
        return;
      for (int i = 0; i < MAX_CLIENTS; i++)
        if (clients[i].fd < 0)
          {
            clients[i].fd = fd;
            clients[i].len = 0;
            return;
          }
      close (fd);
    }
  else
    read_client (&clients[tag - 1]);
}

void
ctl_shutdown (void)
{
  for (int i = 0; i < MAX_CLIENTS; i++)
    close_fdp (&clients[i].fd);
  close_fdp (&listener);
}
