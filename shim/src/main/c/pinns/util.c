/*
 * Small helpers: the one-line error report and pin paths.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "pinns.h"

static char err_line[2048];
static size_t err_len;

/* The first call states the cause; later calls (failed undo steps) are appended after "; ". */
void
pinns_error (const char *fmt, ...)
{
  va_list ap;
  int n;

  if (err_len > 0 && err_len < sizeof err_line - 2)
    err_len += snprintf (err_line + err_len, sizeof err_line - err_len, "; ");
  if (err_len >= sizeof err_line - 1)
    return;
  va_start (ap, fmt);
  n = vsnprintf (err_line + err_len, sizeof err_line - err_len, fmt, ap);
  va_end (ap);
  if (n > 0)
    err_len += (size_t) n < sizeof err_line - err_len ? (size_t) n : sizeof err_line - err_len - 1;
}

void
pinns_error_print (void)
{
  /* One line: newlines in the collected text (from argv) must not split it. */
  for (size_t i = 0; i < err_len; i++)
    if (err_line[i] == '\n')
      err_line[i] = ' ';
  fprintf (stderr, "stevedore-pinns: %s\n", err_len > 0 ? err_line : "failed");
}

const char *
ns_name (enum ns_kind k)
{
  static const char *const names[NS_KINDS] = { "net", "ipc", "uts" };
  return names[k];
}

/* <dir>/<kind>/<id> */
int
pin_path (char *buf, size_t len, const char *dir, enum ns_kind k, const char *id)
{
  int n = snprintf (buf, len, "%s/%s/%s", dir, ns_name (k), id);
  if (n < 0 || (size_t) n >= len)
    {
      errno = ENAMETOOLONG;
      return -1;
    }
  return 0;
}

void
close_fdp (int *fd)
{
  if (*fd >= 0)
    close (*fd);
  *fd = -1;
}
