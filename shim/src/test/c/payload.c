/*
 * The container payload of the shim's root ITs: a static init with a few commands, in the
 * spirit of crun's tests/init.c. Compiled by the test with gcc -static into the bundle rootfs.
 *
 *   payload print EXIT LINE...   writes each LINE to stdout, "bye" to stderr, exits EXIT
 *   payload oom                  touches memory until the OOM killer ends it
 *   payload tty                  writes "tty <isatty(0)> <rows> <cols>" (window size of fd 0)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

int
main (int argc, char **argv)
{
  if (argc >= 3 && strcmp (argv[1], "print") == 0)
    {
      for (int i = 3; i < argc; i++)
        printf ("%s\n", argv[i]);
      fflush (stdout);
      fprintf (stderr, "bye\n");
      return atoi (argv[2]);
    }
  if (argc == 2 && strcmp (argv[1], "oom") == 0)
    {
      for (;;)
        {
          char *p = malloc (1 << 20);
          if (p != NULL)
            memset (p, 1, 1 << 20);
        }
    }
  if (argc == 2 && strcmp (argv[1], "tty") == 0)
    {
      struct winsize ws = { 0 };
      ioctl (0, TIOCGWINSZ, &ws);
      printf ("tty %d %d %d\n", isatty (0), ws.ws_row, ws.ws_col);
      return 0;
    }
  fprintf (stderr, "usage: payload print EXIT LINE... | oom | tty\n");
  return 2;
}
