package dev.imans.daemon.state;

import dev.imans.ns.NamespaceId;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The daemon's state file, {@code <state dir>/state}: a small text file rewritten whole on every
 * change (temporary file, fsync, atomic rename, fsync of the directory), so a crash leaves either
 * the old or the new state, never a torn one.
 *
 * <pre>
 * # comment lines and blank lines are ignored
 * imans-state 2
 * boot 0d7f1e4c-5a0b-4f43-9a3e-2f9d8c1b7a66
 * host
 * 	appraise func=BPRM_CHECK
 * namespace 4026532208 id 41
 * 	appraise fsmagic=0x1021994 fowner=71452
 * 	appraise func=MODULE_CHECK
 * key MIIDBTCCAe2gAwIBAgIU...
 * </pre>
 *
 * A section line ({@code host} or {@code namespace <nsid> id <mount namespace id>}) is followed by its
 * committed rules, one per line, each indented by one tab, in commit order, then by the certificates of
 * its {@code keys} file ({@code key} and the DER in base64), in the order they were added. {@code boot} names the boot
 * the file was written in. Files of the first format ({@code imans-state 1}: no {@code boot} line, no
 * {@code id}) are still read; their namespaces have no identity ({@link JournalState}).
 */
public final class StateJournal {
    static final String MAGIC = "imans-state 2";
    static final String MAGIC_V1 = "imans-state 1";
    private static final String FILE = "state";

    private final Path dir;

    public StateJournal(Path dir) {
        this.dir = dir;
    }

    public Path file() {
        return dir.resolve(FILE);
    }

    /** The saved state, or empty when none was saved yet. */
    public Optional<JournalState> load() throws IOException {
        Path f = file();
        if (!Files.exists(f)) {
            return Optional.empty();
        }
        return Optional.of(parse(Files.readString(f, StandardCharsets.UTF_8), f.toString()));
    }

    /** Replaces the saved state with {@code state}, atomically and durably. */
    public void save(JournalState state) throws IOException {
        Files.createDirectories(dir);
        Path tmp = dir.resolve(FILE + ".tmp");
        byte[] bytes = format(state).getBytes(StandardCharsets.UTF_8);
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ch.write(java.nio.ByteBuffer.wrap(bytes));
            ch.force(true);
        }
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
        try {
            Files.move(tmp, file(), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            throw new IOException("cannot replace " + file() + " atomically: " + e.getMessage(), e);
        }
        // The rename is durable only once the directory entry is.
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        }
    }

    static String format(JournalState state) {
        StringBuilder b = new StringBuilder();
        b.append("# imans daemon state: registered namespaces and committed policies.\n");
        b.append("# Rewritten whole on every change; see docs/control-fs.md.\n");
        b.append(MAGIC).append('\n');
        state.bootId().ifPresent(boot -> b.append("boot ").append(boot).append('\n'));
        b.append("host\n");
        state.hostPolicy().forEach(r -> b.append('\t').append(r).append('\n'));
        state.namespaces().forEach((id, rules) -> {
            b.append("namespace ").append(id);
            Long nsId = state.mountNamespaceIds().get(id);
            if (nsId != null) {
                b.append(" id ").append(Long.toUnsignedString(nsId));
            }
            b.append('\n');
            rules.forEach(r -> b.append('\t').append(r).append('\n'));
            state.keys().getOrDefault(id, List.of()).forEach(k -> b.append("key ").append(k).append('\n'));
        });
        return b.toString();
    }

    static JournalState parse(String text, String source) throws IOException {
        List<String> host = new ArrayList<>();
        Map<NamespaceId, List<String>> namespaces = new LinkedHashMap<>();
        Map<NamespaceId, Long> ids = new LinkedHashMap<>();
        Map<NamespaceId, List<String>> keys = new LinkedHashMap<>();
        NamespaceId section = null;
        Optional<String> boot = Optional.empty();
        List<String> current = null;
        boolean magicSeen = false;
        boolean v1 = false;
        boolean hostSeen = false;
        String[] lines = text.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i];
            int n = i + 1;
            if (line.startsWith("\t")) {
                if (current == null || section != null && keys.containsKey(section)) {
                    throw bad(source, n, "rule line outside a section");
                }
                String rule = line.substring(1);
                if (rule.isBlank() || rule.contains("\n")) {
                    throw bad(source, n, "empty rule line");
                }
                current.add(rule);
                continue;
            }
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            if (!magicSeen) {
                if (!line.equals(MAGIC) && !line.equals(MAGIC_V1)) {
                    throw bad(source, n, "not an imans state file (expected \"" + MAGIC + "\")");
                }
                magicSeen = true;
                v1 = line.equals(MAGIC_V1);
            } else if (line.startsWith("boot ") && !v1) {
                if (boot.isPresent() || current != null) {
                    throw bad(source, n, "boot line out of place");
                }
                String b = line.substring(5);
                if (!b.matches("[0-9a-f-]{36}")) {
                    throw bad(source, n, "invalid boot id \"" + b + "\"");
                }
                boot = Optional.of(b);
            } else if (line.equals("host")) {
                if (hostSeen) {
                    throw bad(source, n, "second host section");
                }
                hostSeen = true;
                current = host;
                section = null;
            } else if (line.startsWith("namespace ")) {
                NamespaceId id;
                String[] words = line.substring("namespace ".length()).split(" ", -1);
                try {
                    id = NamespaceId.parse(words[0]);
                    if (words.length == 3 && words[1].equals("id") && !v1) {
                        ids.put(id, Long.parseUnsignedLong(words[2]));
                    } else if (words.length != 1) {
                        throw new IllegalArgumentException("invalid namespace line \"" + line + "\"");
                    }
                } catch (IllegalArgumentException e) {
                    throw bad(source, n, e.getMessage());
                }
                if (namespaces.containsKey(id)) {
                    throw bad(source, n, "namespace " + id + " listed twice");
                }
                current = new ArrayList<>();
                namespaces.put(id, current);
                section = id;
            } else if (line.startsWith("key ") && section != null) {
                String k = line.substring(4);
                try {
                    java.util.Base64.getDecoder().decode(k);
                } catch (IllegalArgumentException e) {
                    throw bad(source, n, "key line is not base64");
                }
                keys.computeIfAbsent(section, x -> new ArrayList<>()).add(k);
            } else {
                throw bad(source, n, "unknown line \"" + line + "\"");
            }
        }
        if (!magicSeen) {
            throw bad(source, 1, "empty state file (expected \"" + MAGIC + "\")");
        }
        return new JournalState(host, namespaces, boot, ids, keys);
    }

    private static IOException bad(String source, int line, String why) {
        return new IOException(source + ":" + line + ": " + why);
    }
}
