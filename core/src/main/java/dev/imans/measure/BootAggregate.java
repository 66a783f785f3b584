package dev.imans.measure;

import dev.imans.crypto.HashAlgo;
import java.security.MessageDigest;
import java.util.Collection;
import java.util.Map;
import java.util.Optional;

/**
 * The {@code boot_aggregate} entry that opens every list (ima_init.c, ima_crypto.c). With a TPM it
 * is a hash over PCR 0-7 (SHA-1 bank) or PCR 0-9 (any other bank) of the firmware's PCRs; without
 * one, as here by default, it is all zeros of the list's hash size.
 */
public final class BootAggregate {
    /** The PCR the kernel puts it in (CONFIG_IMA_MEASURE_PCR_IDX). */
    public static final int PCR = 10;

    private BootAggregate() {}

    /**
     * The bank ima_calc_boot_aggregate() reads: the requested algorithm's bank if the TPM has it,
     * else SHA-256, else SHA-1.
     */
    public static Optional<HashAlgo> chooseBank(HashAlgo requested, Collection<HashAlgo> tpmBanks) {
        if (tpmBanks.contains(requested)) {
            return Optional.of(requested);
        }
        if (tpmBanks.contains(HashAlgo.SHA256)) {
            return Optional.of(HashAlgo.SHA256);
        }
        return tpmBanks.contains(HashAlgo.SHA1) ? Optional.of(HashAlgo.SHA1) : Optional.empty();
    }

    /**
     * H_bank(PCR0 ‖ … ‖ PCR7) for SHA-1, H_bank(PCR0 ‖ … ‖ PCR9) for other banks
     * (ima_calc_boot_aggregate_tfm: PCR 8-9 only outside SHA-1 to keep old values stable).
     */
    public static MeasuredDigest compute(PcrBank firmwarePcrs) {
        HashAlgo bank = firmwarePcrs.algo();
        MessageDigest md = bank.newDigest();
        int last = bank == HashAlgo.SHA1 ? 7 : 9;
        for (int i = 0; i <= last; i++) {
            md.update(firmwarePcrs.value(i));
        }
        return new MeasuredDigest(bank, md.digest());
    }

    /**
     * The facts of the boot_aggregate event, as ima_add_boot_aggregate() collects them.
     *
     * @param imaHash  the list's hash algorithm
     * @param tpmBanks the TPM's firmware PCR banks by algorithm; empty when there is no TPM
     */
    public static EventData event(HashAlgo imaHash, Map<HashAlgo, PcrBank> tpmBanks) {
        MeasuredDigest digest = MeasuredDigest.zero(imaHash);
        MeasuredDigest sha1 = MeasuredDigest.zero(HashAlgo.SHA1);
        if (!tpmBanks.isEmpty()) {
            Optional<HashAlgo> bank = chooseBank(imaHash, tpmBanks.keySet());
            if (bank.isPresent()) {
                digest = compute(tpmBanks.get(bank.get()));
            }
            // The d field asks for SHA-1 and keeps zeros if another bank had to be used.
            if (chooseBank(HashAlgo.SHA1, tpmBanks.keySet()).orElse(null) == HashAlgo.SHA1) {
                sha1 = compute(tpmBanks.get(HashAlgo.SHA1));
            }
        }
        return new EventData.Builder(EventData.BOOT_AGGREGATE_NAME.getBytes(java.nio.charset.StandardCharsets.US_ASCII),
                digest, false).sha1Digest(sha1).build();
    }

    /** The boot_aggregate entry of {@code template} in PCR 10. */
    public static MeasurementEntry entry(Template template, HashAlgo imaHash, Map<HashAlgo, PcrBank> tpmBanks) {
        return MeasurementEntry.create(PCR, template, event(imaHash, tpmBanks), imaHash);
    }
}
