/*
 * A managed volume plugin for the e2e tests, built with `gcc -static` at
 * test time so that its rootfs holds nothing but this binary. It serves the
 * VolumeDriver protocol on /run/docker/plugins/<argv[1]> and keeps each
 * volume as a directory under $DATA (default /data) inside its own root.
 * With TMPFS=1 each volume is a tmpfs it mounts there (for PropagatedMount).
 * One request per connection (it answers with Connection: close).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static const char *data_dir(void) {
  const char *d = getenv("DATA");
  return d && *d ? d : "/data";
}

/* The string value of "key" in a flat JSON body; names with / or quotes are refused. */
static int json_str(const char *body, const char *key, char *out, size_t n) {
  char pat[64];
  snprintf(pat, sizeof pat, "\"%s\"", key);
  const char *p = strstr(body, pat);
  if (!p) return -1;
  p = strchr(p + strlen(pat), ':');
  if (!p) return -1;
  p = strchr(p, '"');
  if (!p) return -1;
  p++;
  size_t i = 0;
  while (*p && *p != '"' && i + 1 < n) {
    if (*p == '\\' || *p == '/') return -1;
    out[i++] = *p++;
  }
  out[i] = 0;
  if (*p != '"' || i == 0 || strcmp(out, ".") == 0 || strcmp(out, "..") == 0) return -1;
  return 0;
}

static void reply(int fd, const char *json) {
  char head[256];
  int n = snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.plugins.v1.2+json\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n", strlen(json));
  if (write(fd, head, n) < 0 || write(fd, json, strlen(json)) < 0) perror("write");
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
  (void)sb; (void)flag; (void)ftw;
  return remove(path);
}

static void handle(int fd) {
  static char buf[65536];
  size_t got = 0;
  char *body = NULL;
  long clen = 0;
  for (;;) {
    ssize_t r = read(fd, buf + got, sizeof buf - 1 - got);
    if (r <= 0) return;
    got += r;
    buf[got] = 0;
    if (!body) {
      char *e = strstr(buf, "\r\n\r\n");
      if (!e) continue;
      body = e + 4;
      char *cl = strcasestr(buf, "content-length:");
      clen = cl ? strtol(cl + 15, NULL, 10) : 0;
    }
    if ((long)(buf + got - body) >= clen || got >= sizeof buf - 1) break;
  }
  char method[128] = "";
  sscanf(buf, "POST /%127s", method);
  char name[256], path[1024], out[8192];
  const char *data = data_dir();
  mkdir(data, 0755);
  if (strcmp(method, "Plugin.Activate") == 0) {
    reply(fd, "{\"Implements\":[\"VolumeDriver\"]}");
  } else if (strcmp(method, "VolumeDriver.Capabilities") == 0) {
    reply(fd, "{\"Capabilities\":{\"Scope\":\"local\"}}");
  } else if (strcmp(method, "VolumeDriver.List") == 0) {
    DIR *d = opendir(data);
    size_t n = snprintf(out, sizeof out, "{\"Volumes\":[");
    struct dirent *e;
    int first = 1;
    while (d && (e = readdir(d))) {
      if (e->d_name[0] == '.') continue;
      n += snprintf(out + n, sizeof out - n, "%s{\"Name\":\"%s\",\"Mountpoint\":\"%s/%s\"}", first ? "" : ",", e->d_name, data, e->d_name);
      first = 0;
      if (n > sizeof out - 600) break;
    }
    if (d) closedir(d);
    snprintf(out + n, sizeof out - n, "],\"Err\":\"\"}");
    reply(fd, out);
  } else if (json_str(body ? body : "", "Name", name, sizeof name) != 0) {
    reply(fd, "{\"Err\":\"bad volume name\"}");
  } else {
    snprintf(path, sizeof path, "%s/%s", data, name);
    struct stat st;
    int exists = stat(path, &st) == 0;
    if (strcmp(method, "VolumeDriver.Create") == 0) {
      const char *tmpfs = getenv("TMPFS");
      if (mkdir(path, 0755) != 0 && errno != EEXIST) reply(fd, "{\"Err\":\"mkdir failed\"}");
      else if (tmpfs && *tmpfs == '1' && mount("tmpfs", path, "tmpfs", 0, "size=1m") != 0) reply(fd, "{\"Err\":\"mount failed\"}");
      else reply(fd, "{\"Err\":\"\"}");
    } else if (!exists) {
      reply(fd, "{\"Err\":\"no such volume\"}");
    } else if (strcmp(method, "VolumeDriver.Remove") == 0) {
      umount2(path, MNT_DETACH);
      nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
      reply(fd, "{\"Err\":\"\"}");
    } else if (strcmp(method, "VolumeDriver.Mount") == 0 || strcmp(method, "VolumeDriver.Path") == 0) {
      snprintf(out, sizeof out, "{\"Mountpoint\":\"%s\",\"Err\":\"\"}", path);
      reply(fd, out);
    } else if (strcmp(method, "VolumeDriver.Unmount") == 0) {
      reply(fd, "{\"Err\":\"\"}");
    } else if (strcmp(method, "VolumeDriver.Get") == 0) {
      snprintf(out, sizeof out, "{\"Volume\":{\"Name\":\"%s\",\"Mountpoint\":\"%s\",\"Status\":{}},\"Err\":\"\"}", name, path);
      reply(fd, out);
    } else {
      const char *nf = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
      if (write(fd, nf, strlen(nf)) < 0) perror("write");
    }
  }
}

/* As pid 1 of its namespace a signal without a handler is ignored: disable would wait for SIGKILL. */
static void on_term(int sig) {
  (void)sig;
  _exit(0);
}

int main(int argc, char **argv) {
  signal(SIGTERM, on_term);
  const char *sock = argc > 1 ? argv[1] : "vol.sock";
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  snprintf(addr.sun_path, sizeof addr.sun_path, "/run/docker/plugins/%s", sock);
  unlink(addr.sun_path);
  int s = socket(AF_UNIX, SOCK_STREAM, 0);
  if (s < 0 || bind(s, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(s, 16) != 0) {
    perror("listen");
    return 1;
  }
  fprintf(stderr, "volume plugin listening on %s, data in %s\n", addr.sun_path, data_dir());
  for (;;) {
    int c = accept(s, NULL, NULL);
    if (c < 0) continue;
    handle(c);
    close(c);
  }
}
