package io.stevedore.server.info;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.stevedore.cri.v1.RuntimeHandler;
import io.stevedore.oci.runtime.OciFeatures;
import io.stevedore.oci.runtime.OciRuntime;
import io.stevedore.oci.runtime.OciRuntimeException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Status reports per handler exactly what that handler's runtime says it can do, asked once. */
class RuntimeFeaturesTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** A runtime that answers {@code features} only, with {@code json}, counting the calls. */
    record FeaturesRuntime(Optional<String> json, AtomicInteger asked) {
        FeaturesRuntime(Optional<String> json) {
            this(json, new AtomicInteger());
        }

        OciRuntime runtime() {
            return RuntimeFeaturesTest.runtime(() -> {
                asked.incrementAndGet();
                return json.map(RuntimeFeaturesTest::parse);
            });
        }
    }

    interface FeaturesAnswer {
        Optional<OciFeatures> get() throws OciRuntimeException;
    }

    static OciRuntime runtime(FeaturesAnswer answer) {
        return (OciRuntime) java.lang.reflect.Proxy.newProxyInstance(
                OciRuntime.class.getClassLoader(), new Class<?>[] {OciRuntime.class}, (proxy, m, args) -> {
                    if (m.getName().equals("features")) return answer.get();
                    throw new UnsupportedOperationException(m.getName());
                });
    }

    static OciFeatures parse(String json) {
        try {
            var node = JSON.readTree(json);
            List<String> opts = JSON.convertValue(
                    node.path("mountOptions"), JSON.getTypeFactory().constructCollectionType(List.class, String.class));
            return new OciFeatures("1.0.0", "1.2.0", List.of(), opts, node);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** What Debian 12's runc 1.1.5 prints, cut to the fields that matter. */
    static final String RUNC_1_1 = """
            {"ociVersionMin":"1.0.0","ociVersionMax":"1.0.2-dev","mountOptions":["bind","ro","rro","rw"],
             "linux":{"namespaces":["user"]}}""";
    /** runc 1.2: idmap mounts too. */
    static final String RUNC_1_2 = """
            {"mountOptions":["bind","ro","rro"],"linux":{"mountExtensions":{"idmap":{"enabled":true}}}}""";

    static final String NO_RRO = """
            {"mountOptions":["bind","ro"]}""";

    record Case(String desc, Optional<String> features, boolean kernel, boolean rro) {
        @Override
        public String toString() {
            return desc;
        }
    }

    static Stream<Case> cases() {
        return Stream.of(
                new Case("runc 1.1, new kernel", Optional.of(RUNC_1_1), true, true),
                new Case("runc 1.1, kernel before 5.12", Optional.of(RUNC_1_1), false, false),
                new Case("runc 1.2", Optional.of(RUNC_1_2), true, true),
                new Case("no rro option", Optional.of(NO_RRO), true, false),
                new Case("no features command", Optional.empty(), true, false));
    }

    @ParameterizedTest
    @MethodSource("cases")
    void status_handlerFlags_followFeaturesOutput(Case c) throws Exception {
        var runtime = new FeaturesRuntime(c.features());
        var info = service(Map.of("runc", runtime.runtime()), "runc", c.kernel());

        Map<String, RuntimeHandler> handlers = handlers(info);

        assertEquals(List.of("", "runc"), List.copyOf(handlers.keySet()));
        for (RuntimeHandler h : handlers.values()) {
            assertEquals(c.rro(), h.getFeatures().getRecursiveReadOnlyMounts(), h.getName());
            // user-namespaced pods are refused by spec generation: never claimed, even by runc 1.2
            assertFalse(h.getFeatures().getUserNamespaces(), h.getName());
        }
    }

    @Test
    void status_twoHandlers_eachItsOwnAndEmptyNameIsTheDefaults() throws Exception {
        var runtimes = new LinkedHashMap<String, OciRuntime>();
        runtimes.put("old", new FeaturesRuntime(Optional.of(NO_RRO)).runtime());
        runtimes.put("runc", new FeaturesRuntime(Optional.of(RUNC_1_1)).runtime());
        var info = service(runtimes, "old", true);

        Map<String, Boolean> rro = handlers(info).values().stream()
                .collect(Collectors.toMap(
                        RuntimeHandler::getName, h -> h.getFeatures().getRecursiveReadOnlyMounts()));

        assertEquals(Map.of("", false, "old", false, "runc", true), rro);
    }

    @Test
    void status_manyCalls_runtimeAskedOnce() throws Exception {
        var runtime = new FeaturesRuntime(Optional.of(RUNC_1_1));
        var info = service(Map.of("runc", runtime.runtime()), "runc", true);

        for (int i = 0; i < 5; i++) info.status(false);

        assertEquals(1, runtime.asked.get());
    }

    @Test
    void probe_runtimeFails_claimsNothing() throws Exception {
        OciRuntime failing = runtime(() -> {
            throw new OciRuntimeException("runc", "features", null, "boom", 1, null);
        });
        assertEquals(
                HandlerFeatures.NONE,
                RuntimeFeatureProbe.probe(Map.of("runc", failing), "runc", true).get("runc"));
    }

    @Test
    void status_supplementalGroupsPolicy_isClaimed() throws Exception {
        var info = service(Map.of("runc", new FeaturesRuntime(Optional.empty()).runtime()), "runc", true);
        assertTrue(info.status(false).getFeatures().getSupplementalGroupsPolicy());
    }

    @Test
    void idmapMounts_readFromLinuxMountExtensions() {
        assertTrue(HandlerFeatures.idmapMounts(parse(RUNC_1_2)));
        assertFalse(HandlerFeatures.idmapMounts(parse(RUNC_1_1)));
    }

    @ParameterizedTest
    @org.junit.jupiter.params.provider.CsvSource({
        "6.18.44-fc-v1252, true",
        "5.12.0, true",
        "5.11.22-generic, false",
        "4.19.0-26-amd64, false",
        "garbage, false"
    })
    void kernelHasMountSetattr_byRelease(String release, boolean expected) {
        assertEquals(expected, HandlerFeatures.kernelHasMountSetattr(release));
    }

    private static RuntimeInfoService service(Map<String, ? extends OciRuntime> runtimes, String dflt, boolean kernel)
            throws InterruptedException {
        return new RuntimeInfoService(
                "1.0", RuntimeFeatureProbe.probe(runtimes, dflt, kernel), false, Optional::empty, Map::of);
    }

    private static Map<String, RuntimeHandler> handlers(RuntimeInfoService info) {
        Map<String, RuntimeHandler> m = new LinkedHashMap<>();
        info.status(false).getRuntimeHandlersList().forEach(h -> m.put(h.getName(), h));
        return m;
    }
}
