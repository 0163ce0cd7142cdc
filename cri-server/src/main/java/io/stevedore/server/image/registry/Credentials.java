package io.stevedore.server.image.registry;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Optional;

/**
 * Registry credentials, the fields of CRI {@code AuthConfig}. All may be empty (anonymous).
 * {@link #toString()} redacts every secret, so a record that ends up in a log leaks nothing.
 *
 * @param username with {@code password}: basic auth, or the basic credentials of a token request
 * @param auth base64 of {@code user:password}, used when {@code username} is empty
 * @param identityToken an OAuth2 refresh token, exchanged at the token realm (POST)
 * @param registryToken a bearer token sent as is
 */
public record Credentials(String username, String password, String auth, String identityToken, String registryToken) {
    private static final Credentials ANONYMOUS = new Credentials("", "", "", "", "");

    public Credentials {
        username = username == null ? "" : username;
        password = password == null ? "" : password;
        auth = auth == null ? "" : auth;
        identityToken = identityToken == null ? "" : identityToken;
        registryToken = registryToken == null ? "" : registryToken;
    }

    public static Credentials anonymous() {
        return ANONYMOUS;
    }

    public static Credentials basic(String username, String password) {
        return new Credentials(username, password, "", "", "");
    }

    public boolean isAnonymous() {
        return equals(ANONYMOUS);
    }

    /**
     * The {@code user:password} pair from {@code username}/{@code password}, else from {@code auth}.
     *
     * @throws IllegalArgumentException when {@code auth} is not base64 of {@code user:password}
     */
    public Optional<String[]> userPassword() {
        if (!username.isEmpty()) {
            return Optional.of(new String[] {username, password});
        }
        if (auth.isEmpty()) {
            return Optional.empty();
        }
        String decoded;
        try {
            decoded = new String(Base64.getDecoder().decode(auth.trim()), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("auth is not valid base64");
        }
        int colon = decoded.indexOf(':');
        if (colon < 0) {
            throw new IllegalArgumentException("auth is not base64 of user:password");
        }
        return Optional.of(new String[] {decoded.substring(0, colon), decoded.substring(colon + 1)});
    }

    @Override
    public String toString() {
        return "Credentials[username=" + username
                + ", password=" + redact(password)
                + ", auth=" + redact(auth)
                + ", identityToken=" + redact(identityToken)
                + ", registryToken=" + redact(registryToken) + "]";
    }

    private static String redact(String s) {
        return s.isEmpty() ? "" : "<redacted>";
    }
}
