package dev.imans.cli.oci;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.jar.Attributes;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.stream.Collectors;

/**
 * The real {@code bin/imans} launcher, run on the classes under test: tests run before the shaded
 * jar is packaged, so {@code IMANS_JAR} points the launcher at a manifest-only jar whose
 * {@code Class-Path} is this JVM's class path.
 */
final class Launcher {
    /** {@code bin/imans} of this checkout (tests run in the {@code cli} module's directory). */
    static final Path IMANS = Path.of("").toAbsolutePath().getParent().resolve("bin/imans");

    private Launcher() {}

    /** Writes the manifest-only jar into {@code dir} and returns its path. */
    static Path jar(Path dir) throws IOException {
        Manifest m = new Manifest();
        Attributes a = m.getMainAttributes();
        a.put(Attributes.Name.MANIFEST_VERSION, "1.0");
        a.put(Attributes.Name.MAIN_CLASS, "dev.imans.cli.Main");
        a.put(new Attributes.Name("Enable-Native-Access"), "ALL-UNNAMED");
        a.put(Attributes.Name.CLASS_PATH, Arrays.stream(System.getProperty("java.class.path").split(":"))
                .filter(s -> !s.isEmpty())
                .map(s -> Path.of(s).toAbsolutePath().toUri().toString())
                .collect(Collectors.joining(" ")));
        Path jar = dir.resolve("imans-test.jar");
        try (OutputStream out = Files.newOutputStream(jar); JarOutputStream j = new JarOutputStream(out, m)) {
            j.flush();
        }
        return jar;
    }
}
