package io.stevedore.server.container.spec;

import io.stevedore.cri.v1.ContainerConfig;
import io.stevedore.oci.spec.Linux;
import io.stevedore.oci.spec.Resources;
import io.stevedore.oci.spec.Spec;
import io.stevedore.server.error.CriException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Device nodes in a container's spec: those the CRI config names, each with a cgroup rule allowing
 * it, and every host device for a privileged container (containerd's {@code WithDevices} and
 * {@code WithHostDevices}). The nodes themselves are read by {@link DeviceNodes}.
 */
final class ContainerDevices {
    private static final Path HOST_DEV = Path.of("/dev");

    private ContainerDevices() {}

    /** CRI devices: a node (or every node below a directory) and a cgroup rule allowing it. */
    static Spec apply(Spec s, ContainerConfig config, String action) {
        List<Linux.Device> devices = new ArrayList<>(s.linux().devices());
        List<Resources.DeviceRule> rules = new ArrayList<>(s.linux().resources().devices());
        for (io.stevedore.cri.v1.Device d : config.getDevicesList()) {
            List<Linux.Device> found;
            try {
                Path host = Path.of(d.getHostPath()).toRealPath();
                String containerPath = d.getContainerPath().isEmpty() ? host.toString() : d.getContainerPath();
                found = Files.isDirectory(host)
                        ? DeviceNodes.below(host, containerPath)
                        : List.of(DeviceNodes.read(host, containerPath)
                                .orElseThrow(() -> new CriException.InvalidArgument(
                                        "%s: device \"%s\" is not a character or block device"
                                                .formatted(action, d.getHostPath()))));
            } catch (NoSuchFileException e) {
                throw new CriException.InvalidArgument(
                        "%s: device \"%s\" does not exist".formatted(action, d.getHostPath()));
            } catch (IOException e) {
                throw new UncheckedIOException("%s: read device \"%s\"".formatted(action, d.getHostPath()), e);
            }
            for (Linux.Device dev : found) {
                devices.add(dev);
                rules.add(new Resources.DeviceRule(true, dev.type(), dev.major(), dev.minor(), d.getPermissions()));
            }
        }
        return s.withLinux(s.linux()
                .withDevices(devices)
                .withResources(s.linux().resources().withDevices(rules)));
    }

    /** {@code devices} plus every host device under {@code /dev} at a path none of them has. */
    static List<Linux.Device> withHostDevices(List<Linux.Device> devices, String action) {
        List<Linux.Device> all = new ArrayList<>(devices);
        try {
            for (Linux.Device d : DeviceNodes.below(HOST_DEV, "/dev")) {
                if (all.stream().noneMatch(x -> x.path().equals(d.path()))) {
                    all.add(d);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(action + ": list host devices", e);
        }
        return all;
    }
}
