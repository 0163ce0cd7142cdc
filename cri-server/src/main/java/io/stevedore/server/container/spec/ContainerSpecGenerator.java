package io.stevedore.server.container.spec;

import io.stevedore.cri.v1.ContainerConfig;
import io.stevedore.cri.v1.LinuxContainerResources;
import io.stevedore.cri.v1.NamespaceMode;
import io.stevedore.oci.spec.Linux.NamespaceType;
import io.stevedore.oci.spec.Mount;
import io.stevedore.oci.spec.Process;
import io.stevedore.oci.spec.Resources;
import io.stevedore.oci.spec.Root;
import io.stevedore.oci.spec.Spec;
import io.stevedore.oci.spec.SpecOpt;
import io.stevedore.oci.spec.Specs;
import io.stevedore.server.image.manifest.ImageConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** TEMPORARY stub until the real generator lands. */
public final class ContainerSpecGenerator {
  public record Options(int oomFloor) {
    public static Options forThisProcess() {
      return new Options(0);
    }
  }

  public ContainerSpecGenerator(Options o) {}

  public Spec generate(String id, ContainerConfig c, PodContext pod, ImageConfig image, Path rootfs) {
    var args = new ArrayList<String>();
    if (c.getCommandCount() > 0) {
      args.addAll(c.getCommandList());
      args.addAll(c.getArgsList());
    } else {
      args.addAll(image.entrypoint());
      args.addAll(c.getArgsCount() > 0 ? c.getArgsList() : image.cmd());
    }
    var env = new ArrayList<String>(image.env());
    c.getEnvsList().forEach(kv -> env.add(kv.getKey() + "=" + kv.getValue()));
    if (env.stream().noneMatch(e -> e.startsWith("PATH="))) env.add(Specs.DEFAULT_PATH);
    var mounts = new ArrayList<Mount>(Specs.DEFAULT_MOUNTS.stream().filter(m -> !m.destination().equals("/dev/shm")).toList());
    mounts.add(Mount.bind(pod.hostsFile().toString(), "/etc/hosts", List.of("rbind", "rprivate", "rw")));
    mounts.add(Mount.bind(pod.resolvConf().toString(), "/etc/resolv.conf", List.of("rbind", "rprivate", "rw")));
    mounts.add(Mount.bind(pod.hostnameFile().toString(), "/etc/hostname", List.of("rbind", "rprivate", "rw")));
    mounts.add(Mount.bind(pod.shm().map(Path::toString).orElse("/dev/shm"), "/dev/shm",
        List.of("rbind", "rprivate", "rw")));
    for (var m : c.getMountsList()) {
      mounts.add(Mount.bind(m.getHostPath(), m.getContainerPath(), List.of("rbind", "rprivate", m.getReadonly() ? "ro" : "rw")));
    }
    var opts = new ArrayList<SpecOpt>();
    opts.add(Specs.withProcessArgs(args));
    opts.add(Specs.withEnv(env));
    opts.add(Specs.withCwd(c.getWorkingDir().isEmpty() ? (image.workingDir().isEmpty() ? "/" : image.workingDir()) : c.getWorkingDir()));
    opts.add(Specs.withTerminal(c.getTty()));
    opts.add(Specs.withMounts(mounts));
    opts.add(pod.netns().map(p -> Specs.withNamespace(NamespaceType.NETWORK, p.toString())).orElse(Specs.withoutNamespace(NamespaceType.NETWORK)));
    opts.add(pod.ipcns().map(p -> Specs.withNamespace(NamespaceType.IPC, p.toString())).orElse(Specs.withoutNamespace(NamespaceType.IPC)));
    opts.add(pod.utsns().map(p -> Specs.withNamespace(NamespaceType.UTS, p.toString())).orElse(Specs.withoutNamespace(NamespaceType.UTS)));
    var pid = c.getLinux().getSecurityContext().getNamespaceOptions().getPid();
    if (pid == NamespaceMode.NODE) opts.add(Specs.withoutNamespace(NamespaceType.PID));
    else if (pid == NamespaceMode.POD && pod.sharedPidNsPid().isPresent())
      opts.add(Specs.withNamespace(NamespaceType.PID, "/proc/" + pod.sharedPidNsPid().get() + "/ns/pid"));
    opts.add(Specs.withCgroupsPath(pod.cgroupParent() + "/" + id));
    if (c.getLinux().hasResources()) opts.add(Specs.withResources(resources(c.getLinux().getResources())));
    return Specs.apply(Specs.defaults(), opts.toArray(SpecOpt[]::new)).withRoot(new Root(rootfs.toString(), false));
  }

  public Process execProcess(Spec spec, List<String> cmd, boolean tty) {
    Process p = spec.process();
    return new Process(tty, null, p.user(), cmd, p.env(), p.cwd(), p.capabilities(), p.rlimits(), p.noNewPrivileges(),
        p.apparmorProfile(), null, p.selinuxLabel());
  }

  public Resources resources(LinuxContainerResources r) {
    return r.getMemoryLimitInBytes() > 0 ? Resources.EMPTY.withMemory(Resources.Memory.ofLimit(r.getMemoryLimitInBytes())) : Resources.EMPTY;
  }
}
