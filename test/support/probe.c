/*
 * Syscall probe for the security e2e tests: runs inside a container and
 * says whether one syscall (or a small sequence) was allowed. Compiled by
 * the tests with `gcc -static` into a throwaway image.
 *
 *   probe <check>     prints "ok" or the errno name (EPERM, ENOSYS, ...)
 *   probe swap A B    swaps A and B atomically forever (the CVE-2018-15664 race)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *errname(int e) {
  switch (e) {
  case EPERM: return "EPERM";
  case ENOSYS: return "ENOSYS";
  case EACCES: return "EACCES";
  case EINVAL: return "EINVAL";
  case ENOENT: return "ENOENT";
  case EDQUOT: return "EDQUOT";
  default: return strerror(e);
  }
}

static int report(long r) {
  if (r < 0) printf("%s\n", errname(errno));
  else printf("ok\n");
  return 0;
}

/* A child that exits at once; the parent reaps it. */
static long clone_with(unsigned long flags) {
  long pid = syscall(SYS_clone, flags | SIGCHLD, 0, 0, 0, 0);
  if (pid == 0) _exit(0);
  if (pid > 0) waitpid((pid_t)pid, NULL, 0);
  return pid;
}

static long clone3_plain(void) {
  struct clone_args args;
  memset(&args, 0, sizeof args);
  args.exit_signal = SIGCHLD;
  long pid = syscall(SYS_clone3, &args, sizeof args);
  if (pid == 0) _exit(0);
  if (pid > 0) waitpid((pid_t)pid, NULL, 0);
  return pid;
}

static long ptrace_child(void) {
  pid_t child = fork();
  if (child == 0) {
    pause();
    _exit(0);
  }
  long r = ptrace(PTRACE_ATTACH, child, 0, 0);
  int saved = errno;
  kill(child, SIGKILL);
  waitpid(child, NULL, 0);
  errno = saved;
  return r;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: probe <check>\n");
    return 2;
  }
  const char *c = argv[1];
  if (!strcmp(c, "add_key")) return report(syscall(SYS_add_key, "user", "berth-probe", "x", 1, -2 /* process keyring */));
  if (!strcmp(c, "keyctl")) return report(syscall(SYS_keyctl, 0 /* GET_KEYRING_ID */, -3 /* session */, 0));
  if (!strcmp(c, "clone-newuser")) return report(clone_with(CLONE_NEWUSER));
  if (!strcmp(c, "clone-plain")) return report(clone_with(0));
  if (!strcmp(c, "clone3")) return report(clone3_plain());
  if (!strcmp(c, "personality-linux32")) return report(personality(PER_LINUX32));
  if (!strcmp(c, "personality-norandom")) return report(personality(ADDR_NO_RANDOMIZE));
  if (!strcmp(c, "ptrace")) return report(ptrace_child());
  if (!strcmp(c, "kcmp")) return report(syscall(SYS_kcmp, getpid(), getpid(), 0 /* KCMP_FILE */, 0, 0));
  if (!strcmp(c, "unshare-ns")) return report(unshare(CLONE_NEWNS));
  if (!strcmp(c, "getpid")) return report(getpid());
  if (!strcmp(c, "swap") && argc == 4) {
    for (;;) syscall(SYS_renameat2, AT_FDCWD, argv[2], AT_FDCWD, argv[3], 2 /* RENAME_EXCHANGE */);
  }
  fprintf(stderr, "probe: unknown check %s\n", c);
  return 2;
}
