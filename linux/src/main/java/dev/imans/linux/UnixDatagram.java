package dev.imans.linux;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Optional;

/**
 * An {@code AF_UNIX} datagram socket, as {@code sd_notify(3)} speaks to systemd's {@code $NOTIFY_SOCKET}:
 * the JDK's {@code DatagramChannel} has no unix-domain support (JEP 380 covers stream sockets only).
 *
 * <p>Addresses are paths, or abstract names written with a leading {@code @} (systemd's notation: the
 * kernel sees a leading NUL byte and no terminator).
 *
 * <pre>
 * struct sockaddr_un { sa_family_t sun_family; char sun_path[108]; };   include/uapi/linux/un.h
 * </pre>
 */
public final class UnixDatagram implements AutoCloseable {
    static final int AF_UNIX = 1;
    static final int SOCK_DGRAM = 2;
    static final int SOCK_CLOEXEC = Fd.O_CLOEXEC;
    static final int MSG_NOSIGNAL = 0x4000;
    static final int MSG_DONTWAIT = 0x40;
    /** sizeof(sun_path). */
    static final int PATH_MAX = 108;
    private static final int SOCKADDR_UN_SIZE = 2 + PATH_MAX;

    private static final MethodHandle SOCKET = Native.withErrno("socket",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle BIND = Native.withErrno("bind",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle SENDTO = Native.withErrno("sendto",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle RECV = Native.withErrno("recv",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));

    private final Fd fd;

    private UnixDatagram(Fd fd) {
        this.fd = fd;
    }

    /** A new unbound socket (close-on-exec). */
    public static UnixDatagram open() throws LinuxException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment err = Native.errnoSegment(arena);
            int s = (int) SOCKET.invokeExact(err, AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
            if (s < 0) {
                throw new LinuxException("socket", Native.errno(err), "AF_UNIX/SOCK_DGRAM");
            }
            return new UnixDatagram(Fd.adopt(s));
        } catch (LinuxException | IllegalArgumentException e) {
            throw e;
        } catch (Throwable t) {
            throw Native.linkageBug(t);
        }
    }

    /** Binds to {@code address} (a path, which must not exist yet, or {@code @name}). */
    public void bind(String address) throws LinuxException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment err = Native.errnoSegment(arena);
            Address a = encode(arena, address);
            int rc = (int) BIND.invokeExact(err, fd.value(), a.segment(), a.length());
            if (rc < 0) {
                throw new LinuxException("bind", Native.errno(err), address);
            }
        } catch (LinuxException | IllegalArgumentException e) {
            throw e;
        } catch (Throwable t) {
            throw Native.linkageBug(t);
        }
    }

    /**
     * Sends one datagram to {@code address} without blocking (a receiver whose queue is full makes it
     * fail with EAGAIN rather than stall the sender).
     */
    public void send(String address, byte[] data) throws LinuxException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment err = Native.errnoSegment(arena);
            Address a = encode(arena, address);
            MemorySegment buf = arena.allocate(Math.max(1, data.length));
            MemorySegment.copy(data, 0, buf, java.lang.foreign.ValueLayout.JAVA_BYTE, 0, data.length);
            long n = (long) SENDTO.invokeExact(err, fd.value(), buf, (long) data.length, MSG_NOSIGNAL | MSG_DONTWAIT,
                    a.segment(), a.length());
            if (n < 0) {
                throw new LinuxException("sendto", Native.errno(err), address);
            }
        } catch (LinuxException | IllegalArgumentException e) {
            throw e;
        } catch (Throwable t) {
            throw Native.linkageBug(t);
        }
    }

    /** The next datagram (up to {@code max} bytes), waiting up to {@code timeoutMillis}; empty on timeout. */
    public Optional<byte[]> receive(int max, int timeoutMillis) throws LinuxException {
        if (Poll.one(fd.value(), Poll.POLLIN, timeoutMillis) == 0) {
            return Optional.empty();
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment err = Native.errnoSegment(arena);
            MemorySegment buf = arena.allocate(max);
            long n = (long) RECV.invokeExact(err, fd.value(), buf, (long) max, MSG_DONTWAIT);
            if (n < 0) {
                int e = Native.errno(err);
                if (e == Errno.EAGAIN) {
                    return Optional.empty();
                }
                throw new LinuxException("recv", e, "AF_UNIX socket " + fd.value());
            }
            return Optional.of(Arrays.copyOf(buf.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE), (int) n));
        } catch (LinuxException | IllegalArgumentException e) {
            throw e;
        } catch (Throwable t) {
            throw Native.linkageBug(t);
        }
    }

    public int fd() {
        return fd.value();
    }

    @Override
    public void close() {
        fd.close();
    }

    private record Address(MemorySegment segment, int length) {}

    /**
     * {@code struct sockaddr_un} for {@code address}: a path is NUL-terminated and its length counts
     * the terminator; an abstract name ({@code @name}) starts with NUL, and its length ends at its last
     * byte (the kernel takes every byte up to addrlen as the name).
     */
    private static Address encode(Arena arena, String address) {
        byte[] name = address.getBytes(StandardCharsets.UTF_8);
        boolean abstractName = address.startsWith("@");
        if (name.length == 0 || name.length + (abstractName ? 0 : 1) > PATH_MAX || (abstractName && name.length < 2)) {
            throw new IllegalArgumentException("not a unix socket address: '" + address + "'");
        }
        MemorySegment sa = arena.allocate(SOCKADDR_UN_SIZE);
        sa.set(JAVA_SHORT, 0, (short) AF_UNIX);
        MemorySegment.copy(name, 0, sa, java.lang.foreign.ValueLayout.JAVA_BYTE, 2, name.length);
        if (abstractName) {
            sa.set(java.lang.foreign.ValueLayout.JAVA_BYTE, 2, (byte) 0);
            return new Address(sa, 2 + name.length);
        }
        return new Address(sa, 2 + name.length + 1);
    }
}
