package io.stevedore.server.image.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stevedore.server.image.manifest.MediaTypes;
import io.stevedore.server.image.ref.ImageReference;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** HTTPS endpoints: per-host CA files and skip_verify, against a self-signed 127.0.0.1 server. */
class RegistryTlsTest {
    static final String HOST = "secure.test";
    static final ImageReference REF = ImageReference.parse(HOST + "/app:v1");

    @TempDir
    static Path keys;

    static FakeRegistry registry;
    static Path caPem;

    @BeforeAll
    static void start() throws Exception {
        Path p12 = keys.resolve("server.p12");
        // keytool ships with every JDK; it spares us a certificate library just for a test.
        keytool(
                "-genkeypair",
                "-alias",
                "server",
                "-keyalg",
                "EC",
                "-groupname",
                "secp256r1",
                "-dname",
                "CN=127.0.0.1",
                "-ext",
                "san=ip:127.0.0.1",
                "-validity",
                "2",
                "-keystore",
                p12.toString(),
                "-storetype",
                "PKCS12",
                "-storepass",
                "changeit");
        caPem = keys.resolve("ca.pem");
        keytool(
                "-exportcert",
                "-rfc",
                "-alias",
                "server",
                "-keystore",
                p12.toString(),
                "-storepass",
                "changeit",
                "-file",
                caPem.toString());
        var ks = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(p12)) {
            ks.load(in, "changeit".toCharArray());
        }
        var kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, "changeit".toCharArray());
        var ctx = SSLContext.getInstance("TLS");
        ctx.init(kmf.getKeyManagers(), null, null);
        registry = new FakeRegistry(ctx);
        registry.putManifest(
                "app",
                "v1",
                MediaTypes.OCI_MANIFEST,
                ("{\"schemaVersion\":2,\"mediaType\":\""
                                + MediaTypes.OCI_MANIFEST + "\",\"config\":{\"mediaType\":\"" + MediaTypes.OCI_CONFIG
                                + "\",\"digest\":\"sha256:" + "a".repeat(64) + "\",\"size\":1},\"layers\":[]}")
                        .getBytes(StandardCharsets.UTF_8));
    }

    @AfterAll
    static void stop() {
        registry.close();
    }

    private static void keytool(String... args) throws Exception {
        var cmd = new java.util.ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "keytool").toString()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "keytool finished");
        assertEquals(0, p.exitValue(), out);
    }

    private static RegistryClient client(Path certsD, String hostSettings) throws Exception {
        Files.createDirectories(certsD.resolve(HOST));
        Files.writeString(
                certsD.resolve(HOST).resolve("hosts.toml"), "server = \"" + registry.origin() + "\"\n" + hostSettings);
        return new RegistryClient(
                RegistryHosts.load(certsD),
                new RegistryClient.Options(Duration.ofSeconds(5), Duration.ofSeconds(10), Duration.ofSeconds(10)));
    }

    @Test
    void resolve_selfSigned_withoutTrust_failsWithTlsError(@TempDir Path certsD) throws Exception {
        try (var c = client(certsD, "")) {
            var e = assertThrows(RegistryException.class, () -> c.resolve(REF, Credentials.anonymous()));
            assertTrue(e.getMessage().contains("from " + registry.origin() + ": TLS"), e.getMessage());
        }
    }

    @Test
    void resolve_caFile_trustsServer(@TempDir Path certsD) throws Exception {
        try (var c = client(certsD, "ca = \"" + caPem + "\"\n")) {
            assertEquals(
                    registry.origin() + "/v2",
                    c.resolve(REF, Credentials.anonymous()).endpoint().base().toString());
        }
    }

    @Test
    void resolve_skipVerify_trustsServer_onlyForThatHost(@TempDir Path certsD) throws Exception {
        try (var c = client(certsD, "skip_verify = true\n")) {
            c.resolve(REF, Credentials.anonymous());
            // another host with no settings still verifies, even on the same client
            Files.createDirectories(certsD.resolve("other.test"));
            Files.writeString(certsD.resolve("other.test/hosts.toml"), "server = \"" + registry.origin() + "\"\n");
            try (var c2 = new RegistryClient(RegistryHosts.load(certsD), RegistryClient.Options.defaults())) {
                assertThrows(
                        RegistryException.class,
                        () -> c2.resolve(ImageReference.parse("other.test/app:v1"), Credentials.anonymous()));
                c2.resolve(REF, Credentials.anonymous());
            }
        }
    }
}
