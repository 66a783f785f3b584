package dev.imans.cli;

import dev.imans.crypto.HashAlgo;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** A PCR bank or list digest algorithm by its kernel name ({@code sha1}, {@code sha256}, …). */
final class BankConverter implements ITypeConverter<HashAlgo> {
    @Override
    public HashAlgo convert(String value) {
        HashAlgo a = HashAlgo.byName(value.toLowerCase(java.util.Locale.ROOT))
                .orElseThrow(() -> new TypeConversionException("unknown hash algorithm '" + value + "'"));
        if (!a.isSupported()) {
            throw new TypeConversionException("hash algorithm '" + value + "' is not supported by this JDK");
        }
        return a;
    }
}
