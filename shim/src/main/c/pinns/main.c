/*
 * stevedore-pinns: creates a pod's network, IPC and UTS namespaces and pins them as bind
 * mounts under <dir>/<kind>/<id>, or removes such pins (see shim/PROTOCOL.md).
 *
 *   stevedore-pinns --dir DIR --id ID [--net] [--ipc] [--uts] [--hostname NAME]
 *                   [--sysctl KEY=VALUE]...
 *   stevedore-pinns --remove --dir DIR --id ID [--net] [--ipc] [--uts]
 *   stevedore-pinns --version
 *
 * Success prints nothing and exits 0; a failure undoes the pins made so far, prints one line
 * on stderr and exits 1; a usage error exits 2 before anything is changed.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pinns.h"

static int
usage_error (const char *msg)
{
  fprintf (stderr, "stevedore-pinns: %s (usage: stevedore-pinns [--remove] --dir DIR --id ID [--net] [--ipc] [--uts] "
                   "[--hostname NAME] [--sysctl KEY=VALUE]...)\n", msg);
  return -1;
}

static int
parse_args (int argc, char **argv, struct pinns_args *a)
{
  static const struct option opts[] = {
    { "dir", required_argument, NULL, 'd' },      { "id", required_argument, NULL, 'i' },
    { "net", no_argument, NULL, 'n' },            { "ipc", no_argument, NULL, 'c' },
    { "uts", no_argument, NULL, 'u' },            { "hostname", required_argument, NULL, 'h' },
    { "sysctl", required_argument, NULL, 's' },   { "remove", no_argument, NULL, 'r' },
    { "version", no_argument, NULL, 'v' },        { NULL, 0, NULL, 0 },
  };
  bool any = false;
  int c, ret;

  *a = (struct pinns_args){ 0 };
  opterr = 0;
  while ((c = getopt_long (argc, argv, "", opts, NULL)) != -1)
    switch (c)
      {
      case 'd': a->dir = optarg; break;
      case 'i': a->id = optarg; break;
      case 'n': a->kinds[NS_NET] = true; break;
      case 'c': a->kinds[NS_IPC] = true; break;
      case 'u': a->kinds[NS_UTS] = true; break;
      case 'h': a->hostname = optarg; break;
      case 'r': a->remove = true; break;
      case 's':
        if (a->n_sysctls == PINNS_MAX_SYSCTLS)
          return usage_error ("too many --sysctl");
        a->sysctls[a->n_sysctls++] = optarg;
        break;
      case 'v': printf ("stevedore-pinns %s\n", STEVEDORE_VERSION); exit (0);
      default: return usage_error ("unknown option or missing value");
      }
  if (optind != argc)
    return usage_error ("unexpected argument");
  if (a->dir == NULL || a->dir[0] != '/')
    return usage_error ("--dir must be given as an absolute path");
  if (a->id == NULL || a->id[0] == '\0' || strchr (a->id, '/') != NULL || strcmp (a->id, ".") == 0
      || strcmp (a->id, "..") == 0)
    return usage_error ("--id must be a non-empty name without '/'");
  for (int k = 0; k < NS_KINDS; k++)
    any |= a->kinds[k];
  if (a->remove)
    {
      if (a->hostname != NULL || a->n_sysctls > 0)
        return usage_error ("--remove takes no --hostname or --sysctl");
      if (!any)
        for (int k = 0; k < NS_KINDS; k++)
          a->kinds[k] = true;
      return 0;
    }
  if (!any)
    return usage_error ("no namespace requested (--net, --ipc, --uts)");
  /* Without a new UTS namespace, sethostname would rename the host. */
  if (a->hostname != NULL && !a->kinds[NS_UTS])
    return usage_error ("--hostname needs --uts");
  if (a->hostname != NULL && (a->hostname[0] == '\0' || strlen (a->hostname) > 64))
    return usage_error ("--hostname must be 1 to 64 bytes");
  for (size_t i = 0; i < a->n_sysctls; i++)
    {
      ret = sysctl_check (a->sysctls[i], a->kinds);
      if (ret < 0)
        {
          pinns_error_print ();
          return ret;
        }
    }
  return 0;
}

int
main (int argc, char **argv)
{
  struct pinns_args a;
  int ret;

  if (parse_args (argc, argv, &a) < 0)
    return 2;
  if (a.remove)
    {
      ret = 0;
      for (int k = 0; k < NS_KINDS; k++)
        if (a.kinds[k] && ns_unpin (a.dir, k, a.id) < 0)
          ret = -1;
    }
  else
    {
      ret = ns_create (&a);
      if (ret == 0)
        ret = ns_pin_all (&a);
    }
  if (ret < 0)
    {
      pinns_error_print ();
      return 1;
    }
  return 0;
}
