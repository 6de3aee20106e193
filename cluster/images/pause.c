/*
 * The pod sandbox's "pause" process: it only holds the pod's namespaces open.
 * No pause image can be pulled here (no internet), so we build this one statically.
 * As PID 1 of the sandbox it must reap orphaned children and exit promptly on
 * SIGTERM/SIGINT, or every pod deletion waits out its whole grace period.
 */
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static void on_term(int sig) { (void)sig; _exit(0); }

static void on_child(int sig) {
    (void)sig;
    while (waitpid(-1, NULL, WNOHANG) > 0) {
    }
}

int main(void) {
    struct sigaction term = {.sa_handler = on_term};
    struct sigaction child = {.sa_handler = on_child, .sa_flags = SA_NOCLDSTOP};
    sigaction(SIGTERM, &term, NULL);
    sigaction(SIGINT, &term, NULL);
    sigaction(SIGCHLD, &child, NULL);
    for (;;) pause();
}
