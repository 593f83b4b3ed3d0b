/*
 * berth-spawner: a small long-lived child of berthd that starts programs and
 * makes a few syscalls for it, so that berthd never forks its own (large)
 * address space. Node's child_process.spawn() forks the daemon and blocks its
 * event loop for the copy of the page tables (8-340 ms under load); forking
 * this process costs well under a millisecond.
 *
 * Protocol (src/lib/spawner/protocol.ts is the other side): frames on fd 0
 * (requests) and fd 1 (responses), each `u32 length` (little endian) and
 * then `length` bytes:
 *
 *   request  = u32 id, u8 op, payload
 *     op 1 spawn   u8 flags (1 detached, 2 has stdin, 4 stdout to a path,
 *                  8 stderr to that path too, 16 stdin from a path),
 *                  str cmd, str cwd, u32 argc, str argv[argc], u32 envc,
 *                  str env[envc], str stdin, [str output path: flag 4],
 *                  [str input path: flag 16]
 *                  (flag 4: the program's stdout is that path, opened O_WRONLY,
 *                  e.g. a FIFO berthd reads as the program runs; the response
 *                  then carries no stdout, nor stderr with flag 8; flag 16:
 *                  its stdin is that path, opened O_RDONLY, a FIFO berthd
 *                  writes a stream to)
 *     op 2 mount   str source, str target, str fstype, u32 flags, str data
 *     op 3 umount  str target, u32 flags
 *     op 4 netns   str target   (new network namespace bind-mounted on target,
 *                                loopback up, IPv6 off for interfaces to come)
 *     op 5 xattrs  u32 n, str path[n]   (for each path, not following a symlink:
 *                  u8 1 if trusted.overlay.opaque is "y", then u32 length and
 *                  the value of security.capability, length 0 without one;
 *                  in stdout: what a layer keeps of a container's upper dir)
 *   response = u32 id, i32 errno, i32 exit code (-1 if signalled), i32 signal,
 *              str stdout, str stderr
 *   str = u32 length + bytes
 *
 * Every request runs in a forked worker, so requests run concurrently and a
 * slow program blocks nothing. Workers write whole response frames under a
 * process-shared semaphore so frames never interleave; a worker that dies
 * before answering is answered for (errno ECHILD) when the helper reaps it.
 *
 * Safety: the helper dies with berthd (PR_SET_PDEATHSIG, and EOF on fd 0);
 * programs it starts get only fds 0-2 (everything else is closed before exec).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <semaphore.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

enum { OP_SPAWN = 1, OP_MOUNT = 2, OP_UMOUNT = 3, OP_NETNS = 4, OP_XATTRS = 5 };
enum { F_DETACHED = 1, F_STDIN = 2, F_OUTPATH = 4, F_ERR_TOO = 8, F_INPATH = 16 };
#define MAX_FRAME (256u << 20)

static sem_t *write_lock;

struct buf {
  char *p;
  size_t len, cap;
};

static void buf_add(struct buf *b, const void *data, size_t n) {
  if (b->len + n > b->cap) {
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + n) cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) _exit(70);
    b->p = p;
    b->cap = cap;
  }
  memcpy(b->p + b->len, data, n);
  b->len += n;
}

static void buf_u32(struct buf *b, uint32_t v) {
  unsigned char x[4] = {v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, v >> 24};
  buf_add(b, x, 4);
}

/* A cursor over a request; a malformed request fails the worker, not the helper. */
struct reader {
  const unsigned char *p;
  size_t left;
  int bad;
};

static uint32_t rd_u32(struct reader *r) {
  if (r->left < 4) { r->bad = 1; return 0; }
  uint32_t v = r->p[0] | (r->p[1] << 8) | (r->p[2] << 16) | ((uint32_t)r->p[3] << 24);
  r->p += 4;
  r->left -= 4;
  return v;
}

static uint8_t rd_u8(struct reader *r) {
  if (r->left < 1) { r->bad = 1; return 0; }
  r->left--;
  return *r->p++;
}

/* Returns a NUL-terminated copy (the frame is not NUL-terminated); *len gets the byte count. */
static char *rd_str(struct reader *r, size_t *len) {
  uint32_t n = rd_u32(r);
  if (r->bad || n > r->left) { r->bad = 1; return strdup(""); }
  char *s = malloc(n + 1);
  if (!s) _exit(70);
  memcpy(s, r->p, n);
  s[n] = 0;
  r->p += n;
  r->left -= n;
  if (len) *len = n;
  return s;
}

static int write_all(int fd, const char *p, size_t n) {
  while (n) {
    ssize_t w = write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

static int read_all(int fd, void *p, size_t n) {
  char *c = p;
  while (n) {
    ssize_t r = read(fd, c, n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return -1;
    c += r;
    n -= (size_t)r;
  }
  return 0;
}

static void respond(uint32_t id, int err, int code, int sig, const struct buf *out, const struct buf *errb) {
  struct buf f = {0};
  size_t olen = out ? out->len : 0, elen = errb ? errb->len : 0;
  buf_u32(&f, (uint32_t)(4 * 6 + olen + elen));
  buf_u32(&f, id);
  buf_u32(&f, (uint32_t)err);
  buf_u32(&f, (uint32_t)code);
  buf_u32(&f, (uint32_t)sig);
  buf_u32(&f, (uint32_t)olen);
  if (olen) buf_add(&f, out->p, olen);
  buf_u32(&f, (uint32_t)elen);
  if (elen) buf_add(&f, errb->p, elen);
  while (sem_wait(write_lock) < 0 && errno == EINTR) {}
  write_all(1, f.p, f.len); /* berthd gone: nothing to tell */
  sem_post(write_lock);
  free(f.p);
}

static void close_from(int lowfd, int keep) {
  if (keep >= lowfd) {
    if (keep > lowfd && syscall(SYS_close_range, lowfd, keep - 1, 0) < 0)
      for (int fd = lowfd; fd < keep; fd++) close(fd);
    lowfd = keep + 1;
  }
  if (syscall(SYS_close_range, lowfd, ~0U, 0) < 0)
    for (int fd = lowfd; fd < 65536; fd++) close(fd);
}

static void default_signals(void) {
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  for (int s = 1; s < NSIG; s++) signal(s, SIG_DFL); /* SIG_IGN survives exec: SIGPIPE/SIGCHLD must not */
}

static void do_spawn(uint32_t id, struct reader *r) {
  uint8_t flags = rd_u8(r);
  char *cmd = rd_str(r, NULL), *cwd = rd_str(r, NULL);
  uint32_t argc = rd_u32(r);
  if (r->bad || argc > r->left / 4) { respond(id, EINVAL, -1, 0, NULL, NULL); return; }
  char **argv = calloc(argc + 1, sizeof *argv);
  for (uint32_t i = 0; i < argc; i++) argv[i] = rd_str(r, NULL);
  uint32_t envc = rd_u32(r);
  if (r->bad || envc > r->left / 4) { respond(id, EINVAL, -1, 0, NULL, NULL); return; }
  char **envp = calloc(envc + 1, sizeof *envp);
  for (uint32_t i = 0; i < envc; i++) envp[i] = rd_str(r, NULL);
  size_t inlen = 0;
  char *input = rd_str(r, &inlen);
  char *outpath = (flags & F_OUTPATH) ? rd_str(r, NULL) : NULL;
  char *inpath = (flags & F_INPATH) ? rd_str(r, NULL) : NULL;
  if (r->bad || argc == 0) { respond(id, EINVAL, -1, 0, NULL, NULL); return; }

  int in[2] = {-1, -1}, out[2], errp[2], fail[2];
  if (((flags & F_STDIN) && pipe2(in, O_CLOEXEC)) || pipe2(out, O_CLOEXEC) || pipe2(errp, O_CLOEXEC) || pipe2(fail, O_CLOEXEC)) {
    respond(id, errno, -1, 0, NULL, NULL);
    return;
  }
  pid_t pid = fork();
  if (pid < 0) { respond(id, errno, -1, 0, NULL, NULL); return; }
  if (pid == 0) {
    default_signals();
    if (flags & F_DETACHED) setsid();
    int e = 0;
    if (*cwd && chdir(cwd) < 0) e = errno;
    int nullfd = (flags & F_STDIN) ? in[0] : open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (!e && (dup2(nullfd, 0) < 0 || dup2(out[1], 1) < 0 || dup2(errp[1], 2) < 0)) e = errno;
    if (!e && outpath) {
      /* a FIFO opens once its reader is there: berthd opened it before asking */
      int o = open(outpath, O_WRONLY | O_CLOEXEC);
      if (o < 0 || dup2(o, 1) < 0 || ((flags & F_ERR_TOO) && dup2(o, 2) < 0)) e = errno;
    }
    if (!e && inpath) {
      /* non-blocking: berthd may have written everything and closed its end already (it keeps a
         reader of its own open until the exit, so what it wrote waits here); then blocking reads */
      int i = open(inpath, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
      if (i < 0 || fcntl(i, F_SETFL, fcntl(i, F_GETFL) & ~O_NONBLOCK) < 0 || dup2(i, 0) < 0) e = errno;
    }
    if (!e) {
      int keep = fcntl(fail[1], F_DUPFD_CLOEXEC, 3);
      close_from(3, keep);
      /* execvpe searches the PATH of this process's environment: take the request's */
      const char *path = NULL;
      for (char **ep = envp; *ep; ep++) if (!strncmp(*ep, "PATH=", 5)) path = *ep + 5;
      if (path) setenv("PATH", path, 1); else unsetenv("PATH");
      execvpe(cmd, argv, envp);
      e = errno;
      fail[1] = keep;
    }
    write_all(fail[1], (char *)&e, sizeof e);
    _exit(127);
  }
  if (flags & F_STDIN) close(in[0]);
  close(out[1]);
  close(errp[1]);
  close(fail[1]);
  int e;
  if (read_all(fail[0], &e, sizeof e) == 0) { /* exec failed; the pipe closes on a successful exec */
    if (flags & F_STDIN) close(in[1]);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {}
    respond(id, e, -1, 0, NULL, NULL);
    return;
  }
  close(fail[0]);

  struct buf ob = {0}, eb = {0};
  int infd = (flags & F_STDIN) ? in[1] : -1;
  size_t inoff = 0;
  if (infd >= 0) {
    fcntl(infd, F_SETFL, O_NONBLOCK);
    if (inlen == 0) { close(infd); infd = -1; }
  }
  int ofd = out[0], efd = errp[0];
  char chunk[65536];
  while (ofd >= 0 || efd >= 0) {
    struct pollfd p[3];
    int n = 0, io = -1, ii = -1, ie = -1;
    if (ofd >= 0) { io = n; p[n++] = (struct pollfd){.fd = ofd, .events = POLLIN}; }
    if (efd >= 0) { ie = n; p[n++] = (struct pollfd){.fd = efd, .events = POLLIN}; }
    if (infd >= 0) { ii = n; p[n++] = (struct pollfd){.fd = infd, .events = POLLOUT}; }
    if (poll(p, n, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (io >= 0 && p[io].revents) {
      ssize_t k = read(ofd, chunk, sizeof chunk);
      if (k > 0) buf_add(&ob, chunk, k); else if (k == 0 || errno != EINTR) { close(ofd); ofd = -1; }
    }
    if (ie >= 0 && p[ie].revents) {
      ssize_t k = read(efd, chunk, sizeof chunk);
      if (k > 0) buf_add(&eb, chunk, k); else if (k == 0 || errno != EINTR) { close(efd); efd = -1; }
    }
    if (ii >= 0 && p[ii].revents) {
      ssize_t w = write(infd, input + inoff, inlen - inoff);
      if (w > 0) inoff += (size_t)w;
      /* the program may exit before reading everything (EPIPE): fine, as with Node */
      if ((w < 0 && errno != EAGAIN && errno != EINTR) || inoff == inlen) { close(infd); infd = -1; }
    }
  }
  if (infd >= 0) close(infd);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
  if (WIFSIGNALED(status)) respond(id, 0, -1, WTERMSIG(status), &ob, &eb);
  else respond(id, 0, WEXITSTATUS(status), 0, &ob, &eb);
}

static void respond_errno(uint32_t id, int err, const char *what) {
  struct buf eb = {0};
  if (err && what) buf_add(&eb, what, strlen(what));
  respond(id, err, err ? -1 : 0, 0, NULL, &eb);
}

/* What `ip link set lo up` and NETNS_SETUP (src/daemon/networks/netns.ts) do, without a program. */
static int netns_setup(void) {
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return errno;
  struct ifreq ifr = {0};
  strcpy(ifr.ifr_name, "lo");
  int e = 0;
  if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0) e = errno;
  else {
    ifr.ifr_flags |= IFF_UP;
    if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0) e = errno;
  }
  close(s);
  if (e) return e;
  /* /proc/sys/net shows the namespace of the process that opens it: ours, now */
  int fd = open("/proc/sys/net/ipv6/conf/default/disable_ipv6", O_WRONLY | O_CLOEXEC);
  if (fd < 0) return errno == ENOENT ? 0 : errno; /* no IPv6 on this host */
  if (write(fd, "1", 1) != 1) e = errno;
  close(fd);
  return e;
}

static void do_netns(uint32_t id, struct reader *r) {
  char *target = rd_str(r, NULL);
  if (r->bad) { respond_errno(id, EINVAL, "bad request"); return; }
  /* this worker is single-threaded and exits after the request: it can change namespace */
  if (unshare(CLONE_NEWNET) < 0) { respond_errno(id, errno, "unshare"); return; }
  int e = netns_setup();
  if (e) { respond_errno(id, e, "loopback"); return; }
  if (mount("/proc/self/ns/net", target, NULL, MS_BIND, NULL) < 0) { respond_errno(id, errno, "mount"); return; }
  respond_errno(id, 0, NULL);
}

/* The two extended attributes a layer keeps (upper-dir.ts): read here, as Node has no getxattr. */
static void do_xattrs(uint32_t id, struct reader *r) {
  uint32_t n = rd_u32(r);
  if (r->bad || n > r->left / 4) { respond_errno(id, EINVAL, "bad request"); return; }
  struct buf out = {0};
  char opq[8], cap[4096];
  for (uint32_t i = 0; i < n; i++) {
    char *path = rd_str(r, NULL);
    if (r->bad) { respond_errno(id, EINVAL, "bad request"); return; }
    ssize_t o = lgetxattr(path, "trusted.overlay.opaque", opq, sizeof opq);
    if (o < 0 && errno != ENODATA && errno != ENOTSUP) { respond_errno(id, errno, path); return; }
    ssize_t c = lgetxattr(path, "security.capability", cap, sizeof cap);
    if (c < 0 && errno != ENODATA && errno != ENOTSUP) { respond_errno(id, errno, path); return; }
    unsigned char flag = o == 1 && opq[0] == 'y';
    buf_add(&out, &flag, 1);
    buf_u32(&out, c > 0 ? (uint32_t)c : 0);
    if (c > 0) buf_add(&out, cap, (size_t)c);
    free(path);
  }
  respond(id, 0, 0, 0, &out, NULL);
}

static void worker(uint32_t id, uint8_t op, struct reader *r) {
  if (op == OP_SPAWN) do_spawn(id, r);
  else if (op == OP_MOUNT) {
    char *src = rd_str(r, NULL), *target = rd_str(r, NULL), *fstype = rd_str(r, NULL);
    uint32_t flags = rd_u32(r);
    char *data = rd_str(r, NULL);
    if (r->bad) respond_errno(id, EINVAL, "bad request");
    else if (mount(src, target, fstype, flags, *data ? data : NULL) < 0) respond_errno(id, errno, "mount");
    else respond_errno(id, 0, NULL);
  } else if (op == OP_UMOUNT) {
    char *target = rd_str(r, NULL);
    uint32_t flags = rd_u32(r);
    if (r->bad) respond_errno(id, EINVAL, "bad request");
    else if (umount2(target, (int)flags) < 0) respond_errno(id, errno, "umount");
    else respond_errno(id, 0, NULL);
  } else if (op == OP_NETNS) do_netns(id, r);
  else if (op == OP_XATTRS) do_xattrs(id, r);
  else respond_errno(id, ENOSYS, "unknown op");
}

/* Workers in flight, so one that dies before answering (OOM killer, a stray kill) still gets its request answered. */
struct inflight {
  pid_t pid;
  uint32_t id;
};
static struct inflight *inflight;
static size_t n_inflight, cap_inflight;
static volatile sig_atomic_t child_exited;

static void on_sigchld(int sig) {
  (void)sig;
  child_exited = 1;
}

static void reap(void) {
  child_exited = 0;
  int status;
  pid_t pid;
  while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
    for (size_t i = 0; i < n_inflight; i++) {
      if (inflight[i].pid != pid) continue;
      /* a worker answers, then exits 0: anything else means it died first */
      if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        char why[64];
        snprintf(why, sizeof why, "worker %s %d", WIFSIGNALED(status) ? "killed by signal" : "exited", WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
        respond_errno(inflight[i].id, ECHILD, why);
      }
      inflight[i] = inflight[--n_inflight];
      break;
    }
  }
}

static sigset_t wait_mask; /* SIGCHLD is blocked except inside ppoll: no exit is missed between check and wait */

/* read_all for the request pipe: reaps workers while it waits. */
static int read_requests(void *p, size_t n) {
  char *c = p;
  while (n) {
    if (child_exited) reap();
    struct pollfd pf = {.fd = 0, .events = POLLIN};
    if (ppoll(&pf, 1, NULL, &wait_mask) < 0) continue; /* EINTR: a worker exited */
    ssize_t r = read(0, c, n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return -1;
    c += r;
    n -= (size_t)r;
  }
  return 0;
}

int main(void) {
  pid_t parent = getppid();
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) return 0; /* berthd died before the line above */
  close_from(3, -1);
  signal(SIGPIPE, SIG_IGN);
  struct sigaction sa = {0};
  sa.sa_handler = on_sigchld;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGCHLD, &sa, NULL);
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  sigprocmask(SIG_BLOCK, &chld, &wait_mask);
  write_lock = mmap(NULL, sizeof *write_lock, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (write_lock == MAP_FAILED || sem_init(write_lock, 1, 1) < 0) return 70;
  for (;;) {
    unsigned char h[4];
    if (read_requests(h, 4) < 0) return 0; /* berthd closed the pipe: done */
    uint32_t len = h[0] | (h[1] << 8) | (h[2] << 16) | ((uint32_t)h[3] << 24);
    if (len < 5 || len > MAX_FRAME) return 65;
    unsigned char *frame = malloc(len);
    if (!frame || read_requests(frame, len) < 0) return 0;
    struct reader r = {frame, len, 0};
    uint32_t id = rd_u32(&r);
    uint8_t op = rd_u8(&r);
    if (n_inflight == cap_inflight) {
      cap_inflight = cap_inflight ? cap_inflight * 2 : 64;
      inflight = realloc(inflight, cap_inflight * sizeof *inflight);
      if (!inflight) return 70;
    }
    pid_t w = fork();
    if (w == 0) {
      signal(SIGCHLD, SIG_DFL); /* the worker waits for its program */
      worker(id, op, &r);
      _exit(0);
    }
    if (w < 0) respond_errno(id, errno, "fork");
    else inflight[n_inflight++] = (struct inflight){w, id};
    free(frame);
  }
}
