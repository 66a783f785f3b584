package dev.imans.tpm;

import java.io.IOException;

/**
 * A TPM that answered a command with an error: {@link #rc()} is its {@code TPM_RC}, the number the
 * kernel's IMA puts in an audit record's {@code TPM_error(rc)} cause.
 */
public final class TpmException extends IOException {
    private static final long serialVersionUID = 1L;
    private final int rc;

    public TpmException(String command, int rc) {
        super(command + " failed: TPM_RC 0x" + Integer.toHexString(rc));
        this.rc = rc;
    }

    public int rc() {
        return rc;
    }
}
