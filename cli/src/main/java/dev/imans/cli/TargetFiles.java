package dev.imans.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiConsumer;
import java.util.stream.Stream;

/**
 * Expands command-line paths into the regular files to label or check. A named path is followed
 * if it is a link, as open(2) would; with {@code -r} a directory is walked without following links,
 * and only regular files in it are taken (IMA appraises regular files only).
 */
final class TargetFiles {
    private TargetFiles() {}

    /** The files, in order; problems (missing path, directory without -r) go to {@code failure}. */
    static List<Path> expand(List<Path> paths, boolean recursive, BiConsumer<Path, String> failure) {
        List<Path> out = new ArrayList<>();
        for (Path p : paths) {
            if (Files.isRegularFile(p)) {
                out.add(p);
            } else if (Files.isDirectory(p)) {
                if (!recursive) {
                    failure.accept(p, "is a directory (use -r to walk it)");
                    continue;
                }
                try (Stream<Path> s = Files.walk(p)) {
                    s.filter(f -> Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS)).sorted().forEach(out::add);
                } catch (IOException | java.io.UncheckedIOException e) {
                    failure.accept(p, "cannot walk: " + e.getMessage());
                }
            } else if (Files.exists(p, LinkOption.NOFOLLOW_LINKS) && !Files.exists(p)) {
                failure.accept(p, "dangling symbolic link");
            } else if (Files.exists(p)) {
                failure.accept(p, "not a regular file");
            } else {
                failure.accept(p, "no such file");
            }
        }
        return out;
    }
}
