/*
 * Namespaced sysctls: which keys are allowed, and writing them under /proc/sys.
 *
 * /proc/sys/net and the IPC entries under /proc/sys/kernel and /proc/sys/fs/mqueue resolve
 * against the namespaces of the process that opens them, not against the /proc mount, so
 * writing them after unshare() changes the new namespaces even though /proc is the host's.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "pinns.h"

/* Splits "key=value": the key becomes a path under /proc/sys. A key with '/' is taken as a
   path already (for interface names with dots, e.g. net/ipv4/conf/eth0.100/forwarding). */
static int
sysctl_parse (const char *kv, char *path, size_t len, const char **value)
{
  const char *eq = strchr (kv, '=');
  size_t keylen;

  if (eq == NULL || eq == kv || eq[1] == '\0')
    {
      pinns_error ("sysctl %s: want key=value", kv);
      errno = EINVAL;
      return -1;
    }
  keylen = eq - kv;
  if (keylen >= len)
    {
      pinns_error ("sysctl %s: key too long", kv);
      errno = ENAMETOOLONG;
      return -1;
    }
  memcpy (path, kv, keylen);
  path[keylen] = '\0';
  if (strchr (path, '/') == NULL)
    for (char *p = path; *p; p++)
      if (*p == '.')
        *p = '/';
  /* Every component must be a plain name: no "", ".", ".." and no leading or trailing '/'. */
  for (const char *c = path; *c; )
    {
      size_t n = strcspn (c, "/");
      if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.') || (c[n] == '/' && c[n + 1] == '\0'))
        {
          pinns_error ("sysctl %s: invalid key", kv);
          errno = EINVAL;
          return -1;
        }
      c += n + (c[n] == '/');
    }
  *value = eq + 1;
  return 0;
}

static bool
has_prefix (const char *s, const char *prefix)
{
  return strncmp (s, prefix, strlen (prefix)) == 0;
}

/* Only sysctls of the namespaces being created: anything else would change the host. */
int
sysctl_check (const char *kv, const bool kinds[NS_KINDS])
{
  char path[PATH_MAX];
  const char *value;
  enum ns_kind need;
  int ret;

  ret = sysctl_parse (kv, path, sizeof path, &value);
  if (ret < 0)
    return ret;
  if (has_prefix (path, "net/"))
    need = NS_NET;
  else if (has_prefix (path, "kernel/shm") || has_prefix (path, "kernel/msg") || has_prefix (path, "kernel/sem")
           || has_prefix (path, "fs/mqueue/"))
    need = NS_IPC;
  else
    {
      pinns_error ("sysctl %s: not a namespaced sysctl (net.*, kernel.shm*, kernel.msg*, kernel.sem*, fs.mqueue.*)", kv);
      errno = EINVAL;
      return -1;
    }
  if (!kinds[need])
    {
      pinns_error ("sysctl %s: needs --%s", kv, ns_name (need));
      errno = EINVAL;
      return -1;
    }
  return 0;
}

/* Writes one sysctl; call after unshare(). */
int
sysctl_apply (const char *kv)
{
  char path[PATH_MAX];
  const char *value;
  size_t len;
  ssize_t n;
  cleanup_fd int dirfd = -1;
  cleanup_fd int fd = -1;
  int ret;

  ret = sysctl_parse (kv, path, sizeof path, &value);
  if (ret < 0)
    return ret;
  dirfd = open ("/proc/sys", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dirfd < 0)
    {
      pinns_error ("sysctl %s: open /proc/sys: %s", kv, strerror (errno));
      return -1;
    }
  fd = openat (dirfd, path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    {
      pinns_error ("sysctl %s: open /proc/sys/%s: %s", kv, path, strerror (errno));
      return -1;
    }
  len = strlen (value);
  do
    n = write (fd, value, len);
  while (n < 0 && errno == EINTR);
  if (n >= 0 && (size_t) n != len)
    errno = EIO;
  if (n < 0 || (size_t) n != len)
    {
      pinns_error ("sysctl %s: write /proc/sys/%s: %s", kv, path, strerror (errno));
      return -1;
    }
  return 0;
}
