/*
 * Creating the namespaces and pinning them.
 *
 * The pinner unshares itself (as CRI-O's pinns does): no helper process to keep alive or
 * reap, and /proc/self/ns/<kind>, the hostname and /proc/sys all refer to the new
 * namespaces. The mount namespace is never unshared, so each bind mount lands in the
 * caller's mount namespace and outlives this process; the bind mount holds the namespace.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pinns.h"

/* Stacked mounts on one pin (a caller's bug) are peeled off up to this depth. */
#define UNPIN_MAX_DEPTH 16

static const int clone_flags[NS_KINDS] = { CLONE_NEWNET, CLONE_NEWIPC, CLONE_NEWUTS };

/* Brings up "lo" in the (new) network namespace: every pod needs it, and doing it here saves
   the daemon a CNI loopback plugin run per pod. */
static int
loopback_up (void)
{
  struct ifreq ifr;
  cleanup_fd int s = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

  if (s < 0)
    {
      pinns_error ("socket: %s", strerror (errno));
      return -1;
    }
  memset (&ifr, 0, sizeof ifr);
  strncpy (ifr.ifr_name, "lo", IFNAMSIZ - 1);
  if (ioctl (s, SIOCGIFFLAGS, &ifr) < 0)
    {
      pinns_error ("lo: get flags: %s", strerror (errno));
      return -1;
    }
  ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
  if (ioctl (s, SIOCSIFFLAGS, &ifr) < 0)
    {
      pinns_error ("lo: set up: %s", strerror (errno));
      return -1;
    }
  return 0;
}

/* unshare(), then lo up, the hostname and sysctls inside the new namespaces. */
int
ns_create (const struct pinns_args *a)
{
  int flags = 0, ret;

  for (int k = 0; k < NS_KINDS; k++)
    if (a->kinds[k])
      flags |= clone_flags[k];
  if (unshare (flags) < 0)
    {
      pinns_error ("unshare: %s", strerror (errno));
      return -1;
    }
  if (a->kinds[NS_NET] && loopback_up () < 0)
    return -1;
  if (a->hostname != NULL && sethostname (a->hostname, strlen (a->hostname)) < 0)
    {
      pinns_error ("sethostname %s: %s", a->hostname, strerror (errno));
      return -1;
    }
  for (size_t i = 0; i < a->n_sysctls; i++)
    {
      ret = sysctl_apply (a->sysctls[i]);
      if (ret < 0)
        return ret;
    }
  return 0;
}

static int
mkdir_exists_ok (const char *path)
{
  if (mkdir (path, 0755) < 0 && errno != EEXIST)
    {
      pinns_error ("create %s: %s", path, strerror (errno));
      return -1;
    }
  return 0;
}

/* <dir>/<kind>/<id>: an empty file, then /proc/self/ns/<kind> bind-mounted onto it. */
static int
pin_one (const char *dir, enum ns_kind k, const char *id)
{
  char sub[PATH_MAX], path[PATH_MAX], src[64];
  cleanup_fd int fd = -1;
  int ret;

  ret = mkdir_exists_ok (dir);
  if (ret < 0)
    return ret;
  if (snprintf (sub, sizeof sub, "%s/%s", dir, ns_name (k)) >= (int) sizeof sub || pin_path (path, sizeof path, dir, k, id) < 0)
    {
      pinns_error ("pin %s/%s/%s: %s", dir, ns_name (k), id, strerror (ENAMETOOLONG));
      return -1;
    }
  ret = mkdir_exists_ok (sub);
  if (ret < 0)
    return ret;
  /* O_EXCL: an existing pin is never stacked on or taken over; the caller removes it first. */
  fd = open (path, O_RDONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0);
  if (fd < 0)
    {
      pinns_error ("create pin %s: %s", path, strerror (errno));
      return -1;
    }
  snprintf (src, sizeof src, "/proc/self/ns/%s", ns_name (k));
  if (mount (src, path, NULL, MS_BIND, NULL) < 0)
    {
      int saved = errno;
      unlink (path);
      pinns_error ("bind-mount %s on %s: %s", src, path, strerror (saved));
      return -1;
    }
  return 0;
}

/* Pins every requested namespace; on failure the pins made so far are removed again. */
int
ns_pin_all (const struct pinns_args *a)
{
  for (int k = 0; k < NS_KINDS; k++)
    {
      if (!a->kinds[k] || pin_one (a->dir, k, a->id) == 0)
        continue;
      for (int j = k - 1; j >= 0; j--)
        if (a->kinds[j])
          (void) ns_unpin (a->dir, j, a->id);
      return -1;
    }
  return 0;
}

static bool
missing (int err)
{
  return err == ENOENT || err == ENOTDIR;
}

/* umount2(MNT_DETACH) and unlink; a missing pin is not an error. */
int
ns_unpin (const char *dir, enum ns_kind k, const char *id)
{
  char path[PATH_MAX];

  if (pin_path (path, sizeof path, dir, k, id) < 0)
    {
      pinns_error ("unpin %s/%s/%s: %s", dir, ns_name (k), id, strerror (errno));
      return -1;
    }
  for (int depth = 0; depth < UNPIN_MAX_DEPTH; depth++)
    if (umount2 (path, MNT_DETACH | UMOUNT_NOFOLLOW) < 0)
      {
        if (errno == EINVAL || missing (errno)) /* EINVAL: not (or no longer) a mount point */
          break;
        pinns_error ("umount %s: %s", path, strerror (errno));
        return -1;
      }
  if (unlink (path) < 0 && !missing (errno))
    {
      pinns_error ("remove %s: %s", path, strerror (errno));
      return -1;
    }
  return 0;
}
