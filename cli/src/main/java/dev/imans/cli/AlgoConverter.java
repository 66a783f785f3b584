package dev.imans.cli;

import dev.imans.crypto.HashAlgo;
import java.util.Arrays;
import java.util.stream.Collectors;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** {@code --algo NAME}: the kernel's algorithm names (as evmctl's {@code -a}), restricted to those this JDK hashes. */
final class AlgoConverter implements ITypeConverter<HashAlgo> {
    @Override
    public HashAlgo convert(String value) {
        HashAlgo a = HashAlgo.byName(value).orElseThrow(() -> new TypeConversionException(
                "unknown hash algorithm '" + value + "' (supported: " + supported() + ")"));
        if (!a.isSupported()) {
            throw new TypeConversionException("hash algorithm " + a + " is known to the kernel but this JDK cannot"
                    + " compute it (supported: " + supported() + ")");
        }
        return a;
    }

    static String supported() {
        return Arrays.stream(HashAlgo.values()).filter(HashAlgo::isSupported).map(HashAlgo::kernelName)
                .collect(Collectors.joining(", "));
    }
}
