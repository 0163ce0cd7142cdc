package io.stevedore.server.container.spec;

import io.stevedore.cri.v1.ContainerConfig;
import io.stevedore.cri.v1.ContainerMetadata;
import io.stevedore.cri.v1.ImageSpec;
import io.stevedore.cri.v1.LinuxContainerConfig;
import io.stevedore.cri.v1.LinuxContainerSecurityContext;
import io.stevedore.cri.v1.LinuxPodSandboxConfig;
import io.stevedore.cri.v1.LinuxSandboxSecurityContext;
import io.stevedore.cri.v1.PodSandboxConfig;
import io.stevedore.cri.v1.PodSandboxMetadata;
import io.stevedore.oci.spec.Spec;
import io.stevedore.server.image.manifest.ImageConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.UnaryOperator;

/**
 * A fake pod and rootfs in a temp directory: {@code rootfs/etc/{passwd,group}}, the pod's hosts,
 * resolv.conf, hostname and shm; plus builders for the CRI config and image config.
 */
final class SpecFixture {
    static final String PASSWD = """
      root:x:0:0:root:/root:/bin/sh
      # a comment
      daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
      alice:x:1000:1000:Alice:/home/alice:/bin/sh
      bob:x:1001:100:Bob:/home/bob:/bin/sh
      """;
    static final String GROUP = """
      root:x:0:
      wheel:x:10:root,alice
      users:x:100:
      alice:x:1000:alice
      audio:x:29:alice,bob
      video:x:44:bob
      """;
    static final ContainerSpecGenerator.Options OPTIONS =
            new ContainerSpecGenerator.Options(0, List.of("CAP_CHOWN", "CAP_NET_ADMIN", "CAP_SYS_ADMIN"), false, true);

    final Path dir;
    final Path rootfs;
    final Path hosts;
    final Path resolvConf;
    final Path hostname;
    final Path shm;

    SpecFixture(Path dir) {
        this.dir = dir;
        this.rootfs = dir.resolve("rootfs");
        this.hosts = dir.resolve("pod/hosts");
        this.resolvConf = dir.resolve("pod/resolv.conf");
        this.hostname = dir.resolve("pod/hostname");
        this.shm = dir.resolve("pod/shm");
        try {
            Files.createDirectories(rootfs.resolve("etc"));
            Files.writeString(rootfs.resolve("etc/passwd"), PASSWD);
            Files.writeString(rootfs.resolve("etc/group"), GROUP);
            Files.createDirectories(shm);
            Files.writeString(hosts, "127.0.0.1 localhost\n");
            Files.writeString(resolvConf, "nameserver 10.0.0.10\n");
            Files.writeString(hostname, "web-0\n");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static PodSandboxConfig podConfig(boolean privileged) {
        return PodSandboxConfig.newBuilder()
                .setMetadata(PodSandboxMetadata.newBuilder()
                        .setName("web-0")
                        .setNamespace("shop")
                        .setUid("uid-1"))
                .setHostname("web-0")
                .setLinux(LinuxPodSandboxConfig.newBuilder()
                        .setSecurityContext(
                                LinuxSandboxSecurityContext.newBuilder().setPrivileged(privileged)))
                .build();
    }

    /** A pod with its own network, IPC and UTS namespaces, shm and cgroup. */
    PodContext pod() {
        return new PodContext(
                "sb1",
                podConfig(false),
                Optional.of(Path.of("/run/netns/sb1")),
                Optional.of(Path.of("/run/ipcns/sb1")),
                Optional.of(Path.of("/run/utsns/sb1")),
                Optional.empty(),
                hosts,
                resolvConf,
                hostname,
                Optional.of(shm),
                "/kubepods/besteffort/pod1");
    }

    /** A host-network, host-IPC pod (no namespaces, no shm of its own). */
    PodContext hostPod() {
        return new PodContext(
                "sb1",
                podConfig(false),
                Optional.empty(),
                Optional.empty(),
                Optional.empty(),
                Optional.empty(),
                hosts,
                resolvConf,
                hostname,
                Optional.empty(),
                "/kubepods/besteffort/pod1");
    }

    static ImageConfig image(
            String user, List<String> env, List<String> entrypoint, List<String> cmd, String workingDir) {
        return new ImageConfig(
                user,
                env,
                entrypoint,
                cmd,
                workingDir,
                Map.of(),
                "",
                Set.of(),
                Set.of(),
                "linux",
                "amd64",
                Optional.empty(),
                List.of(),
                Optional.empty(),
                "{}");
    }

    /** An image running {@code /bin/app serve} as root. */
    static ImageConfig image() {
        return image("", List.of("PATH=/usr/bin:/bin", "LANG=C"), List.of("/bin/app"), List.of("serve"), "");
    }

    /** A container named "app" of image "app:1", with nothing else set. */
    static ContainerConfig.Builder config() {
        return ContainerConfig.newBuilder()
                .setMetadata(ContainerMetadata.newBuilder().setName("app"))
                .setImage(ImageSpec.newBuilder().setImage("sha256:abc").setUserSpecifiedImage("app:1"));
    }

    /** {@link #config()} with its security context changed by {@code sc}. */
    static ContainerConfig.Builder config(UnaryOperator<LinuxContainerSecurityContext.Builder> sc) {
        return config().setLinux(LinuxContainerConfig.newBuilder()
                .setSecurityContext(sc.apply(LinuxContainerSecurityContext.newBuilder())));
    }

    Spec generate(ContainerConfig.Builder config) {
        return generate(config, pod(), image());
    }

    Spec generate(ContainerConfig.Builder config, PodContext pod, ImageConfig image) {
        return new ContainerSpecGenerator(OPTIONS).generate("c1", config.build(), pod, image, rootfs);
    }
}
