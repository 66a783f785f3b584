package dev.imans.ns;

/**
 * A mount namespace as users name it: the nsfs inode number that {@code readlink /proc/PID/ns/mnt}
 * prints inside {@code mnt:[...]}.
 *
 * <p>The number is only unique while the namespace exists, which is why the daemon pins every
 * registered namespace (see {@link NamespacePin}).
 */
public record NamespaceId(long inode) implements Comparable<NamespaceId> {
    /** nsfs inode numbers are {@code unsigned int} in the kernel ({@code struct ns_common.inum}). */
    private static final long MAX = 0xffff_ffffL;

    public NamespaceId {
        if (inode <= 0 || inode > MAX) {
            throw new IllegalArgumentException("not a namespace inode number: " + inode);
        }
    }

    /**
     * Parses what a user writes to the {@code namespaces} file: decimal digits, optionally followed
     * by one newline ({@code echo $nsid > namespaces}). Anything else is rejected, so a typo never
     * registers some other namespace.
     *
     * @throws IllegalArgumentException with a message fit for a log line
     */
    public static NamespaceId parse(String text) {
        String digits = text.endsWith("\n") ? text.substring(0, text.length() - 1) : text;
        if (digits.isEmpty() || digits.length() > 10 || !digits.chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw new IllegalArgumentException("invalid namespace id: \"" + printable(text) + "\"");
        }
        long value = Long.parseLong(digits);
        if (value == 0 || value > MAX) {
            throw new IllegalArgumentException("invalid namespace id: " + digits);
        }
        return new NamespaceId(value);
    }

    /**
     * Parses the target of an nsfs link, {@code mnt:[4026531840]}.
     *
     * @throws IllegalArgumentException if it is not a mount namespace link
     */
    public static NamespaceId fromLink(String link) {
        if (!link.startsWith("mnt:[") || !link.endsWith("]")) {
            throw new IllegalArgumentException("not a mount namespace link: " + link);
        }
        return parse(link.substring(5, link.length() - 1));
    }

    private static String printable(String s) {
        StringBuilder b = new StringBuilder();
        s.codePoints().limit(40).forEach(c -> {
            if (c >= 0x20 && c < 0x7f) {
                b.appendCodePoint(c);
            } else {
                b.append(String.format("\\x%02x", c & 0xff));
            }
        });
        return b.toString();
    }

    @Override
    public int compareTo(NamespaceId o) {
        return Long.compare(inode, o.inode);
    }

    /** The decimal form, as directory names and users spell it. */
    @Override
    public String toString() {
        return Long.toString(inode);
    }
}
