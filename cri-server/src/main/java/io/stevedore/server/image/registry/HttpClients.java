package io.stevedore.server.image.registry;

import io.stevedore.server.image.registry.RegistryEndpoint.ClientCertificate;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;
import javax.net.ssl.X509TrustManager;

/**
 * One {@link HttpClient} per distinct TLS configuration (skip_verify, CA files, client certs,
 * dial timeout), so a host's {@code skip_verify} never weakens another host. Redirects are not
 * followed by the client: {@link RegistryTransport} follows them to drop credentials across hosts.
 */
final class HttpClients implements AutoCloseable {
    private static final Pattern PEM_KEY =
            Pattern.compile("-----BEGIN ([A-Z ]*)PRIVATE KEY-----([^-]+)-----END [A-Z ]*PRIVATE KEY-----");

    private record Key(boolean skipVerify, List<Path> caFiles, List<ClientCertificate> clientCerts, Duration connect) {}

    private final Duration connectTimeout;
    private final ConcurrentMap<Key, HttpClient> clients = new ConcurrentHashMap<>();

    HttpClients(Duration connectTimeout) {
        this.connectTimeout = connectTimeout;
    }

    HttpClient forEndpoint(RegistryEndpoint ep) throws GeneralSecurityException, IOException {
        var key = new Key(
                ep.skipVerify(),
                ep.caFiles(),
                ep.clientCerts(),
                ep.dialTimeout().orElse(connectTimeout));
        HttpClient c = clients.get(key);
        if (c == null) {
            HttpClient made = build(key);
            c = clients.putIfAbsent(key, made);
            if (c == null) {
                c = made;
            } else {
                made.close();
            }
        }
        return c;
    }

    private static HttpClient build(Key k) throws GeneralSecurityException, IOException {
        var b = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .followRedirects(HttpClient.Redirect.NEVER)
                .connectTimeout(k.connect());
        if (k.skipVerify() || !k.caFiles().isEmpty() || !k.clientCerts().isEmpty()) {
            SSLContext ctx = SSLContext.getInstance("TLS");
            TrustManager[] trust = k.skipVerify() ? new TrustManager[] {new TrustAll()} : trustManagers(k.caFiles());
            ctx.init(keyManagers(k.clientCerts()), trust, null);
            b.sslContext(ctx);
        }
        return b.build();
    }

    /** The system's CAs plus the given ones. */
    private static TrustManager[] trustManagers(List<Path> caFiles) throws GeneralSecurityException, IOException {
        if (caFiles.isEmpty()) {
            return null; // JDK default
        }
        var store = KeyStore.getInstance(KeyStore.getDefaultType());
        store.load(null, null);
        var system = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        system.init((KeyStore) null);
        int i = 0;
        for (TrustManager tm : system.getTrustManagers()) {
            if (tm instanceof X509TrustManager x) {
                for (X509Certificate c : x.getAcceptedIssuers()) {
                    store.setCertificateEntry("system-" + i++, c);
                }
            }
        }
        var cf = CertificateFactory.getInstance("X.509");
        for (Path p : caFiles) {
            try (InputStream in = Files.newInputStream(p)) {
                var certs = cf.generateCertificates(in);
                if (certs.isEmpty()) {
                    throw new GeneralSecurityException("no certificate in CA file " + p);
                }
                for (Certificate c : certs) {
                    store.setCertificateEntry("ca-" + i++, c);
                }
            }
        }
        var tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(store);
        return tmf.getTrustManagers();
    }

    private static KeyManager[] keyManagers(List<ClientCertificate> certs)
            throws GeneralSecurityException, IOException {
        if (certs.isEmpty()) {
            return null;
        }
        var store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        char[] pw = new char[0];
        var cf = CertificateFactory.getInstance("X.509");
        int i = 0;
        for (ClientCertificate cc : certs) {
            byte[] certPem = Files.readAllBytes(cc.cert());
            List<Certificate> chain = new ArrayList<>(cf.generateCertificates(new ByteArrayInputStream(certPem)));
            if (chain.isEmpty()) {
                throw new GeneralSecurityException("no certificate in client file " + cc.cert());
            }
            Path keyFile = cc.key().orElse(cc.cert());
            store.setKeyEntry("client-" + i++, privateKey(keyFile), pw, chain.toArray(Certificate[]::new));
        }
        var kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(store, pw);
        return kmf.getKeyManagers();
    }

    /** A PEM PKCS#8 key ({@code BEGIN PRIVATE KEY}), RSA, EC or Ed25519. */
    private static PrivateKey privateKey(Path file) throws GeneralSecurityException, IOException {
        Matcher m = PEM_KEY.matcher(Files.readString(file, StandardCharsets.US_ASCII));
        if (!m.find()) {
            throw new GeneralSecurityException("no private key in " + file);
        }
        if (!m.group(1).isEmpty()) {
            throw new GeneralSecurityException(
                    "client key " + file + " is " + m.group(1).trim()
                            + " PEM; convert it to PKCS#8: openssl pkcs8 -topk8 -nocrypt -in key -out key.pk8");
        }
        var spec = new PKCS8EncodedKeySpec(Base64.getMimeDecoder().decode(m.group(2)));
        GeneralSecurityException last = null;
        for (String alg : List.of("RSA", "EC", "Ed25519")) {
            try {
                return KeyFactory.getInstance(alg).generatePrivate(spec);
            } catch (GeneralSecurityException e) {
                last = e;
            }
        }
        throw new GeneralSecurityException("unsupported private key in " + file, last);
    }

    @Override
    public void close() {
        clients.values().forEach(HttpClient::close);
        clients.clear();
    }

    /**
     * {@code skip_verify}: accepts any chain and, being an extended trust manager, also skips the
     * host name check that JSSE would otherwise do.
     */
    private static final class TrustAll extends X509ExtendedTrustManager {
        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) {}

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) {}

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {}

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {}

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) {}

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) {}

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return new X509Certificate[0];
        }
    }
}
