/*
 * stevedore-pause: the infra process of a pod that shares one PID namespace.
 *
 * It is PID 1 of that namespace, so it must reap every orphan that is
 * reparented to it, and it must leave promptly (exit 0) on SIGTERM or SIGINT.
 * Everything else it ignores. Static, libc only, no allocation.
 *
 *   stevedore-pause            run until SIGTERM/SIGINT
 *   stevedore-pause --version  print the version and exit
 *   stevedore-pause --spawn --root DIR [--net PATH] [--ipc PATH] [--uts PATH]
 *                              start one in a new PID namespace; print its pid
 *
 * --spawn is how the daemon starts a pod's pause without an OCI runtime (a runc
 * container costs tens of milliseconds; this costs one fork and one exec). It
 * joins the pinned namespaces given, unshares the PID namespace and forks; the
 * child, PID 1 of the new namespace, detaches (setsid, stdio on /dev/null),
 * chroots into DIR (an empty directory), becomes uid/gid 65535 with no
 * capabilities and no_new_privs, and re-executes this binary as "/pause". The
 * parent prints the child's pid (as the caller's PID namespace sees it) once
 * that exec succeeded, or the failure on stderr and exits 1; usage errors exit
 * 2. The parent then exits, so the pause is reparented to the caller when the
 * caller is a child subreaper.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef STEVEDORE_VERSION
#define STEVEDORE_VERSION "0.1.0"
#endif

static volatile sig_atomic_t stop_requested;

static void on_stop (int sig)
{
  (void) sig;
  stop_requested = 1;
}

/* Only sets a flag: reaping happens in the main loop, outside signal context. */
static void on_child (int sig)
{
  (void) sig;
}

static int install (int sig, void (*handler) (int))
{
  struct sigaction sa;

  memset (&sa, 0, sizeof (sa));
  sa.sa_handler = handler;
  sigemptyset (&sa.sa_mask);
  return sigaction (sig, &sa, NULL);
}

static void reap_all (void)
{
  for (;;)
    {
      pid_t pid = waitpid (-1, NULL, WNOHANG);
      if (pid > 0)
        continue;
      if (pid < 0 && errno == EINTR)
        continue;
      return; /* 0: children remain but none exited; -1 ECHILD: none at all */
    }
}

#define PAUSE_ID 65535

/* In the child: reports "what: strerror" on the status pipe and exits. */
static void child_fail (int fd, const char *what)
{
  char msg[256];
  int n = snprintf (msg, sizeof (msg), "%s: %s", what, strerror (errno));
  if (n > 0 && write (fd, msg, (size_t) (n < (int) sizeof (msg) ? n : (int) sizeof (msg) - 1)) < 0)
    _exit (1);
  _exit (1);
}

static int join (const char *path, int nstype, const char *kind)
{
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0 || setns (fd, nstype) < 0)
    {
      fprintf (stderr, "stevedore-pause: join %s namespace %s: %s\n", kind, path, strerror (errno));
      return -1;
    }
  close (fd);
  return 0;
}

static int spawn (int argc, char **argv)
{
  const char *root = NULL, *net = NULL, *ipc = NULL, *uts = NULL;
  int status[2], self, devnull;
  char msg[256];
  ssize_t n;
  pid_t pid;

  for (int i = 2; i < argc; i++)
    {
      const char **slot = strcmp (argv[i], "--root") == 0  ? &root
                          : strcmp (argv[i], "--net") == 0 ? &net
                          : strcmp (argv[i], "--ipc") == 0 ? &ipc
                          : strcmp (argv[i], "--uts") == 0 ? &uts
                                                           : NULL;
      if (slot == NULL || i + 1 == argc || *slot != NULL)
        {
          fprintf (stderr, "usage: %s --spawn --root DIR [--net PATH] [--ipc PATH] [--uts PATH]\n", argv[0]);
          return 2;
        }
      *slot = argv[++i];
    }
  if (root == NULL || root[0] != '/')
    {
      fprintf (stderr, "usage: %s --spawn --root DIR: DIR must be an absolute path\n", argv[0]);
      return 2;
    }

  /* Opened before the chroot: the child re-executes this very file through it. */
  self = open ("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  if (self < 0)
    {
      perror ("stevedore-pause: open /proc/self/exe");
      return 1;
    }
  if ((net != NULL && join (net, CLONE_NEWNET, "network") < 0) || (ipc != NULL && join (ipc, CLONE_NEWIPC, "IPC") < 0)
      || (uts != NULL && join (uts, CLONE_NEWUTS, "UTS") < 0))
    return 1;
  if (unshare (CLONE_NEWPID) < 0)
    {
      perror ("stevedore-pause: unshare PID namespace");
      return 1;
    }
  if (pipe2 (status, O_CLOEXEC) < 0)
    {
      perror ("stevedore-pause: pipe");
      return 1;
    }
  pid = fork ();
  if (pid < 0)
    {
      perror ("stevedore-pause: fork");
      return 1;
    }
  if (pid == 0)
    {
      char *const args[] = { "/pause", NULL };
      char *const env[] = { NULL };

      close (status[0]);
      if (setsid () < 0)
        child_fail (status[1], "setsid");
      devnull = open ("/dev/null", O_RDWR | O_CLOEXEC);
      if (devnull < 0)
        child_fail (status[1], "open /dev/null");
      for (int fd = 0; fd < 3; fd++)
        if (dup2 (devnull, fd) < 0)
          child_fail (status[1], "dup2");
      if (chroot (root) < 0)
        child_fail (status[1], "chroot");
      if (chdir ("/") < 0)
        child_fail (status[1], "chdir");
      if (setgroups (0, NULL) < 0)
        child_fail (status[1], "setgroups");
      if (setgid (PAUSE_ID) < 0)
        child_fail (status[1], "setgid");
      /* Leaving uid 0 clears every capability; no_new_privs keeps it so across exec. */
      if (setuid (PAUSE_ID) < 0)
        child_fail (status[1], "setuid");
      if (prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        child_fail (status[1], "prctl(PR_SET_NO_NEW_PRIVS)");
      syscall (SYS_execveat, self, "", args, env, AT_EMPTY_PATH);
      child_fail (status[1], "exec");
    }
  close (status[1]);
  /* End of file without a message: the exec succeeded (the pipe is close-on-exec). */
  do
    n = read (status[0], msg, sizeof (msg) - 1);
  while (n < 0 && errno == EINTR);
  if (n != 0)
    {
      msg[n > 0 ? n : 0] = '\0';
      waitpid (pid, NULL, 0);
      fprintf (stderr, "stevedore-pause: start: %s\n", n > 0 ? msg : strerror (errno));
      return 1;
    }
  printf ("%d\n", (int) pid);
  return fflush (stdout) == 0 ? 0 : 1;
}

int main (int argc, char **argv)
{
  sigset_t blocked, old;

  if (argc > 1 && strcmp (argv[1], "--version") == 0)
    {
      printf ("stevedore-pause %s\n", STEVEDORE_VERSION);
      return 0;
    }
  if (argc > 1 && strcmp (argv[1], "--spawn") == 0)
    return spawn (argc, argv);
  if (argc > 1)
    {
      fprintf (stderr, "usage: %s [--version | --spawn --root DIR [--net PATH] [--ipc PATH] [--uts PATH]]\n",
               argv[0]);
      return 2;
    }

  /* Nothing in the pod may read this process's memory or /proc entries without CAP_SYS_PTRACE. */
  prctl (PR_SET_DUMPABLE, 0, 0, 0, 0);
  prctl (PR_SET_NAME, "pause", 0, 0, 0);

  if (install (SIGTERM, on_stop) < 0 || install (SIGINT, on_stop) < 0 || install (SIGCHLD, on_child) < 0)
    {
      perror ("stevedore-pause: sigaction");
      return 1;
    }

  /* Block the signals we wait for and release them only inside sigsuspend, so a
     signal that arrives between the check and the wait cannot be lost. */
  sigemptyset (&blocked);
  sigaddset (&blocked, SIGTERM);
  sigaddset (&blocked, SIGINT);
  sigaddset (&blocked, SIGCHLD);
  if (sigprocmask (SIG_BLOCK, &blocked, &old) < 0)
    {
      perror ("stevedore-pause: sigprocmask");
      return 1;
    }

  while (!stop_requested)
    {
      reap_all ();
      if (!stop_requested)
        sigsuspend (&old);
    }
  reap_all ();
  return 0;
}
