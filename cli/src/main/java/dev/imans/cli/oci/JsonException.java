package dev.imans.cli.oci;

/** Input that is not JSON, or not the JSON expected; the message names the place (line and column). */
public final class JsonException extends Exception {
    public JsonException(String message) {
        super(message);
    }
}
