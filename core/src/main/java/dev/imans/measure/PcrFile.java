package dev.imans.measure;

import dev.imans.crypto.HashAlgo;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * PCR values in the text form evmctl's {@code ima_measurement --pcrs [algo,]FILE} reads
 * (read_file_pcrs in ima-evm-utils src/evmctl.c): lines {@code PCR-NN: <hex>} for PCR 0 upwards;
 * the hex starts at column 8 and may have one space before each byte, as the TPM 1.2 sysfs file
 * prints it; other lines are skipped.
 */
public final class PcrFile {
    private PcrFile() {}

    /** All 24 registers of {@code bank}, one {@code PCR-NN: hex} line each. */
    public static String format(PcrBank bank) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < PcrBank.PCR_COUNT; i++) {
            b.append(String.format("PCR-%02d: %s%n", i, bank.hex(i)));
        }
        return b.toString();
    }

    /**
     * Reads PCR values of {@code algo}: only the registers the text has.
     *
     * @throws ListFormatException with the line's offset when a {@code PCR-NN:} line is malformed
     */
    public static Map<Integer, byte[]> parse(String text, HashAlgo algo) throws ListFormatException {
        Map<Integer, byte[]> out = new LinkedHashMap<>();
        long offset = 0;
        for (String line : text.split("\n", -1)) {
            long here = offset;
            offset += line.getBytes(StandardCharsets.UTF_8).length + 1;
            if (!line.startsWith("PCR-")) {
                continue;
            }
            int colon = line.indexOf(':');
            int index;
            try {
                index = Integer.parseInt(line.substring(4, colon < 0 ? line.length() : colon));
            } catch (NumberFormatException | StringIndexOutOfBoundsException e) {
                throw new ListFormatException(here, "PCR line has no index: " + BinaryList.printable(line));
            }
            if (index < 0 || index >= PcrBank.PCR_COUNT) {
                throw new ListFormatException(here, "PCR index " + index + " out of range 0-" + (PcrBank.PCR_COUNT - 1));
            }
            String hex = line.substring(colon + 1).replace(" ", "").strip();
            byte[] value;
            try {
                value = HexFormat.of().parseHex(hex);
            } catch (IllegalArgumentException e) {
                throw new ListFormatException(here, "PCR-" + index + " value is not hex");
            }
            if (value.length != algo.digestSize()) {
                throw new ListFormatException(here, "PCR-" + index + " has " + value.length + " bytes, "
                        + algo + " needs " + algo.digestSize());
            }
            out.put(index, value);
        }
        return out;
    }
}
