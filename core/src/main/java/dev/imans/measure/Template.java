package dev.imans.measure;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * A measurement template: its name, its format string and the fields that string names. The
 * built-ins are {@code builtin_templates[]} of security/integrity/ima/ima_template.c; a custom
 * format ({@code ima_template_fmt=}, {@code template=}) is named by its format string, as
 * ima_fs.c prints it.
 */
public record Template(String name, String fmt, List<Field> fields) {
    /** IMA_TEMPLATE_NUM_FIELDS_MAX (ima_template.c). */
    public static final int MAX_FIELDS = 15;
    /** IMA_TEMPLATE_FIELD_ID_MAX_LEN (ima_template.c). */
    public static final int MAX_FIELD_ID_LEN = 16;
    /** The template whose binary records and digests follow the old rules (IMA_TEMPLATE_IMA_NAME). */
    public static final String IMA_NAME = "ima";

    public static final Template IMA = builtin("ima", "d|n");
    public static final Template IMA_NG = builtin("ima-ng", "d-ng|n-ng");
    public static final Template IMA_SIG = builtin("ima-sig", "d-ng|n-ng|sig");
    public static final Template IMA_NGV2 = builtin("ima-ngv2", "d-ngv2|n-ng");
    public static final Template IMA_SIGV2 = builtin("ima-sigv2", "d-ngv2|n-ng|sig");
    public static final Template IMA_BUF = builtin("ima-buf", "d-ng|n-ng|buf");
    public static final Template IMA_MODSIG = builtin("ima-modsig", "d-ng|n-ng|sig|d-modsig|modsig");
    public static final Template EVM_SIG = builtin("evm-sig",
            "d-ng|n-ng|evmsig|xattrnames|xattrlengths|xattrvalues|iuid|igid|imode");

    /** The built-in templates, in the kernel's order. */
    public static final List<Template> BUILTINS =
            List.of(IMA, IMA_NG, IMA_SIG, IMA_NGV2, IMA_SIGV2, IMA_BUF, IMA_MODSIG, EVM_SIG);

    public Template {
        Objects.requireNonNull(name, "name");
        fields = List.copyOf(fields);
        if (!fmtOf(fields).equals(fmt)) {
            throw new TemplateException("template " + name + ": fields do not match format " + fmt);
        }
    }

    /** Whether the {@code ima} template's special binary layout and digest apply. */
    public boolean isIma() {
        return IMA_NAME.equals(name);
    }

    /**
     * The template a policy or boot option names, as {@code lookup_template_desc()} finds it: a
     * built-in by name or by format string, else a custom format (named by that string).
     */
    public static Template lookup(String nameOrFmt) {
        for (Template t : BUILTINS) {
            if (t.name.equals(nameOrFmt) || t.fmt.equals(nameOrFmt)) {
                return t;
            }
        }
        return custom(nameOrFmt);
    }

    /**
     * The template a measurement list record names: a built-in by name, else a valid format string
     * kept under that name (so records read back exactly as written).
     */
    public static Optional<Template> forListName(String name) {
        for (Template t : BUILTINS) {
            if (t.name.equals(name)) {
                return Optional.of(t);
            }
        }
        try {
            return Optional.of(custom(name));
        } catch (TemplateException e) {
            return Optional.empty();
        }
    }

    /** A custom template from a format string such as {@code d-ng|n-ng|sig}, checked as the kernel does. */
    public static Template custom(String fmt) {
        return new Template(fmt, fmt, parseFields(fmt));
    }

    /**
     * Parses and checks a format string (template_desc_init_fields in ima_template.c): at most
     * {@value #MAX_FIELDS} known field ids separated by '|'.
     */
    public static List<Field> parseFields(String fmt) {
        if (fmt == null || fmt.isEmpty()) {
            throw new TemplateException("empty template format");
        }
        String[] ids = fmt.split("\\|", -1);
        if (ids.length > MAX_FIELDS) {
            throw new TemplateException("template format '" + fmt + "' has " + ids.length
                    + " fields, the kernel allows at most " + MAX_FIELDS);
        }
        List<Field> out = new ArrayList<>(ids.length);
        for (String id : ids) {
            if (id.length() > MAX_FIELD_ID_LEN) {
                throw new TemplateException("template field id '" + id + "' is longer than "
                        + MAX_FIELD_ID_LEN + " characters");
            }
            out.add(Field.byId(id).orElseThrow(() -> new TemplateException(
                    "unknown template field '" + id + "' in '" + fmt + "'")));
        }
        return out;
    }

    private static Template builtin(String name, String fmt) {
        return new Template(name, fmt, parseFields(fmt));
    }

    private static String fmtOf(List<Field> fields) {
        return fields.stream().map(Field::id).collect(Collectors.joining("|"));
    }

    @Override
    public String toString() {
        return name;
    }
}
