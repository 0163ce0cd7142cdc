package io.stevedore.server;

/** The configuration (file or command line) is unusable; the message names the file and key. */
public final class ConfigException extends Exception {
    public ConfigException(String message) {
        super(message);
    }

    public ConfigException(String message, Throwable cause) {
        super(message, cause);
    }
}
