package dev.imans.measure;

/** A template name or format string the kernel would not accept. */
public final class TemplateException extends IllegalArgumentException {
    public TemplateException(String message) {
        super(message);
    }
}
