/*
 * The opener of the end-to-end open() benchmark (spec fanotify.md 3.1): PASSES times, opens, reads to
 * the end and closes each of COUNT files DIR/f000000..., and prints one "pass N opens_per_second
 * failures cpu_ns_per_open" line per pass (CPU time of the opener itself, user and system: what a
 * listener adds in the opener's own context, independent of what else the machine runs). Static, so it runs in a mount namespace that holds nothing but the
 * benchmark's filesystems.
 *
 * Usage: openloop DIR COUNT PASSES
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: openloop DIR COUNT PASSES\n");
        return 2;
    }
    const char *dir = argv[1];
    int count = atoi(argv[2]);
    int passes = atoi(argv[3]);
    char **names = malloc(sizeof(char *) * (size_t) count);
    for (int i = 0; i < count; i++) {
        if (asprintf(&names[i], "%s/f%06d", dir, i) < 0) {
            return 1;
        }
    }
    static char buf[64 * 1024];
    for (int pass = 1; pass <= passes; pass++) {
        long failures = 0;
        struct timespec t0, t1, c0, c1;
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
        clock_gettime(CLOCK_MONOTONIC, &t0);
        for (int i = 0; i < count; i++) {
            int fd = open(names[i], O_RDONLY | O_CLOEXEC);
            if (fd < 0) {
                failures++;
                continue;
            }
            ssize_t n;
            while ((n = read(fd, buf, sizeof buf)) > 0) {
            }
            if (n < 0) {
                failures++;
            }
            close(fd);
        }
        clock_gettime(CLOCK_MONOTONIC, &t1);
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
        double s = (double) (t1.tv_sec - t0.tv_sec) + (double) (t1.tv_nsec - t0.tv_nsec) / 1e9;
        double cpu = (double) (c1.tv_sec - c0.tv_sec) * 1e9 + (double) (c1.tv_nsec - c0.tv_nsec);
        printf("pass %d %.0f %ld %.0f\n", pass, count / s, failures, cpu / count);
        fflush(stdout);
    }
    return 0;
}
