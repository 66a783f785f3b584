package dev.imans.cli;

import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** The file operands shared by the labelling commands ({@code hash}, {@code sign}, {@code verify}). */
final class FileArgs {
    @Option(names = {"-r", "--recursive"}, description = "walk directories (regular files only, links not followed)")
    boolean recursive;

    @Parameters(arity = "1..*", paramLabel = "PATH")
    List<Path> paths;
}
