package dev.imans.policy;

import java.util.Optional;

/**
 * The kernel's built-in measurement templates, {@code builtin_templates} in
 * security/integrity/ima/ima_template.c: {@code template=} names one by name or by format
 * ({@code lookup_template_desc}), and the read-back prints the name.
 */
public enum Template {
    IMA("ima", "d|n"),
    IMA_NG("ima-ng", "d-ng|n-ng"),
    IMA_SIG("ima-sig", "d-ng|n-ng|sig"),
    IMA_NGV2("ima-ngv2", "d-ngv2|n-ng"),
    IMA_SIGV2("ima-sigv2", "d-ngv2|n-ng|sig"),
    IMA_BUF("ima-buf", "d-ng|n-ng|buf"),
    IMA_MODSIG("ima-modsig", "d-ng|n-ng|sig|d-modsig|modsig"),
    EVM_SIG("evm-sig", "d-ng|n-ng|evmsig|xattrnames|xattrlengths|xattrvalues|iuid|igid|imode");

    private final String templateName;
    private final String fmt;

    Template(String templateName, String fmt) {
        this.templateName = templateName;
        this.fmt = fmt;
    }

    public String templateName() {
        return templateName;
    }

    public String fmt() {
        return fmt;
    }

    /** By name or by format string, first match in table order, as lookup_template_desc() does. */
    public static Optional<Template> lookup(String nameOrFmt) {
        for (Template t : values()) {
            if (t.templateName.equals(nameOrFmt) || t.fmt.equals(nameOrFmt)) {
                return Optional.of(t);
            }
        }
        return Optional.empty();
    }

    @Override
    public String toString() {
        return templateName;
    }
}
