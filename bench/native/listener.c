/*
 * The native anchors of the open() benchmark: the least a fanotify permission listener can do, to
 * compare imans with. One thread, FAN_CLASS_CONTENT, a FAN_MARK_FILESYSTEM mark for FAN_OPEN_PERM on
 * the filesystem of PATH, 256 KiB reads, one write() per answer (spec fanotify.md 3.1). MODE:
 *   allow   allows every event at once
 *   sha256  reads the whole file through the event fd into SHA-256 (OpenSSL), then allows
 *   ignore  allows, then puts an inode ignore mark on the file (FAN_MARK_IGNORE, cleared when the
 *           file is modified, as imans's are; FAN_MARK_IGNORED_MASK before Linux 6.0), so the kernel
 *           stops asking about it
 *   watch   as ignore, and each ignore-marked file also gets a FAN_OPEN inode mark in a second,
 *           notification group (which also watches the filesystem for FAN_CLOSE_WRITE|FAN_MODIFY), read by a second thread in batches (a 1 ms pause between reads) that
 *           probes each opened file for writers with a read lease: the open watch imans keeps so that
 *           a write through a shared mapping cannot hide behind an ignore mark (what the warm pass
 *           costs by design)
 * Prints "ready" once marked; runs until killed (the kernel then allows whatever is pending).
 *
 * Usage: listener MODE PATH
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/fanotify.h>
#include <unistd.h>

#ifndef FAN_MARK_IGNORE
#define FAN_MARK_IGNORE 0x00000400
#endif
#ifndef FAN_MARK_EVICTABLE
#define FAN_MARK_EVICTABLE 0x00000200
#endif

static char hashbuf[64 * 1024];
static int watchGroup = -1;

static void *watcher(void *unused) {
    (void) unused;
    static char wbuf[64 * 1024] __attribute__((aligned(8)));
    const struct timespec pause = {0, 1000000};
    for (;;) {
        ssize_t len = read(watchGroup, wbuf, sizeof wbuf);
        if (len < 0) {
            if (errno == EINTR) {
                continue;
            }
            perror("read watch");
            return NULL;
        }
        struct fanotify_event_metadata *m = (struct fanotify_event_metadata *) wbuf;
        for (; FAN_EVENT_OK(m, len); m = FAN_EVENT_NEXT(m, len)) {
            if (m->fd < 0) {
                continue;
            }
            if (fcntl(m->fd, F_SETLEASE, F_RDLCK) == 0) {
                fcntl(m->fd, F_SETLEASE, F_UNLCK);
            }
            close(m->fd);
        }
        nanosleep(&pause, NULL);
    }
}

static int sha256(int fd, EVP_MD_CTX *ctx, unsigned char *digest) {
    unsigned int len;
    off_t off = 0;
    ssize_t n;
    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
    while ((n = pread(fd, hashbuf, sizeof hashbuf, off)) > 0) {
        EVP_DigestUpdate(ctx, hashbuf, (size_t) n);
        off += n;
    }
    EVP_DigestFinal_ex(ctx, digest, &len);
    return n < 0 ? -1 : 0;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: listener allow|sha256|ignore|watch PATH\n");
        return 2;
    }
    int hash = strcmp(argv[1], "sha256") == 0;
    int watch = strcmp(argv[1], "watch") == 0;
    int ignore = watch || strcmp(argv[1], "ignore") == 0;
    if (!hash && !ignore && strcmp(argv[1], "allow") != 0) {
        fprintf(stderr, "listener: unknown mode %s\n", argv[1]);
        return 2;
    }
    int group = fanotify_init(FAN_CLASS_CONTENT | FAN_CLOEXEC | FAN_UNLIMITED_QUEUE,
                              O_RDONLY | O_LARGEFILE | O_CLOEXEC);
    if (group < 0) {
        perror("fanotify_init");
        return 1;
    }
    if (fanotify_mark(group, FAN_MARK_ADD | FAN_MARK_FILESYSTEM, FAN_OPEN_PERM, AT_FDCWD, argv[2]) < 0) {
        perror("fanotify_mark");
        return 1;
    }
    if (watch) {
        pthread_t t;
        watchGroup = fanotify_init(FAN_CLASS_NOTIF | FAN_CLOEXEC | FAN_UNLIMITED_QUEUE,
                                   O_RDONLY | O_LARGEFILE | O_CLOEXEC);
        // imans's modification watch on the same filesystem: writes and closes after writing.
        if (watchGroup < 0 || fanotify_mark(watchGroup, FAN_MARK_ADD | FAN_MARK_FILESYSTEM,
                                            FAN_CLOSE_WRITE | FAN_MODIFY, AT_FDCWD, argv[2]) < 0
            || pthread_create(&t, NULL, watcher, NULL) != 0) {
            perror("watch group");
            return 1;
        }
    }
    unsigned int ignoreFlags = FAN_MARK_IGNORE | FAN_MARK_EVICTABLE;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char digest[EVP_MAX_MD_SIZE];
    printf("ready\n");
    fflush(stdout);
    static char buf[256 * 1024] __attribute__((aligned(8)));
    for (;;) {
        ssize_t len = read(group, buf, sizeof buf);
        if (len < 0) {
            if (errno == EINTR) {
                continue;
            }
            perror("read");
            return 1;
        }
        struct fanotify_event_metadata *m = (struct fanotify_event_metadata *) buf;
        for (; FAN_EVENT_OK(m, len); m = FAN_EVENT_NEXT(m, len)) {
            if (m->fd < 0) {
                continue;
            }
            if (hash && sha256(m->fd, ctx, digest) < 0) {
                perror("pread");
            }
            struct fanotify_response r = {.fd = m->fd, .response = FAN_ALLOW};
            if (write(group, &r, sizeof r) != sizeof r) {
                perror("write");
            }
            if (ignore) {
                while (fanotify_mark(group, FAN_MARK_ADD | FAN_MARK_INODE | ignoreFlags, FAN_OPEN_PERM, m->fd,
                                     NULL) < 0) {
                    if (errno != EINVAL || ignoreFlags == FAN_MARK_IGNORED_MASK) {
                        perror("fanotify_mark ignore");
                        break;
                    }
                    ignoreFlags = ignoreFlags == (FAN_MARK_IGNORE | FAN_MARK_EVICTABLE)
                                          ? FAN_MARK_IGNORED_MASK | FAN_MARK_EVICTABLE
                                          : FAN_MARK_IGNORED_MASK;
                }
                if (watch && fanotify_mark(watchGroup, FAN_MARK_ADD | FAN_MARK_INODE | (ignoreFlags & FAN_MARK_EVICTABLE),
                                           FAN_OPEN, m->fd, NULL) < 0) {
                    perror("fanotify_mark watch");
                }
            }
            close(m->fd);
        }
    }
}
