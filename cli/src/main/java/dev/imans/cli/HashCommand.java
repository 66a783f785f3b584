package dev.imans.cli;

import dev.imans.crypto.HashAlgo;
import dev.imans.linux.Xattr;
import dev.imans.xattr.ImaXattr;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code imans hash}: the {@code security.ima} hash value of files, like {@code evmctl ima_hash}. */
@Command(name = "hash", mixinStandardHelpOptions = true,
        description = {"Print the security.ima hash value of each file, as getfattr --absolute-names -e hex shows it.",
                "sha1 and weaker are written 0x01<digest>, stronger algorithms 0x04<algo><digest>, as the kernel and",
                "evmctl ima_hash write them. With --set the value is also written to the file."},
        exitCodeListHeading = "Exit codes:%n",
        exitCodeList = {"0:every file done", "1:some file failed (each is reported on stderr)", "2:usage error"})
final class HashCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = {"-a", "--algo"}, paramLabel = "ALGO", converter = AlgoConverter.class, defaultValue = "sha256",
            description = "hash algorithm, a kernel name (default: ${DEFAULT-VALUE})")
    HashAlgo algo;

    @Option(names = "--set", description = "write the value to security.ima")
    boolean set;

    @Mixin
    FileArgs files;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        FileRun run = new FileRun("hash", spec.commandLine().getErr());
        return run.run(files.paths, files.recursive, f -> {
            byte[] value = ImaXattr.hash(algo, run.digester().digest(algo, f)).encode();
            if (set) {
                Xattr.set(f, Xattr.SECURITY_IMA, value);
            }
            out.print(XattrText.block(f, Xattr.SECURITY_IMA, value));
            out.flush();
            return true;
        });
    }
}
