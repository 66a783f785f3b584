package dev.imans.daemon.control;

import dev.imans.ns.PolicyTarget;

/**
 * Where the measurement files get their content: the host's list at the top of the control
 * filesystem, a namespace's list in its directory. Each call returns the content as of now; a
 * reader sees one snapshot per open.
 */
public interface MeasurementSource {
    /** {@code ascii_runtime_measurements}. */
    byte[] ascii(PolicyTarget scope);

    /** {@code binary_runtime_measurements}. */
    byte[] binary(PolicyTarget scope);

    /** The number of entries, for {@code runtime_measurements_count}. */
    long count(PolicyTarget scope);

    /** The violation counter, for {@code violations}. */
    long violations(PolicyTarget scope);

    /** The TPM anchor log ({@code .imans/tpm-anchor.log}) as it is now; empty without a TPM anchor. */
    default byte[] anchorLog() {
        return new byte[0];
    }

    /** No measurement is taken: every list is empty and every counter 0. */
    MeasurementSource NONE = new MeasurementSource() {
        @Override
        public byte[] ascii(PolicyTarget scope) {
            return new byte[0];
        }

        @Override
        public byte[] binary(PolicyTarget scope) {
            return new byte[0];
        }

        @Override
        public long count(PolicyTarget scope) {
            return 0;
        }

        @Override
        public long violations(PolicyTarget scope) {
            return 0;
        }
    };
}
