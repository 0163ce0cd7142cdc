package io.stevedore.server.sandbox;

import io.stevedore.cri.v1.PodSandboxConfig;
import io.stevedore.server.host.Runtimes;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Set;

/** {@link SandboxFixture} for tests of other packages: a sandbox service over recording fakes. */
public final class FakeSandboxes {
    private final SandboxFixture fixture;

    public FakeSandboxes(Path tmp) {
        this.fixture = new SandboxFixture(tmp);
    }

    /** Built, recovered; the caller wires its containers. */
    public SandboxService start(Runtimes runtimes) throws IOException {
        return fixture.start(runtimes);
    }

    /** Pods whose namespaces the fake pinner holds. */
    public Set<String> pinned() {
        return fixture.pinner.held();
    }

    /** Pods attached to the fake network. */
    public Set<String> attached() {
        return fixture.network.attached();
    }

    /** A pod with namespaces of its own. */
    public static PodSandboxConfig pod(String name) {
        return SandboxFixture.pod(name);
    }
}
