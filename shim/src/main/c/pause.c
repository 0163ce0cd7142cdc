/*
 * stevedore-pause: the infra process of a pod that shares one PID namespace.
 *
 * It is PID 1 of that namespace, so it must reap every orphan that is
 * reparented to it, and it must leave promptly (exit 0) on SIGTERM or SIGINT.
 * Everything else it ignores. Static, libc only, no allocation.
 *
 *   stevedore-pause            run until SIGTERM/SIGINT
 *   stevedore-pause --version  print the version and exit
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
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

int main (int argc, char **argv)
{
  sigset_t blocked, old;

  if (argc > 1 && strcmp (argv[1], "--version") == 0)
    {
      printf ("stevedore-pause %s\n", STEVEDORE_VERSION);
      return 0;
    }
  if (argc > 1)
    {
      fprintf (stderr, "usage: %s [--version]\n", argv[0]);
      return 2;
    }

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
