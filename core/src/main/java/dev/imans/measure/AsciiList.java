package dev.imans.measure;

import dev.imans.crypto.HashAlgo;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;

/**
 * The ascii measurement list ({@code ascii_runtime_measurements[_<bank>]},
 * ima_ascii_measurements_show in security/integrity/ima/ima_fs.c): one line per entry,
 * {@code "%2d "} PCR, the template digest in hex, the template name, then for each field a space
 * and its ascii form (nothing for an empty field, so an empty last field leaves a trailing space).
 * Lines are bytes: names are written as the kernel holds them, whatever their encoding.
 */
public final class AsciiList {
    private static final HexFormat HEX = HexFormat.of();

    private AsciiList() {}

    /** One line, newline included, with the template digest {@code digest}. */
    public static byte[] line(MeasurementEntry e, byte[] digest) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(128);
        appendLine(out, e, digest);
        return out.toByteArray();
    }

    /** The whole list with template digests of {@code bank}. */
    public static byte[] render(List<MeasurementEntry> entries, HashAlgo bank) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (MeasurementEntry e : entries) {
            appendLine(out, e, e.digest(bank));
        }
        return out.toByteArray();
    }

    /** The records as read, with the digests they hold. */
    public static byte[] renderRecords(List<ListRecord> records) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (ListRecord r : records) {
            appendLine(out, r.entry(), r.storedDigest());
        }
        return out.toByteArray();
    }

    private static void appendLine(ByteArrayOutputStream out, MeasurementEntry e, byte[] digest) {
        ascii(out, String.format("%2d ", e.pcr()));
        ascii(out, HEX.formatHex(digest));
        out.write(' ');
        out.writeBytes(e.template().name().getBytes(StandardCharsets.UTF_8));
        for (int i = 0; i < e.fieldCount(); i++) {
            out.write(' ');
            if (e.fieldLength(i) > 0) {
                e.template().fields().get(i).appendAscii(e.fieldUnsafe(i), out);
            }
        }
        out.write('\n');
    }

    /**
     * Reads an ascii list back into records. The ascii form loses what the kernel does not print
     * (bytes after a NUL in a string field, the width of a uint field), so the fields are rebuilt
     * as the kernel would have made them: strings get their NUL back, uids and gids are 4 bytes,
     * modes 2.
     *
     * @throws ListFormatException naming the line's offset and the reason
     */
    public static List<ListRecord> read(byte[] text, HashAlgo bank) throws ListFormatException {
        List<ListRecord> out = new ArrayList<>();
        int pos = 0;
        while (pos < text.length) {
            int nl = pos;
            while (nl < text.length && text[nl] != '\n') {
                nl++;
            }
            if (nl == text.length) {
                throw new ListFormatException(pos, "last line has no newline");
            }
            out.add(parseLine(Arrays.copyOfRange(text, pos, nl), pos, bank));
            pos = nl + 1;
        }
        return out;
    }

    private static ListRecord parseLine(byte[] line, long offset, HashAlgo bank) throws ListFormatException {
        List<byte[]> tokens = split(line);
        if (tokens.size() < 3) {
            throw new ListFormatException(offset, "line has " + tokens.size() + " words, needs PCR, digest and template");
        }
        int pcr;
        try {
            pcr = Integer.parseInt(new String(tokens.get(0), StandardCharsets.US_ASCII).strip());
        } catch (NumberFormatException e) {
            throw new ListFormatException(offset, "PCR index is not a number");
        }
        if (line.length < 3 || line[2] != ' ' || pcr < 0 || pcr >= PcrBank.PCR_COUNT) {
            throw new ListFormatException(offset, "PCR index must be \"%2d \" in 0-" + (PcrBank.PCR_COUNT - 1));
        }
        byte[] digest = hex(tokens.get(1), offset, "template digest");
        if (digest.length != bank.digestSize()) {
            throw new ListFormatException(offset, "template digest has " + digest.length + " bytes, "
                    + bank + " has " + bank.digestSize());
        }
        String name = new String(tokens.get(2), StandardCharsets.UTF_8);
        Template t = Template.forListName(name).orElseThrow(() ->
                new ListFormatException(offset, "unknown template '" + BinaryList.printable(name) + "'"));
        if (tokens.size() != 3 + t.fields().size()) {
            throw new ListFormatException(offset, "template " + name + " has " + t.fields().size()
                    + " fields, the line has " + (tokens.size() - 3));
        }
        List<byte[]> fields = new ArrayList<>();
        for (int i = 0; i < t.fields().size(); i++) {
            fields.add(field(t.fields().get(i), tokens.get(3 + i), offset));
        }
        try {
            return new ListRecord(offset, bank, digest,
                    MeasurementEntry.of(pcr, t, fields, ListRecord.isZero(digest)));
        } catch (IllegalArgumentException e) {
            throw new ListFormatException(offset, e.getMessage());
        }
    }

    private static byte[] field(Field f, byte[] text, long offset) throws ListFormatException {
        if (text.length == 0) {
            return new byte[0];
        }
        return switch (f.format()) {
            case DIGEST, HEX -> hex(text, offset, "field " + f.id());
            case DIGEST_WITH_ALGO, DIGEST_WITH_TYPE_AND_ALGO -> {
                int colon = text.length - 1;
                while (colon >= 0 && text[colon] != ':') {
                    colon--;
                }
                if (colon < 0) {
                    throw new ListFormatException(offset, "field " + f.id() + " has no \"<algo>:\" prefix");
                }
                byte[] digest = hex(Arrays.copyOfRange(text, colon + 1, text.length), offset, "field " + f.id());
                byte[] out = new byte[colon + 2 + digest.length];
                System.arraycopy(text, 0, out, 0, colon + 1);
                System.arraycopy(digest, 0, out, colon + 2, digest.length);
                yield out;
            }
            case STRING -> Arrays.copyOf(text, text.length + 1);
            case UINT -> {
                long v;
                try {
                    v = Long.parseUnsignedLong(new String(text, StandardCharsets.US_ASCII));
                } catch (NumberFormatException e) {
                    throw new ListFormatException(offset, "field " + f.id() + " is not a number");
                }
                int width = f.uintWidth();
                if (width < 8 && Long.compareUnsigned(v, (1L << (8 * width)) - 1) > 0) {
                    throw new ListFormatException(offset, "field " + f.id() + " value " + Long.toUnsignedString(v)
                            + " does not fit " + width + " bytes");
                }
                ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v);
                yield Arrays.copyOf(b.array(), width);
            }
        };
    }

    private static byte[] hex(byte[] text, long offset, String what) throws ListFormatException {
        try {
            return HEX.parseHex(new String(text, StandardCharsets.US_ASCII));
        } catch (IllegalArgumentException e) {
            throw new ListFormatException(offset, what + " is not hex");
        }
    }

    private static List<byte[]> split(byte[] line) {
        // "%2d " puts a leading space before one-digit PCRs: that space is not a separator.
        int start = line.length > 0 && line[0] == ' ' ? 1 : 0;
        List<byte[]> out = new ArrayList<>();
        int from = start;
        for (int i = start; i <= line.length; i++) {
            if (i == line.length || line[i] == ' ') {
                out.add(Arrays.copyOfRange(line, from, i));
                from = i + 1;
            }
        }
        return out;
    }

    private static void ascii(ByteArrayOutputStream out, String s) {
        out.writeBytes(s.getBytes(StandardCharsets.US_ASCII));
    }
}
