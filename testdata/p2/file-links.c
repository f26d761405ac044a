// wasi:filesystem beyond plain files: symbolic and hard links, escapes out
// of the preopen (refused), timestamps, pread/pwrite at offsets and the same
// directory preopened read-only as /ro (reads work, every change is EROFS).
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

int main(void) {
  int fd = open("/sandbox/data", O_RDWR | O_CREAT | O_EXCL, 0644);
  CHECK(fd >= 0);
  CHECK(pwrite(fd, "0123456789", 10, 0) == 10);
  CHECK(pwrite(fd, "ab", 2, 12) == 2);  // past the end: a hole of zeros
  char buf[16] = {0};
  CHECK(pread(fd, buf, sizeof buf, 8) == 6);
  CHECK(memcmp(buf, "89\0\0ab", 6) == 0);
  CHECK(lseek(fd, 0, SEEK_CUR) == 0);  // pread/pwrite leave the offset alone
  CHECK(close(fd) == 0);

  // Symbolic links: made, read, followed, and not followed by lstat.
  CHECK(symlink("data", "/sandbox/link") == 0);
  char target[32] = {0};
  CHECK(readlink("/sandbox/link", target, sizeof target) == 4 && strcmp(target, "data") == 0);
  struct stat st, lst;
  CHECK(stat("/sandbox/link", &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 14);
  CHECK(lstat("/sandbox/link", &lst) == 0 && S_ISLNK(lst.st_mode));
  CHECK(st.st_ino != lst.st_ino);

  // Hard links share the inode.
  CHECK(link("/sandbox/data", "/sandbox/hard") == 0);
  struct stat hst;
  CHECK(stat("/sandbox/hard", &hst) == 0 && hst.st_ino == st.st_ino && hst.st_nlink == 2);

  // Nothing reaches outside the preopen.
  CHECK(symlink("../..", "/sandbox/up") == 0);
  CHECK(open("/sandbox/up/etc/passwd", O_RDONLY) == -1 && errno == EPERM);
  CHECK(open("/sandbox/../etc/passwd", O_RDONLY) == -1);
  CHECK(unlink("/sandbox/up") == 0);

  // Timestamps.
  struct timespec times[2] = {{1000000000, 0}, {1200000000, 500}};
  CHECK(utimensat(AT_FDCWD, "/sandbox/data", times, 0) == 0);
  CHECK(stat("/sandbox/data", &st) == 0);
  CHECK(st.st_atim.tv_sec == 1000000000 && st.st_mtim.tv_sec == 1200000000 && st.st_mtim.tv_nsec == 500);

  // The read-only view of the same directory.
  fd = open("/ro/data", O_RDONLY);
  CHECK(fd >= 0);
  CHECK(read(fd, buf, 4) == 4 && memcmp(buf, "0123", 4) == 0);
  CHECK(close(fd) == 0);
  CHECK(open("/ro/data", O_WRONLY) == -1 && errno == EROFS);
  CHECK(open("/ro/new", O_WRONLY | O_CREAT, 0644) == -1 && errno == EROFS);
  CHECK(mkdir("/ro/dir", 0755) == -1 && errno == EROFS);
  CHECK(unlink("/ro/hard") == -1 && errno == EROFS);
  CHECK(rename("/ro/data", "/ro/moved") == -1 && errno == EROFS);
  CHECK(symlink("data", "/ro/l2") == -1 && errno == EROFS);
  CHECK(utimensat(AT_FDCWD, "/ro/data", times, 0) == -1 && errno == EROFS);

  CHECK(unlink("/sandbox/hard") == 0);
  CHECK(unlink("/sandbox/link") == 0);
  CHECK(truncate("/sandbox/data", 4) == 0);
  return 0;
}
