package dev.imans.daemon.enforce;

import dev.imans.measure.EventData;
import dev.imans.measure.Template;
import java.util.OptionalLong;

/**
 * Where the decider records measurements: one list per scope (the host, each registered namespace).
 * A scope measures a file version into a PCR once, like the kernel's per-inode {@code IMA_MEASURED}
 * flag and {@code measured_pcrs} bits: a file with a new {@link FileStamp}, or one the modification
 * watcher saw written ({@link #forget}), is measured again.
 *
 * <p>Thread-safe; called from the reader thread and the decision workers. {@link #append} returns once
 * the entry is in the list and written to the list's file: the open is answered after that, so the entry
 * of an answered open survives the daemon being killed, and a reader of the list sees it.
 */
public interface Measurements {
    /** The template of a {@code measure} rule: its {@code template=}, or the daemon's default for null. */
    Template template(dev.imans.policy.Template fromRule);

    /** Whether {@code scope} (empty: the host) has measured this version of the file into {@code pcr}. */
    boolean measured(OptionalLong scope, FileKey key, FileStamp stamp, int pcr);

    /**
     * Claims the measurement of this version into {@code pcr} for {@code scope}: true for the first caller,
     * which must then {@link #append} it; false when it is measured already (or the scope has no list).
     */
    boolean claim(OptionalLong scope, FileKey key, FileStamp stamp, int pcr);

    /**
     * Adds the entry made of {@code event} to {@code scope}'s list and its file (the kernel's
     * {@code ima_store_measurement}); one {@code write(2)} to a file already open, no logging. With a TPM
     * anchor, the entry is then extended into the anchor PCR.
     *
     * @return 0, or the kernel's {@code tpmresult} when the anchor PCR could not be extended (the TPM's
     *     response code, or a negative errno): the caller audits {@code TPM_error(rc)}
     */
    int append(OptionalLong scope, int pcr, Template template, EventData event);

    /**
     * Adds a violation to {@code scope}'s list as ima_add_violation (ima_api.c) does: the default template
     * (not a rule's), PCR 10 (CONFIG_IMA_MEASURE_PCR_IDX, not a rule's {@code pcr=}), zero digests; counted
     * in {@code violations}.
     *
     * @return as {@link #append}: 0, or the TPM's error when the anchor PCR could not be extended
     */
    int appendViolation(OptionalLong scope, EventData event);

    /** Forgets what was measured of the file: it was written (its stamp need not have moved). */
    void forget(FileKey key);

    /** Measures nothing (a daemon without lists). */
    Measurements NONE = new Measurements() {
        @Override
        public Template template(dev.imans.policy.Template fromRule) {
            return Template.IMA_NG;
        }

        @Override
        public boolean measured(OptionalLong scope, FileKey key, FileStamp stamp, int pcr) {
            return true;
        }

        @Override
        public boolean claim(OptionalLong scope, FileKey key, FileStamp stamp, int pcr) {
            return false;
        }

        @Override
        public int append(OptionalLong scope, int pcr, Template template, EventData event) {
            return 0;
        }

        @Override
        public int appendViolation(OptionalLong scope, EventData event) {
            return 0;
        }

        @Override
        public void forget(FileKey key) {
        }
    };
}
