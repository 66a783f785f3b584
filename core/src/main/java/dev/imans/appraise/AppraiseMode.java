package dev.imans.appraise;

import java.util.Optional;

/**
 * The {@code ima_appraise=} boot modes (security/integrity/ima/ima_appraise.c
 * {@code ima_appraise_parse_cmdline}, flags in ima.h): access is denied only when appraisal failed
 * and the mode is {@link #ENFORCE}.
 */
public enum AppraiseMode {
    /** {@code IMA_APPRAISE_ENFORCE} 0x01: failures are audited and denied. */
    ENFORCE("enforce"),
    /** {@code IMA_APPRAISE_FIX} 0x02: a missing or bad hash is rewritten (never a signature); access allowed. */
    FIX("fix"),
    /** {@code IMA_APPRAISE_LOG} 0x04: failures are audited, access allowed. */
    LOG("log"),
    /** 0: nothing is appraised. */
    OFF("off");

    private final String text;

    AppraiseMode(String text) {
        this.text = text;
    }

    public String text() {
        return text;
    }

    /**
     * The kernel compares prefixes ({@code strncmp(str, "enforce", 7)}), so {@code enforce_ns} reads as
     * enforce; anything else is rejected (the kernel logs it and keeps its default).
     */
    public static Optional<AppraiseMode> parse(String value) {
        for (AppraiseMode m : values()) {
            if (value.startsWith(m.text)) {
                return Optional.of(m);
            }
        }
        return Optional.empty();
    }

    public boolean denies(AppraisalResult result) {
        return this == ENFORCE && !result.passed();
    }

    @Override
    public String toString() {
        return text;
    }
}
