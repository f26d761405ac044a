// wasi:filesystem in a preopened temporary directory (/sandbox): write a
// file, read it back, seek, stat, list, rename, make and remove a
// directory, and see errors as errno values (ENOENT, EEXIST, ENOTEMPTY).
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"

static const char kText[] = "line one\nline two\n";

static void write_file(const char* path) {
  FILE* f = fopen(path, "w");
  CHECK(f);
  CHECK(fputs(kText, f) >= 0);
  CHECK(fclose(f) == 0);
}

static void check_contents(const char* path) {
  char buf[64] = {0};
  int fd = open(path, O_RDONLY);
  CHECK(fd >= 0);
  CHECK(read(fd, buf, sizeof buf) == (ssize_t)strlen(kText));
  CHECK(strcmp(buf, kText) == 0);
  CHECK(read(fd, buf, sizeof buf) == 0);  // end of file
  CHECK(lseek(fd, 5, SEEK_SET) == 5);
  CHECK(read(fd, buf, 3) == 3 && memcmp(buf, "one", 3) == 0);
  CHECK(close(fd) == 0);
}

int main(void) {
  write_file("/sandbox/a.txt");
  check_contents("/sandbox/a.txt");

  struct stat st;
  CHECK(stat("/sandbox/a.txt", &st) == 0);
  CHECK(S_ISREG(st.st_mode) && st.st_size == (off_t)strlen(kText));

  // Append, then truncate back.
  int fd = open("/sandbox/a.txt", O_WRONLY | O_APPEND);
  CHECK(fd >= 0);
  CHECK(write(fd, "three\n", 6) == 6);
  CHECK(fstat(fd, &st) == 0 && st.st_size == (off_t)strlen(kText) + 6);
  CHECK(ftruncate(fd, (off_t)strlen(kText)) == 0);
  CHECK(close(fd) == 0);
  check_contents("/sandbox/a.txt");

  CHECK(mkdir("/sandbox/dir", 0755) == 0);
  CHECK(mkdir("/sandbox/dir", 0755) == -1 && errno == EEXIST);
  CHECK(rename("/sandbox/a.txt", "/sandbox/dir/b.txt") == 0);
  CHECK(open("/sandbox/a.txt", O_RDONLY) == -1 && errno == ENOENT);
  check_contents("/sandbox/dir/b.txt");
  CHECK(rmdir("/sandbox/dir") == -1 && errno == ENOTEMPTY);

  DIR* d = opendir("/sandbox/dir");
  CHECK(d);
  int entries = 0, found = 0;
  for (struct dirent* e; (e = readdir(d));) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    ++entries;
    found |= strcmp(e->d_name, "b.txt") == 0 && e->d_type == DT_REG;
  }
  CHECK(closedir(d) == 0);
  CHECK(entries == 1 && found);

  CHECK(unlink("/sandbox/dir/b.txt") == 0);
  CHECK(rmdir("/sandbox/dir") == 0);
  CHECK(stat("/sandbox/dir", &st) == -1 && errno == ENOENT);
  write_file("/sandbox/kept.txt");  // the runner checks it arrived on the host
  return 0;
}
