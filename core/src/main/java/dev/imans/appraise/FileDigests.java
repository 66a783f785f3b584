package dev.imans.appraise;

import dev.imans.crypto.HashAlgo;
import java.io.IOException;

/**
 * The file's digest for an algorithm, computed only when the appraisal asks for it. The appraisal
 * asks at most once per algorithm; a caller that hashes a real file should read it through the
 * descriptor it is appraising.
 */
@FunctionalInterface
public interface FileDigests {
    /**
     * @throws IOException when the file cannot be read
     * @throws HashAlgo.UnsupportedHashException when this JDK lacks {@code algo}
     */
    byte[] digest(HashAlgo algo) throws IOException;
}
