// Tries to reach outside the preopen "/sandbox" every way it can and prints
// one line per attempt: the attempt and the errno name it got ("ok" if it
// succeeded). Run with --dir SANDBOX::/sandbox; OUTSIDE/secret must exist
// beside SANDBOX, and SANDBOX/out must be a symlink to ../outside.
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char* name(int r) {
  if (r == 0) return "ok";
  switch (errno) {
    case EPERM: return "EPERM";
    case ENOENT: return "ENOENT";
    case ELOOP: return "ELOOP";
    case ENAMETOOLONG: return "ENAMETOOLONG";
    case ENOTCAPABLE: return "ENOTCAPABLE";
    case EACCES: return "EACCES";
    case ENOTDIR: return "ENOTDIR";
    default: return strerror(errno);
  }
}

static int open_r(const char* p) {
  int fd = open(p, O_RDONLY);
  if (fd >= 0) close(fd);
  return fd < 0 ? -1 : 0;
}

static int create(const char* p) {
  int fd = open(p, O_WRONLY | O_CREAT, 0644);
  if (fd >= 0) close(fd);
  return fd < 0 ? -1 : 0;
}

int main(void) {
  struct stat st;
  char long_name[400];
  memset(long_name, 'x', sizeof long_name - 1);
  long_name[sizeof long_name - 1] = 0;
  char long_path[600];
  snprintf(long_path, sizeof long_path, "/sandbox/%s", long_name);

  if (symlink("loop2", "/sandbox/loop1") != 0 || symlink("loop1", "/sandbox/loop2") != 0) perror("symlink");
  int fd = open("/sandbox/mine", O_WRONLY | O_CREAT, 0644);
  if (fd >= 0) close(fd);

  printf("read dotdot %s\n", name(open_r("/sandbox/../outside/secret")));
  printf("read deep dotdot %s\n", name(open_r("/sandbox/a/../../outside/secret")));
  printf("read symlink %s\n", name(open_r("/sandbox/out/secret")));
  printf("stat symlink %s\n", name(stat("/sandbox/out/secret", &st)));
  printf("stat dotdot %s\n", name(stat("/sandbox/../outside", &st)));
  printf("create via symlink %s\n", name(create("/sandbox/out/new")));
  printf("create dotdot %s\n", name(create("/sandbox/../outside/new")));
  printf("mkdir via symlink %s\n", name(mkdir("/sandbox/out/dir", 0755)));
  printf("rename out %s\n", name(rename("/sandbox/mine", "/sandbox/out/mine")));
  printf("rename in %s\n", name(rename("/sandbox/out/secret", "/sandbox/stolen")));
  printf("link out %s\n", name(link("/sandbox/mine", "/sandbox/out/mine")));
  printf("link in %s\n", name(link("/sandbox/out/secret", "/sandbox/stolen")));
  printf("unlink via symlink %s\n", name(unlink("/sandbox/out/secret")));
  printf("absolute symlink %s\n", name(symlink("/etc/passwd", "/sandbox/abs")));
  printf("symlink loop %s\n", name(open_r("/sandbox/loop1")));
  printf("long name %s\n", name(open_r(long_path)));
  printf("unpreopened %s\n", name(open_r("/etc/passwd")));
  return 0;
}
