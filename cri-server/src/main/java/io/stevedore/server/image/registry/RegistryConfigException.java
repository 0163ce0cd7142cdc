package io.stevedore.server.image.registry;

/** A certs.d {@code hosts.toml} that cannot be used; the message names the file and the key. */
public final class RegistryConfigException extends Exception {
    public RegistryConfigException(String message) {
        super(message);
    }

    public RegistryConfigException(String message, Throwable cause) {
        super(message, cause);
    }
}
