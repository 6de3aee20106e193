/*
 * A tiny HTTP responder for the cluster self-test: answers every request on port
 * $PORT (default 8080) with "200 ok <hostname>". It exits on SIGTERM so pod deletion
 * is quick. Built statically so its image is just this one file.
 */
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void on_term(int sig) { (void)sig; _exit(0); }

int main(void) {
    signal(SIGTERM, on_term);
    signal(SIGINT, on_term);
    signal(SIGPIPE, SIG_IGN);
    const char *port_env = getenv("PORT");
    int port = port_env ? atoi(port_env) : 8080;

    int srv = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(srv, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_ANY)};
    if (bind(srv, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(srv, 64) < 0) {
        perror("listen");
        return 1;
    }
    char host[256] = "unknown";
    gethostname(host, sizeof host - 1);
    char body[300];
    int body_len = snprintf(body, sizeof body, "ok %s\n", host);
    char reply[512];
    int reply_len = snprintf(reply, sizeof reply,
                             "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n"
                             "Connection: close\r\n\r\n%s", body_len, body);
    for (;;) {
        int c = accept(srv, NULL, NULL);
        if (c < 0) continue;
        char req[4096];
        ssize_t n = read(c, req, sizeof req); /* one read is enough for a GET from curl or a probe */
        (void)n;
        ssize_t w = write(c, reply, reply_len);
        (void)w;
        close(c);
    }
}
