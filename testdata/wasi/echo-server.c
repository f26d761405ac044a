// Accepts one connection on the preopened listening socket (fd 3, from
// --tcplisten), echoes what it receives until the peer shuts down, then
// shuts down its own side.
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

int main(void) {
  int c = accept(3, NULL, NULL);
  if (c < 0) {
    perror("accept");
    return 1;
  }
  char buf[4096];
  for (;;) {
    ssize_t n = recv(c, buf, sizeof buf, 0);
    if (n < 0) {
      perror("recv");
      return 1;
    }
    if (n == 0) break;
    for (ssize_t done = 0; done < n;) {
      ssize_t w = send(c, buf + done, (size_t)(n - done), 0);
      if (w < 0) {
        perror("send");
        return 1;
      }
      done += w;
    }
  }
  if (shutdown(c, SHUT_WR) != 0) {
    perror("shutdown");
    return 1;
  }
  return 0;
}
