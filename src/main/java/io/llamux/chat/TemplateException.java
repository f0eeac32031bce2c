package io.llamux.chat;

/** A chat template that cannot be parsed or that fails while rendering (e.g. raise_exception). */
public final class TemplateException extends RuntimeException {
    public TemplateException(String message) {
        super(message);
    }
}
