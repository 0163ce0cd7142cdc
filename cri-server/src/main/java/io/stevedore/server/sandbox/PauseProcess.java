package io.stevedore.server.sandbox;

import io.stevedore.oci.runtime.OciRuntimeException;
import io.stevedore.oci.runtime.RuncCli;
import io.stevedore.oci.spec.Linux.NamespaceType;
import io.stevedore.oci.spec.Mount;
import io.stevedore.oci.spec.Spec;
import io.stevedore.oci.spec.SpecJson;
import io.stevedore.oci.spec.Specs;
import io.stevedore.oci.spec.SpecOpt;
import io.stevedore.oci.spec.Root;
import io.stevedore.server.container.Procs;
import io.stevedore.shim.ExitFile;
import io.stevedore.shim.ShimException;
import io.stevedore.shim.ShimLauncher;
import io.stevedore.shim.ShimSpec;
import io.stevedore.shim.ShimStarted;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * {@code stevedore-pause} as PID 1 of a pod's shared PID namespace: a runtime container of its
 * own (id = sandbox id) whose rootfs is an empty read-only directory with the static pause binary
 * bound in, joined to the pod's pinned namespaces. No image is pulled.
 */
final class PauseProcess {
  private final Path pauseBinary;
  private final ShimLauncher launcher;
  private final Path exitDir;
  private final Path socketBase;

  PauseProcess(Path pauseBinary, ShimLauncher launcher, Path exitDir, Path socketBase) {
    this.socketBase = socketBase;
    this.pauseBinary = pauseBinary;
    this.launcher = launcher;
    this.exitDir = exitDir;
  }

  /** The pause's pid, its shim's pid and the shim's start time. */
  record Started(int pid, int shimPid, long shimStartTime) {}

  Started start(RuncCli rt, SandboxRecord sb, Path dir) throws IOException, InterruptedException {
    String id = sb.id();
    Path bundle = Files.createDirectories(dir.resolve("pause"));
    Path rootfs = Files.createDirectories(bundle.resolve("rootfs"));
    var opts = new ArrayList<SpecOpt>();
    opts.add(Specs.withProcessArgs("/pause"));
    var mounts = new ArrayList<Mount>();
    for (Mount m : Specs.DEFAULT_MOUNTS) {
      if (m.destination().equals("/proc") || m.destination().equals("/dev")) mounts.add(m);
    }
    mounts.add(Mount.bind(pauseBinary.toString(), "/pause", List.of("rbind", "ro", "nosuid", "nodev")));
    opts.add(Specs.withMounts(mounts));
    opts.add(join(NamespaceType.NETWORK, sb.netns()));
    opts.add(join(NamespaceType.IPC, sb.ipcns()));
    opts.add(join(NamespaceType.UTS, sb.utsns()));
    opts.add(Specs.withCgroupsPath(sb.cgroupParent() + "/" + id));
    Spec spec = Specs.apply(Specs.defaults(), opts.toArray(SpecOpt[]::new));
    spec = spec.withRoot(new Root(rootfs.toString(), true));
    SpecJson.write(spec, bundle.resolve("config.json"));
    Path shimDir = Files.createDirectories(
        io.stevedore.server.container.ContainerService.shimSocketDir(socketBase, id));
    var ss = new ShimSpec(id, bundle, rt.binary(), rt.root(), bundle.resolve("pause.log"), exitDir, shimDir,
        bundle.resolve("init.pid"), false, false);
    ShimStarted started;
    try {
      started = launcher.start(ss);
    } catch (ShimException e) {
      delete(rt, id);
      throw new IllegalStateException("start pause of sandbox \"" + id + "\": "
          + e.runtimeMessage().orElse(e.getMessage()), e);
    }
    int shimPid = Integer.parseInt(Files.readString(ss.shimPidFile()).strip());
    try {
      rt.start(id);
    } catch (OciRuntimeException e) {
      stop(rt, id);
      throw new IllegalStateException("start pause of sandbox \"" + id + "\": " + e.getMessage(), e);
    }
    return new Started(started.pid(), shimPid, Procs.startTime(shimPid));
  }

  /** Kills the pause, waits for its shim to record the exit, deletes it. Idempotent. */
  void stop(RuncCli rt, String id) throws InterruptedException {
    try {
      rt.kill(id, 9, true);
    } catch (OciRuntimeException e) {
      // not running (or never created): nothing to kill
    }
    long deadline = System.nanoTime() + 10_000_000_000L;
    Path exit = ExitFile.path(exitDir, id);
    while (!Files.exists(exit) && System.nanoTime() < deadline && rtKnows(rt, id)) {
      Thread.sleep(5);
    }
    // The shim records the exit just after the runtime sees it: wait for the file so that it
    // is not written after we remove it.
    long grace = System.nanoTime() + 2_000_000_000L;
    while (!Files.exists(exit) && System.nanoTime() < grace) {
      Thread.sleep(5);
    }
    delete(rt, id);
    try {
      io.stevedore.server.state.Dirs.deleteTree(
          io.stevedore.server.container.ContainerService.shimSocketDir(socketBase, id));
      ExitFile.remove(exitDir, id);
    } catch (IOException ignored) {
      // a stale exit file of a removed sandbox is harmless
    }
  }

  private static boolean rtKnows(RuncCli rt, String id) throws InterruptedException {
    try {
      Optional<io.stevedore.oci.runtime.OciState> s = rt.state(id);
      return s.isPresent() && s.get().status() != io.stevedore.oci.runtime.OciState.Status.STOPPED;
    } catch (OciRuntimeException e) {
      return false;
    }
  }

  private static void delete(RuncCli rt, String id) throws InterruptedException {
    try {
      rt.delete(id, true);
    } catch (OciRuntimeException e) {
      // logged by the caller's outcome; delete is idempotent
    }
  }

  private static SpecOpt join(NamespaceType type, String path) {
    return path.isEmpty() ? Specs.withoutNamespace(type) : Specs.withNamespace(type, path);
  }
}
