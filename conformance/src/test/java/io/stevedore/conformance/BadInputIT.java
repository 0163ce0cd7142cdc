package io.stevedore.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.stevedore.conformance.registry.BusyboxImage;
import io.stevedore.conformance.registry.TestImages;
import io.stevedore.conformance.registry.TestRegistry;
import io.stevedore.cri.v1.*;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Hostile and malformed CRI input (issue 11), replayed against the real daemon over its socket: each
 * case asserts the gRPC code, that {@code Version} still answers within 2 s while and after it
 * runs, and that nothing half-made is left (no container, no pod, no mount). Cases that can hold a
 * thread run as many at once as the machine has CPUs, plus one. Grows with every bad input found.
 */
@RequiresRoot
class BadInputIT {
  static final String BRIDGE = "sdbad0";
  static final String NETWORK = "sdbad";
  static final int CONCURRENT = Runtime.getRuntime().availableProcessors() + 1;

  static Path dir;
  static TestRegistry registry;
  static DaemonProcess daemon;
  static CriClient client;
  static String image;
  static long rssBeforeKb;

  @BeforeAll
  static void setUp() throws Exception {
    dir = Files.createTempDirectory("sd-bad-");
    registry = TestRegistry.start();
    image = BusyboxImage.push(new TestImages(registry), "test/busybox", "1").reference();
    Path cni = Files.createDirectories(dir.resolve("cni"));
    Files.writeString(cni.resolve("10-test.conflist"), """
        {"cniVersion": "1.0.0", "name": "%s", "plugins": [
          {"type": "bridge", "bridge": "%s", "isGateway": true,
           "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.126.0.0/24"}]]}}]}
        """.formatted(NETWORK, BRIDGE));
    Files.writeString(dir.resolve("stevedore.toml"), "[cni]\nconf_dir = \"" + cni + "\"\n");
    daemon = DaemonProcess.start(dir.resolve("d"), "--config", dir.resolve("stevedore.toml").toString());
    client = CriClient.connect(daemon.socket());
    client.images().pullImage(PullImageRequest.newBuilder().setImage(ImageSpec.newBuilder().setImage(image)).build());
    rssBeforeKb = rssKb();
  }

  @AfterEach
  void nothingHalfMade() throws Exception {
    assertVersionAnswers();
    for (var p : rt().listPodSandbox(ListPodSandboxRequest.getDefaultInstance()).getItemsList()) {
      assertEquals(List.of(), rt().listContainers(ListContainersRequest.newBuilder()
          .setFilter(ContainerFilter.newBuilder().setPodSandboxId(p.getId())).build()).getContainersList(),
          "a refused CreateContainer leaves no container");
      rt().stopPodSandbox(StopPodSandboxRequest.newBuilder().setPodSandboxId(p.getId()).build());
      rt().removePodSandbox(RemovePodSandboxRequest.newBuilder().setPodSandboxId(p.getId()).build());
    }
  }

  @AfterAll
  static void tearDown() throws Exception {
    try {
      if (client != null) {
        System.out.printf("BadInputIT: daemon RSS %d MiB before the suite, %d MiB after%n", rssBeforeKb >> 10,
            rssKb() >> 10);
        client.close();
      }
      if (daemon != null) assertEquals(0, daemon.terminate());
      assertEquals(List.of(), PodContainerIT.mountsUnder(dir), "no mount left behind");
    } finally {
      if (registry != null) registry.close();
      PodContainerIT.run("ip", "link", "del", BRIDGE);
      LiveDaemon.deleteTree(Path.of("/var/lib/cni/networks", NETWORK));
      LiveDaemon.deleteTree(dir);
    }
  }

  // ------------------------------------------------------------------ 1–3: seccomp profile paths

  @Test
  void seccompProfile_fifo_manyAtOnce_refusedAndVersionKeepsAnswering() throws Exception {
    Path fifo = dir.resolve("profile.fifo");
    PodContainerIT.run("mkfifo", fifo.toString());
    var pod = runPod("fifo", b -> {});
    var codes = concurrently(() -> createWithProfile(pod, "localhost/" + fifo));
    codes.forEach(c -> assertEquals(Status.Code.INVALID_ARGUMENT, c));
  }

  @Test
  void seccompProfile_devZero_manyAtOnce_refusedWithoutFillingTheHeap() throws Exception {
    var pod = runPod("zero", b -> {});
    var codes = concurrently(() -> createWithProfile(pod, "localhost//dev/zero"));
    codes.forEach(c -> assertEquals(Status.Code.INVALID_ARGUMENT, c));
  }

  @Test
  void seccompProfile_aSecretFile_errorDoesNotDiscloseIt() throws Exception {
    Path secret = Files.writeString(dir.resolve("shadow"), "root:$6$topsecrethash:19000:0:99999:7:::\n");
    var pod = runPod("shadow", b -> {});
    var e = assertThrows(StatusRuntimeException.class, () -> create(pod, b -> b.setLinux(LinuxContainerConfig
        .newBuilder().setSecurityContext(LinuxContainerSecurityContext.newBuilder().setSeccomp(SecurityProfile
            .newBuilder().setProfileType(SecurityProfile.ProfileType.Localhost).setLocalhostRef(secret.toString()))))));
    assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
    assertFalse(e.getStatus().getDescription().contains("topsecrethash"), e.getStatus().getDescription());
    assertFalse(e.getStatus().getDescription().contains("root:"), e.getStatus().getDescription());
  }

  // ------------------------------------------------------------------ 6, 7, 9: fields

  @Test
  void dnsServerWithANewline_isInvalidArgument_andNoPodIsLeft() {
    var e = assertThrows(StatusRuntimeException.class, () -> runPod("dns", b -> b.setDnsConfig(
        DNSConfig.newBuilder().addServers("10.0.0.10\nnameserver 6.6.6.6"))));
    assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
    assertEquals(0, rt().listPodSandbox(ListPodSandboxRequest.getDefaultInstance()).getItemsCount());
  }

  @Test
  void logPathOutsideThePodLogDirectory_isInvalidArgument() {
    var pod = runPod("logpath", b -> {});
    for (String bad : List.of("../../escape.log", "/etc/cron.d/evil")) {
      var e = assertThrows(StatusRuntimeException.class, () -> create(pod, b -> b.setLogPath(bad)));
      assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode(), bad);
    }
    assertFalse(Files.exists(Path.of("/etc/cron.d/evil")));
  }

  @Test
  void namesPortsAndSysctls_outOfRange_areInvalidArgument_neverUnknown() {
    List<Consumer<PodSandboxConfig.Builder>> bad = List.of(
        b -> b.setMetadata(b.getMetadata().toBuilder().setName("nul\u0000name")),
        b -> b.setMetadata(b.getMetadata().toBuilder().setNamespace("n".repeat(1 << 20))),
        b -> b.addPortMappings(PortMapping.newBuilder().setContainerPort(80).setHostPort(65536)),
        b -> b.addPortMappings(PortMapping.newBuilder().setContainerPort(-1)),
        b -> b.addPortMappings(PortMapping.newBuilder().setContainerPort(80).setProtocolValue(99)),
        b -> b.addPortMappings(PortMapping.newBuilder().setContainerPort(80).setHostIp("not-an-ip")),
        b -> b.setLinux(LinuxPodSandboxConfig.newBuilder().putSysctls("net.ipv4.ip_forward", "1\nkernel.x=1")));
    for (int i = 0; i < bad.size(); i++) {
      var edit = bad.get(i);
      var e = assertThrows(StatusRuntimeException.class, () -> runPod("bad", edit), "case " + i);
      assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode(), "case " + i);
      assertTrue(e.getStatus().getDescription().length() < 512, "echoed input is cut: case " + i);
    }
  }

  @Test
  void reopenLogOfAContainerThatIsNotRunning_isFailedPrecondition() {
    var pod = runPod("reopen", b -> {});
    String id = create(pod, b -> {});
    var e = assertThrows(StatusRuntimeException.class, () -> rt().reopenContainerLog(
        ReopenContainerLogRequest.newBuilder().setContainerId(id).build()));
    assertEquals(Status.Code.FAILED_PRECONDITION, e.getStatus().getCode());
    rt().removeContainer(RemoveContainerRequest.newBuilder().setContainerId(id).build());
  }

  // ------------------------------------------------------------------ helpers

  /** Runs {@code call} {@link #CONCURRENT} times at once, checking Version answers meanwhile. */
  static List<Status.Code> concurrently(Callable<Status.Code> call) throws Exception {
    try (var pool = Executors.newVirtualThreadPerTaskExecutor()) {
      var futures = new ArrayList<Future<Status.Code>>();
      for (int i = 0; i < CONCURRENT; i++) {
        futures.add(pool.submit(call));
      }
      assertVersionAnswers();
      var codes = new ArrayList<Status.Code>();
      for (var f : futures) {
        codes.add(f.get(60, TimeUnit.SECONDS));
      }
      assertVersionAnswers();
      return codes;
    }
  }

  static void assertVersionAnswers() {
    var v = client.runtime().withDeadlineAfter(2, TimeUnit.SECONDS).version(VersionRequest.getDefaultInstance());
    assertNotEquals("", v.getRuntimeName());
  }

  static Status.Code createWithProfile(PodContainerIT.Pod pod, String profile) {
    try {
      create(pod, b -> b.setLinux(LinuxContainerConfig.newBuilder().setSecurityContext(
          LinuxContainerSecurityContext.newBuilder().setSeccompProfilePath(profile))));
      return Status.Code.OK;
    } catch (StatusRuntimeException e) {
      return e.getStatus().getCode();
    }
  }

  static RuntimeServiceGrpc.RuntimeServiceBlockingStub rt() {
    return client.runtime().withDeadlineAfter(60, TimeUnit.SECONDS);
  }

  static PodContainerIT.Pod runPod(String name, Consumer<PodSandboxConfig.Builder> edit) {
    var b = PodSandboxConfig.newBuilder()
        .setMetadata(PodSandboxMetadata.newBuilder().setName(name).setNamespace("bad").setUid(UUID.randomUUID().toString()))
        .setLogDirectory(dir.resolve("logs").resolve(name + "-" + UUID.randomUUID()).toString())
        .setLinux(LinuxPodSandboxConfig.getDefaultInstance());
    edit.accept(b);
    var cfg = b.build();
    return new PodContainerIT.Pod(rt().runPodSandbox(RunPodSandboxRequest.newBuilder().setConfig(cfg).build())
        .getPodSandboxId(), cfg);
  }

  static String create(PodContainerIT.Pod pod, Consumer<ContainerConfig.Builder> edit) {
    var b = ContainerConfig.newBuilder()
        .setMetadata(ContainerMetadata.newBuilder().setName("c-" + UUID.randomUUID().toString().substring(0, 8)))
        .setImage(ImageSpec.newBuilder().setImage(image))
        .addAllCommand(List.of("sleep", "1000"))
        .setLogPath("c.log");
    edit.accept(b);
    return rt().createContainer(CreateContainerRequest.newBuilder().setPodSandboxId(pod.id()).setConfig(b)
        .setSandboxConfig(pod.config()).build()).getContainerId();
  }

  static long rssKb() throws Exception {
    for (String l : Files.readAllLines(Path.of("/proc/" + daemon.process().pid() + "/status"))) {
      if (l.startsWith("VmRSS:")) {
        return Long.parseLong(l.replaceAll("[^0-9]", ""));
      }
    }
    return 0;
  }
}
