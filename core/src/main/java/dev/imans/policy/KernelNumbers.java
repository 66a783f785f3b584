package dev.imans.policy;

/**
 * The kernel's string-to-number rules (lib/kstrtox.c), which decide what policy numbers are
 * accepted: an optional {@code +}, for base 16 an optional {@code 0x}/{@code 0X}, at least one
 * digit, one optional trailing newline, nothing else; overflow is -ERANGE.
 */
final class KernelNumbers {
    private KernelNumbers() {}

    enum Status { OK, INVALID, RANGE }

    /** A parse result; {@code value} is meaningful only when {@code status} is OK. */
    record Result(Status status, long value) {
        boolean ok() {
            return status == Status.OK;
        }
    }

    /** {@code kstrtoul()}/{@code kstrtoull()}: unsigned 64-bit, the value returned as a long bit pattern. */
    static Result kstrtoul(String s, int base) {
        int i = s.startsWith("+") ? 1 : 0;
        return parseUnsigned(s, i, base);
    }

    /** {@code kstrtoint()}: signed, must fit a 32-bit int. */
    static Result kstrtoint(String s) {
        long value;
        if (s.startsWith("-")) {
            Result r = parseUnsigned(s, 1, 10);
            if (!r.ok()) {
                return r;
            }
            long neg = -r.value();
            if (neg > 0) {
                return new Result(Status.RANGE, 0);
            }
            value = neg;
        } else {
            Result r = kstrtoul(s, 10);
            if (!r.ok()) {
                return r;
            }
            if (r.value() < 0) {
                return new Result(Status.RANGE, 0);
            }
            value = r.value();
        }
        if (value != (int) value) {
            return new Result(Status.RANGE, 0);
        }
        return new Result(Status.OK, value);
    }

    private static Result parseUnsigned(String s, int start, int base) {
        int i = start;
        if (base == 16 && s.length() >= i + 2 && s.charAt(i) == '0'
                && Character.toLowerCase(s.charAt(i + 1)) == 'x') {
            i += 2;
        }
        long acc = 0;
        boolean overflow = false;
        int digits = 0;
        while (i < s.length()) {
            int d = digit(s.charAt(i));
            if (d < 0 || d >= base) {
                break;
            }
            if (Long.compareUnsigned(acc, Long.divideUnsigned(-1L - d, base)) > 0) {
                overflow = true;
            }
            acc = acc * base + d;
            digits++;
            i++;
        }
        if (overflow) {
            return new Result(Status.RANGE, 0);
        }
        if (digits == 0) {
            return new Result(Status.INVALID, 0);
        }
        if (i < s.length() && s.charAt(i) == '\n') {
            i++;
        }
        if (i != s.length()) {
            return new Result(Status.INVALID, 0);
        }
        return new Result(Status.OK, acc);
    }

    private static int digit(char c) {
        if (c >= '0' && c <= '9') {
            return c - '0';
        }
        char lc = Character.toLowerCase(c);
        if (lc >= 'a' && lc <= 'f') {
            return lc - 'a' + 10;
        }
        return -1;
    }
}
