package dev.imans.cli.oci;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Chooses a container's policy from its annotations and the hook's options, in this order: the
 * annotation {@value #POLICY} (the rules themselves), the annotation {@value #POLICY_FILE} (an
 * absolute path, or a name in the policy directory), the default policy file. Setting both
 * annotations is refused rather than resolved by precedence: one of them is a mistake.
 *
 * @param policyDir where names given by {@value #POLICY_FILE} are looked up
 * @param defaultPolicy the policy of containers that name none, if any
 * @param absoluteFiles whether {@value #POLICY_FILE} may name any absolute path (else names only)
 */
public record PolicySelection(Path policyDir, Optional<Path> defaultPolicy, boolean absoluteFiles) {
    /** The annotation holding the policy text. */
    public static final String POLICY = "dev.imans.policy";
    /** The annotation naming a policy file. */
    public static final String POLICY_FILE = "dev.imans.policy-file";
    /** The default of {@code --policy-dir}. */
    public static final Path DEFAULT_POLICY_DIR = Path.of("/etc/imans/policies");
    /** Policies are a few rules; a bigger file is a wrong file, not a policy. */
    static final int MAX_BYTES = 1 << 20;

    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9._-]*");

    /** The container's policy, or empty when neither its annotations nor the options name one. */
    public Optional<ContainerPolicy> select(OciState state) throws HookException {
        Optional<String> text = state.annotation(POLICY);
        Optional<String> file = state.annotation(POLICY_FILE);
        if (text.isPresent() && file.isPresent()) {
            throw new HookException("both annotations " + POLICY + " and " + POLICY_FILE + " are set; set one");
        }
        if (text.isPresent()) {
            return Optional.of(new ContainerPolicy("annotation " + POLICY,
                    annotationRules(text.get()).getBytes(StandardCharsets.UTF_8)));
        }
        if (file.isPresent()) {
            return Optional.of(read(resolve(file.get())));
        }
        if (defaultPolicy.isPresent()) {
            return Optional.of(read(defaultPolicy.get()));
        }
        return Optional.empty();
    }

    /**
     * The annotation's rules one per line. podman keeps only the first line of a multi-line
     * {@code --annotation} value, so rules may also be separated by {@code ;} or by a literal
     * backslash-n, neither of which the policy language uses.
     */
    static String annotationRules(String value) {
        return value.replace("\\n", "\n").replace(';', '\n');
    }

    private Path resolve(String value) throws HookException {
        if (value.startsWith("/")) {
            if (!absoluteFiles) {
                throw new HookException("annotation " + POLICY_FILE + "=" + value
                        + ": absolute paths are not allowed here (--no-absolute-policy-files); name a file in "
                        + policyDir);
            }
            return Path.of(value);
        }
        if (!NAME.matcher(value).matches()) {
            throw new HookException("annotation " + POLICY_FILE + "=\"" + value + "\" is neither an absolute path"
                    + " nor a file name (letters, digits, '.', '_', '-'; not starting with '.' or '-')");
        }
        return policyDir.resolve(value);
    }

    private static ContainerPolicy read(Path file) throws HookException {
        if (!Files.isRegularFile(file)) {
            throw new HookException("policy file " + file + (Files.exists(file, LinkOption.NOFOLLOW_LINKS)
                    ? " is not a regular file" : " does not exist"));
        }
        try (InputStream in = Files.newInputStream(file)) {
            byte[] bytes = in.readNBytes(MAX_BYTES + 1);
            if (bytes.length > MAX_BYTES) {
                throw new HookException("policy file " + file + " is larger than " + MAX_BYTES + " bytes");
            }
            return new ContainerPolicy(file.toString(), bytes);
        } catch (NoSuchFileException e) {
            throw new HookException("policy file " + file + " does not exist");
        } catch (IOException e) {
            throw new HookException("cannot read policy file " + file + ": " + e.getMessage());
        }
    }
}
