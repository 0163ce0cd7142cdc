/*
 * The exit file and the OOM marker.
 *
 * Exit file: <exit-dir>/<id>, the decimal exit code (128+signal when signalled), written to
 * <exit-dir>/<id>.tmp, fsynced, then renamed. OOM marker: <exit-dir>/<id>.oom (empty), made
 * the same way and before the exit file, so a reader that sees the exit file sees the marker.
 *
 * OOM detection is best effort: right after create, the container's memory cgroup is read
 * from /proc/<pid>/cgroup (the cgroup v1 "memory" line, else the v2 "0::" line) and its
 * oom_kill counter (v1 memory.oom_control, v2 memory.events) is recorded; at exit the
 * counter is read again and an increase means an OOM kill. The cgroup outlives the init
 * process until "runc delete", which the daemon runs only after it has read the exit file.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shim.h"

static char oom_file[PATH_MAX];
static long oom_baseline = -1;

/* The "oom_kill N" counter in a memory.oom_control / memory.events file, or -1. */
static long
read_oom_kill (const char *path)
{
  char buf[1024];
  ssize_t n;
  const char *p;
  cleanup_fd int fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  n = read (fd, buf, sizeof buf - 1);
  if (n <= 0)
    return -1;
  buf[n] = '\0';
  for (p = buf; p != NULL && *p; p = strchr (p, '\n'), p = p ? p + 1 : NULL)
    if (strncmp (p, "oom_kill ", 9) == 0)
      return strtol (p + 9, NULL, 10);
  return -1;
}

/* Finds the memory cgroup of pid from /proc/<pid>/cgroup: "ID:controllers:/path" lines. */
void
oom_watch (pid_t pid)
{
  char path[64], line[PATH_MAX + 64];
  char v2[PATH_MAX] = "";
  FILE *f;

  snprintf (path, sizeof path, "/proc/%d/cgroup", (int) pid);
  f = fopen (path, "re");
  if (f == NULL)
    return;
  while (fgets (line, sizeof line, f) != NULL)
    {
      char *ctrls = strchr (line, ':'), *cg;
      if (ctrls == NULL || (cg = strchr (++ctrls, ':')) == NULL)
        continue;
      *cg++ = '\0';
      cg[strcspn (cg, "\n")] = '\0';
      if (strcmp (ctrls, "") == 0 && strncmp (line, "0:", 2) == 0)
        snprintf (v2, sizeof v2, "%s", cg);
      for (char *c = strtok (ctrls, ","); c != NULL; c = strtok (NULL, ","))
        if (strcmp (c, "memory") == 0)
          snprintf (oom_file, sizeof oom_file, "/sys/fs/cgroup/memory%s/memory.oom_control",
                    strcmp (cg, "/") == 0 ? "" : cg);
    }
  fclose (f);
  if (oom_file[0] == '\0' && v2[0] != '\0')
    snprintf (oom_file, sizeof oom_file, "/sys/fs/cgroup%s/memory.events", strcmp (v2, "/") == 0 ? "" : v2);
  oom_baseline = oom_file[0] ? read_oom_kill (oom_file) : -1;
  if (oom_baseline < 0)
    shim_log ("no oom_kill counter for pid %d (%s): OOM kills will not be reported", (int) pid,
              oom_file[0] ? oom_file : "no memory cgroup");
}

bool
oom_killed (void)
{
  return oom_baseline >= 0 && read_oom_kill (oom_file) > oom_baseline;
}

int
exit_status_code (int wstatus)
{
  if (WIFEXITED (wstatus))
    return WEXITSTATUS (wstatus);
  if (WIFSIGNALED (wstatus))
    return 128 + WTERMSIG (wstatus);
  return 255;
}

static int
write_atomically (const char *dir, const char *name, const char *content)
{
  char tmp[PATH_MAX], dst[PATH_MAX];
  cleanup_fd int fd = -1;
  if (snprintf (tmp, sizeof tmp, "%s/%s.tmp", dir, name) >= (int) sizeof tmp || join_path (dst, sizeof dst, dir, name) < 0)
    {
      errno = ENAMETOOLONG;
      return -1;
    }
  fd = open (tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0 || write_all (fd, content, strlen (content)) < 0 || fsync (fd) < 0 || rename (tmp, dst) < 0)
    return -1;
  return 0;
}

int
exit_write (const char *dir, const char *id, int code, bool oom)
{
  char name[NAME_MAX + 1], content[16];
  cleanup_fd int dfd = -1;
  if (oom)
    {
      if (snprintf (name, sizeof name, "%s.oom", id) >= (int) sizeof name || write_atomically (dir, name, "") < 0)
        shim_log ("write oom marker in %s: %s", dir, strerror (errno));
    }
  snprintf (content, sizeof content, "%d", code);
  if (write_atomically (dir, id, content) < 0)
    return -1;
  dfd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0)
    fsync (dfd);
  return 0;
}
