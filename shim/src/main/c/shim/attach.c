/*
 * The attach socket (<socket-dir>/attach.sock, SOCK_STREAM). Both directions carry frames:
 *
 *   u8 kind | u32 big-endian length | length bytes
 *
 * shim -> client: kind 1 stdout, 2 stderr (everything the container writes after connecting;
 * with a terminal all output is kind 1). client -> shim: kind 0 stdin data, kind 3 close stdin
 * (length 0). A client that does not keep up (its socket buffer is full) is disconnected, so
 * a slow reader never stalls the container or the log. Input is flow-controlled: while the
 * container's stdin is full, no client input is read.
 */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "shim.h"

#define MAX_CLIENTS 8

enum
{
  KIND_STDIN = 0,
  KIND_CLOSE_STDIN = 3,
};

struct client
{
  int fd;
  unsigned char hdr[5];
  int hdr_len;       /* header bytes received so far */
  uint32_t remaining; /* payload bytes of the current frame still to read */
};

static int listener = -1;
static int stdin_fd = -1;
static struct client clients[MAX_CLIENTS];
static char pending[SHIM_CHUNK]; /* input read from a client, not yet written to stdin */
static size_t pending_off, pending_len;
static bool close_stdin_after_flush;

enum
{
  TAG_LISTENER = 0,
  TAG_STDIN = 1,
  TAG_CLIENT = 2, /* + index */
};

int
attach_init (const char *path, int in)
{
  for (int i = 0; i < MAX_CLIENTS; i++)
    clients[i].fd = -1;
  stdin_fd = in;
  listener = unix_listen (path);
  return listener < 0 ? -1 : 0;
}

static void
drop (struct client *c)
{
  close_fdp (&c->fd);
}

static void
close_stdin (void)
{
  close_fdp (&stdin_fd);
  pending_len = pending_off = 0;
}

int
attach_pollfds (struct pollfd *p, int *tags, int tag_base)
{
  int n = 0;
  if (listener >= 0)
    {
      p[n] = (struct pollfd){ .fd = listener, .events = POLLIN };
      tags[n++] = tag_base + TAG_LISTENER;
    }
  if (stdin_fd >= 0 && pending_len > 0)
    {
      p[n] = (struct pollfd){ .fd = stdin_fd, .events = POLLOUT };
      tags[n++] = tag_base + TAG_STDIN;
    }
  for (int i = 0; i < MAX_CLIENTS; i++)
    if (clients[i].fd >= 0)
      {
        /* While stdin is full, only watch for hang-ups (POLLHUP is always reported). */
        p[n] = (struct pollfd){ .fd = clients[i].fd, .events = pending_len > 0 ? 0 : POLLIN };
        tags[n++] = tag_base + TAG_CLIENT + i;
      }
  return n;
}

static void
accept_client (void)
{
  int fd = accept4 (listener, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
  if (fd < 0)
    return;
  for (int i = 0; i < MAX_CLIENTS; i++)
    if (clients[i].fd < 0)
      {
        clients[i] = (struct client){ .fd = fd };
        return;
      }
  shim_log ("attach: more than %d clients, refusing one", MAX_CLIENTS);
  close (fd);
}

static void
flush_stdin (void)
{
  while (stdin_fd >= 0 && pending_len > 0)
    {
      ssize_t n = write (stdin_fd, pending + pending_off, pending_len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && errno == EAGAIN)
        return;
      if (n < 0)
        {
          /* EPIPE: the container closed its stdin; input is dropped from now on. */
          close_stdin ();
          return;
        }
      pending_off += n;
      pending_len -= n;
    }
  pending_off = 0;
  if (close_stdin_after_flush)
    close_stdin ();
}

static void
read_client (struct client *c)
{
  ssize_t n;
  if (c->hdr_len < 5)
    {
      n = read (c->fd, c->hdr + c->hdr_len, 5 - c->hdr_len);
      if (n <= 0)
        {
          if (n == 0 || (errno != EAGAIN && errno != EINTR))
            drop (c);
          return;
        }
      c->hdr_len += n;
      if (c->hdr_len < 5)
        return;
      c->remaining = (uint32_t) c->hdr[1] << 24 | (uint32_t) c->hdr[2] << 16 | (uint32_t) c->hdr[3] << 8 | c->hdr[4];
      if (c->hdr[0] == KIND_CLOSE_STDIN)
        {
          if (pending_len > 0)
            close_stdin_after_flush = true;
          else
            close_stdin ();
        }
      else if (c->hdr[0] != KIND_STDIN)
        {
          shim_log ("attach: unknown frame kind %d, dropping client", c->hdr[0]);
          drop (c);
          return;
        }
    }
  if (c->remaining > 0)
    {
      size_t want = c->remaining < sizeof pending ? c->remaining : sizeof pending;
      n = read (c->fd, pending, want);
      if (n <= 0)
        {
          if (n == 0 || (errno != EAGAIN && errno != EINTR))
            drop (c);
          return;
        }
      c->remaining -= n;
      if (stdin_fd >= 0 && c->hdr[0] == KIND_STDIN)
        {
          pending_off = 0;
          pending_len = n;
          flush_stdin ();
        }
    }
  if (c->remaining == 0)
    c->hdr_len = 0;
}

void
attach_handle (int tag, short revents, int tag_base)
{
  tag -= tag_base;
  if (tag == TAG_LISTENER)
    accept_client ();
  else if (tag == TAG_STDIN)
    {
      if (revents & (POLLERR | POLLHUP))
        close_stdin ();
      else
        flush_stdin ();
    }
  else
    {
      struct client *c = &clients[tag - TAG_CLIENT];
      if (revents & POLLIN)
        read_client (c);
      else if (revents & (POLLHUP | POLLERR))
        drop (c);
    }
}

void
attach_broadcast (enum stream s, const char *buf, size_t len)
{
  unsigned char hdr[5] = { (unsigned char) s, len >> 24, len >> 16, len >> 8, len };
  for (int i = 0; i < MAX_CLIENTS; i++)
    {
      struct iovec iov[2] = { { hdr, sizeof hdr }, { (void *) buf, len } };
      struct msghdr msg = { .msg_iov = iov, .msg_iovlen = 2 };
      ssize_t n;
      if (clients[i].fd < 0)
        continue;
      do
        n = sendmsg (clients[i].fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
      while (n < 0 && errno == EINTR);
      if (n != (ssize_t) (sizeof hdr + len))
        {
          if (n >= 0 || errno == EAGAIN)
            shim_log ("attach: client too slow, disconnecting it");
          drop (&clients[i]);
        }
    }
}

void
attach_shutdown (void)
{
  for (int i = 0; i < MAX_CLIENTS; i++)
    drop (&clients[i]);
  close_fdp (&listener);
  close_stdin ();
}
