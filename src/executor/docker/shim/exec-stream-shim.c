/*
 * exec-stream-shim: the recovery record of a container's output, kept inside the container by the
 * container itself (docs/DURABILITY.md "The output record in the container").
 *
 *   exec-stream-shim run DIR SEGMENT_BYTES SEGMENTS TTY -- COMMAND [ARG...]
 *     (DIR is made if missing.) Runs COMMAND as its child and copies every byte the child writes to stdout and stderr (or to its
 *     terminal, TTY=1) first into DIR/out.<n> as records, then to its own stdout/stderr, which Docker
 *     attaches to the service. Signals it receives go to the child; it exits as the child did
 *     (128 + n for a signal). Output is never held back waiting for more.
 *   exec-stream-shim cat DIR
 *     Writes the records of DIR, oldest segment first, to stdout and follows them as they grow, until
 *     the writer's end record (the service's reader after a restart: `docker exec`).
 *
 * Record: u8 type | 3 zero bytes | u32 little-endian payload length | payload.
 *   type 1 stdout bytes, 2 stderr bytes;
 *   type 3 end: i32 exit code (the child's), written after the last output record;
 *   type 4 segment start: u64 stdout bytes, u64 stderr bytes written before this segment (first record
 *          of every segment, so a reader knows where a segment begins when older ones are gone).
 * A segment holds at most SEGMENT_BYTES of records (one record may pass it); the writer then starts
 * out.<n+1> and removes out.<n+1-SEGMENTS>. A record is one write(2) to the page cache: a kill of the
 * container at any point leaves whole records and possibly one torn last record, which readers drop.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#define REC_STDOUT 1
#define REC_STDERR 2
#define REC_END 3
#define REC_SEGMENT 4
#define READ_BYTES (128 * 1024)

static void die(const char *what) {
  dprintf(2, "exec-stream-shim: %s: %s\n", what, strerror(errno));
  exit(125);
}

static int write_all(int fd, const void *buf, size_t len) {
  const char *p = buf;
  while (len > 0) {
    ssize_t n = write(fd, p, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) {
        struct pollfd w = {fd, POLLOUT, 0};
        poll(&w, 1, -1);
        continue;
      }
      return -1;
    }
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

/* ---------------------------------------------------------------- writer */

static const char *dir;
static unsigned long long segment_bytes;
static unsigned segments;
static unsigned segment_no;
static int out_fd = -1;
static unsigned long long in_segment;
static unsigned long long stream_total[3];
static int recording = 1; /* 0 once a record could not be written: output still flows, unrecorded */

static void header(unsigned char h[8], int type, uint32_t len) {
  h[0] = (unsigned char)type;
  h[1] = h[2] = h[3] = 0;
  h[4] = len & 0xff;
  h[5] = (len >> 8) & 0xff;
  h[6] = (len >> 16) & 0xff;
  h[7] = (len >> 24) & 0xff;
}

static void put64(unsigned char *p, unsigned long long v) {
  for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}

static int record(int type, const void *data, uint32_t len) {
  if (!recording) return -1;
  unsigned char h[8];
  header(h, type, len);
  struct iovec iov[2] = {{h, 8}, {(void *)data, len}};
  size_t want = 8 + (size_t)len;
  ssize_t n;
  do n = writev(out_fd, iov, 2);
  while (n < 0 && errno == EINTR);
  if (n != (ssize_t)want) {
    /* Disk full or the like: keep the child's output flowing; what is not recorded here is what a
       restart of the service cannot recover, which the marker file tells it. */
    recording = 0;
    char path[4096];
    snprintf(path, sizeof path, "%s/unrecorded", dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd >= 0) close(fd);
    return -1;
  }
  in_segment += want;
  return 0;
}

static void open_segment(void) {
  char path[4096];
  if (out_fd >= 0) close(out_fd);
  segment_no++;
  snprintf(path, sizeof path, "%s/out.%08u", dir, segment_no);
  out_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
  if (out_fd < 0) {
    recording = 0;
    snprintf(path, sizeof path, "%s/unrecorded", dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd >= 0) close(fd);
    return;
  }
  in_segment = 0;
  unsigned char start[16];
  put64(start, stream_total[REC_STDOUT]);
  put64(start + 8, stream_total[REC_STDERR]);
  record(REC_SEGMENT, start, sizeof start);
  if (segment_no > segments) {
    snprintf(path, sizeof path, "%s/out.%08u", dir, segment_no - segments);
    unlink(path);
  }
}

static void record_output(int type, const char *data, size_t len) {
  if (recording && in_segment >= segment_bytes) open_segment();
  if (record(type, data, (uint32_t)len) == 0) stream_total[type] += len;
}

/* Reads what `fd` has (at most READ_BYTES), records it, then passes it on to `to`. Returns the bytes
   read: 0 at end of file, -1 when nothing was there (EAGAIN) or the fd failed (EIO: the pty's child
   side is closed). */
static ssize_t relay(int fd, int type, int to) {
  static char buf[READ_BYTES];
  ssize_t n;
  do n = read(fd, buf, sizeof buf);
  while (n < 0 && errno == EINTR);
  if (n <= 0) return n == 0 ? 0 : -1;
  record_output(type, buf, (size_t)n);
  /* Docker reads its side of our stdout/stderr whether a client is attached or not; a failure there
     (closed) must not stop the record. */
  write_all(to, buf, (size_t)n);
  return n;
}

static void set_nonblock(int fd) { fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); }

static int exit_code_of(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 125;
}

static int run(int argc, char **argv) {
  if (argc < 7 || strcmp(argv[5], "--") != 0) {
    dprintf(2, "usage: exec-stream-shim run DIR SEGMENT_BYTES SEGMENTS TTY -- COMMAND [ARG...]\n");
    return 125;
  }
  dir = argv[1];
  segment_bytes = strtoull(argv[2], NULL, 10);
  segments = (unsigned)strtoul(argv[3], NULL, 10);
  int tty = strcmp(argv[4], "1") == 0;
  char **command = argv + 6;
  if (segment_bytes < 4096) segment_bytes = 4096;
  if (segments < 1) segments = 1;
  mkdir(dir, 0755); /* an exec's record folder is made by its shim; a run's was put there before start */
  open_segment();

  /* Every signal we may forward is taken through a signalfd; the child gets the mask it had. */
  sigset_t all, old;
  sigfillset(&all);
  sigprocmask(SIG_BLOCK, &all, &old);
  int sfd = signalfd(-1, &all, SFD_CLOEXEC | SFD_NONBLOCK);
  if (sfd < 0) die("signalfd");
  signal(SIGPIPE, SIG_IGN);

  int outp[2] = {-1, -1}, errp[2] = {-1, -1}, master = -1;
  struct termios outer;
  int outer_raw = 0;
  if (tty) {
    master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master < 0 || grantpt(master) < 0 || unlockpt(master) < 0) die("pseudo-terminal");
    struct winsize ws;
    if (ioctl(0, TIOCGWINSZ, &ws) == 0) ioctl(master, TIOCSWINSZ, &ws);
    /* Docker's terminal passes bytes through untouched; the child's terminal does the line discipline. */
    if (tcgetattr(0, &outer) == 0) {
      struct termios raw = outer;
      cfmakeraw(&raw);
      tcsetattr(0, TCSANOW, &raw);
      outer_raw = 1;
    }
  } else if (pipe2(outp, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0) {
    die("pipe");
  } else {
    fcntl(outp[0], F_SETPIPE_SZ, 256 * 1024);
    fcntl(errp[0], F_SETPIPE_SZ, 256 * 1024);
  }

  pid_t parent = getpid();
  pid_t child = fork();
  if (child < 0) die("fork");
  if (child == 0) {
    /* A shim killed outright (SIGKILL: an exec's process ended by the service, which finds the shim's
     * pid) takes its command with it, as if the command had been signalled itself. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(137);
    if (tty) {
      setsid();
      int slave = open(ptsname(master), O_RDWR);
      if (slave < 0) die("terminal");
      ioctl(slave, TIOCSCTTY, 0);
      dup2(slave, 0);
      dup2(slave, 1);
      dup2(slave, 2);
      if (slave > 2) close(slave);
    } else {
      dup2(outp[1], 1);
      dup2(errp[1], 2);
    }
    signal(SIGPIPE, SIG_DFL);
    sigprocmask(SIG_SETMASK, &old, NULL);
    execvp(command[0], command);
    int err = errno;
    dprintf(2, "exec-stream: %s: %s\n", command[0], strerror(err));
    _exit(err == ENOENT || err == ENOTDIR ? 127 : 126);
  }
  if (!tty) {
    close(outp[1]);
    close(errp[1]);
    set_nonblock(outp[0]);
    set_nonblock(errp[0]);
  } else {
    set_nonblock(master);
  }

  int status = 0, exited = 0;
  int open_out = tty ? master : outp[0], open_err = tty ? -1 : errp[0];
  int stdin_open = tty; /* with a terminal, what Docker writes to ours goes to the child's */
  while (!exited) {
    struct pollfd p[4];
    int n = 0;
    p[n++] = (struct pollfd){sfd, POLLIN, 0};
    if (open_out >= 0) p[n++] = (struct pollfd){open_out, POLLIN, 0};
    if (open_err >= 0) p[n++] = (struct pollfd){open_err, POLLIN, 0};
    if (stdin_open) p[n++] = (struct pollfd){0, POLLIN, 0};
    if (poll(p, (nfds_t)n, -1) < 0 && errno != EINTR) die("poll");
    for (int i = 1; i < n; i++) {
      if (!p[i].revents) continue;
      if (p[i].fd == 0) {
        char in[4096];
        ssize_t r = read(0, in, sizeof in);
        if (r > 0) write_all(master, in, (size_t)r);
        else if (r == 0 || errno != EINTR) stdin_open = 0;
      } else if (p[i].fd == open_out) {
        /* End of the pipe, or EIO from a terminal whose child side every process closed. */
        ssize_t r = relay(open_out, REC_STDOUT, 1);
        if (r == 0 || (r < 0 && errno != EAGAIN)) open_out = -1;
      } else if (p[i].fd == open_err) {
        ssize_t r = relay(open_err, REC_STDERR, 2);
        if (r == 0 || (r < 0 && errno != EAGAIN)) open_err = -1;
      }
    }
    if (p[0].revents) {
      struct signalfd_siginfo si;
      while (read(sfd, &si, sizeof si) == (ssize_t)sizeof si) {
        int sig = (int)si.ssi_signo;
        if (sig == SIGCHLD) {
          pid_t w;
          int st;
          /* As PID 1 (no init) we also reap orphans; only our child's end ends us. */
          while ((w = waitpid(-1, &st, WNOHANG)) > 0)
            if (w == child) {
              status = st;
              exited = 1;
            }
        } else if (sig == SIGWINCH && tty) {
          struct winsize ws;
          if (ioctl(0, TIOCGWINSZ, &ws) == 0) ioctl(master, TIOCSWINSZ, &ws);
        } else {
          kill(child, sig);
        }
      }
    }
  }
  /* Everything the child wrote before it ended is in the pipe (or terminal) now: take it all. Output
     of processes it left behind, after this, is not its output (the container ends with us). */
  if (open_out >= 0)
    while (relay(open_out, REC_STDOUT, 1) > 0) {
    }
  if (open_err >= 0)
    while (relay(open_err, REC_STDERR, 2) > 0) {
    }
  int code = exit_code_of(status);
  unsigned char end[4] = {(unsigned char)code, 0, 0, 0};
  record(REC_END, end, sizeof end);
  if (outer_raw) tcsetattr(0, TCSANOW, &outer);
  return code;
}

/* ---------------------------------------------------------------- reader */

/* The lowest segment number present in DIR, 0 when there is none. */
static unsigned first_segment(const char *d) {
  DIR *dp = opendir(d);
  if (!dp) return 0;
  unsigned lowest = 0;
  struct dirent *e;
  while ((e = readdir(dp))) {
    unsigned n;
    if (sscanf(e->d_name, "out.%u", &n) == 1 && (lowest == 0 || n < lowest)) lowest = n;
  }
  closedir(dp);
  return lowest;
}

static int open_numbered(const char *d, unsigned n) {
  char path[4096];
  snprintf(path, sizeof path, "%s/out.%08u", d, n);
  return open(path, O_RDONLY | O_CLOEXEC);
}

/* Where the reader is in the records of one segment: only to see the end record go by. */
struct framing {
  unsigned char h[8];
  size_t hfill;
  unsigned long long remaining;
  int type;
  int ended;
};

static void frame(struct framing *f, const char *buf, size_t n) {
  for (size_t i = 0; i < n && !f->ended;) {
    if (f->remaining == 0 && f->hfill < 8) {
      f->h[f->hfill++] = (unsigned char)buf[i++];
      if (f->hfill < 8) continue;
      f->type = f->h[0];
      f->remaining = (unsigned long long)f->h[4] | (unsigned long long)f->h[5] << 8 | (unsigned long long)f->h[6] << 16 | (unsigned long long)f->h[7] << 24;
    } else {
      unsigned long long take = f->remaining < (unsigned long long)(n - i) ? f->remaining : (unsigned long long)(n - i);
      i += (size_t)take;
      f->remaining -= take;
    }
    if (f->hfill == 8 && f->remaining == 0) {
      f->hfill = 0;
      if (f->type == REC_END) f->ended = 1;
    }
  }
}

/* Copies a segment's new bytes to stdout: 1 when it reached the end record, -1 when stdout is gone. */
static int copy_available(int fd, struct framing *f) {
  static char buf[READ_BYTES];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return f->ended;
    if (write_all(1, buf, (size_t)n) < 0) return -1;
    frame(f, buf, (size_t)n);
    if (f->ended) return 1;
  }
}

/* Writes every segment of DIR from the oldest, following them as they grow, until the end record. */
static int cat(int argc, char **argv) {
  if (argc < 2) {
    dprintf(2, "usage: exec-stream-shim cat DIR\n");
    return 125;
  }
  const char *d = argv[1];
  int ino = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
  if (ino >= 0) inotify_add_watch(ino, d, IN_MODIFY | IN_CREATE | IN_CLOSE_WRITE);
  unsigned seg = 0;
  int fd = -1;
  struct framing f = {0};
  for (;;) {
    if (fd < 0 && (seg = first_segment(d)) != 0) fd = open_numbered(d, seg);
    if (fd >= 0) {
      int r = copy_available(fd, &f);
      if (r != 0) return r > 0 ? 0 : 141;
      /* The writer starts segment n+1 only after its last write to n: once n+1 exists, what n holds
         is all it will hold. A reader that fell behind several segments jumps to the oldest left. */
      unsigned lowest = first_segment(d);
      unsigned next = lowest > seg + 1 ? lowest : seg + 1;
      int nfd = open_numbered(d, next);
      if (nfd >= 0) {
        if (next == seg + 1 && (r = copy_available(fd, &f)) != 0) return r > 0 ? 0 : 141;
        close(fd);
        fd = nfd;
        seg = next;
        memset(&f, 0, sizeof f);
        continue;
      }
    }
    struct pollfd p = {ino, POLLIN, 0};
    poll(&p, ino >= 0 ? 1 : 0, 100);
    char ev[4096];
    while (ino >= 0 && read(ino, ev, sizeof ev) > 0) {
    }
  }
}

int main(int argc, char **argv) {
  if (argc >= 2 && strcmp(argv[1], "run") == 0) return run(argc - 1, argv + 1);
  if (argc >= 2 && strcmp(argv[1], "cat") == 0) return cat(argc - 1, argv + 1);
  dprintf(2, "usage: exec-stream-shim run|cat ...\n");
  return 125;
}
