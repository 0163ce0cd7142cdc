/*
 * stevedore-pinns: creates a pod's namespaces and pins them with bind mounts.
 * The command line and behaviour are specified in shim/PROTOCOL.md ("stevedore-pinns").
 */
#ifndef STEVEDORE_PINNS_H
#define STEVEDORE_PINNS_H

#include <stdbool.h>
#include <stddef.h>

#ifndef STEVEDORE_VERSION
#define STEVEDORE_VERSION "0.1.0"
#endif

#define PINNS_MAX_SYSCTLS 128

/* The namespaces we pin, in pinning order; the name is /proc/<pid>/ns/<name> and the pin subdir. */
enum ns_kind
{
  NS_NET,
  NS_IPC,
  NS_UTS,
  NS_KINDS,
};

struct pinns_args
{
  const char *dir;
  const char *id;
  const char *hostname;
  const char *sysctls[PINNS_MAX_SYSCTLS];
  size_t n_sysctls;
  bool kinds[NS_KINDS];
  bool remove;
};

/* util.c: errors are collected into one line (the first is the cause, later ones are failed
   undo steps) and printed once by main. */
void pinns_error (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));
void pinns_error_print (void);
int pin_path (char *buf, size_t len, const char *dir, enum ns_kind k, const char *id);
const char *ns_name (enum ns_kind k);
void close_fdp (int *fd);
#define cleanup_fd __attribute__ ((cleanup (close_fdp)))

/* sysctl.c */
int sysctl_check (const char *kv, const bool kinds[NS_KINDS]);
int sysctl_apply (const char *kv);

/* ns.c */
int ns_create (const struct pinns_args *a);
int ns_pin_all (const struct pinns_args *a);
int ns_unpin (const char *dir, enum ns_kind k, const char *id);

#endif
