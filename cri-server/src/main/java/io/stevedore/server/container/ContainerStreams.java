package io.stevedore.server.container;

import io.stevedore.cri.v1.AttachRequest;
import io.stevedore.cri.v1.ExecRequest;
import io.stevedore.oci.linux.NetNamespaces;
import io.stevedore.server.streaming.CommandIo;
import io.stevedore.server.streaming.StreamRuntime;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * The container and pod side of the streaming server: exec through the OCI runtime ({@link
 * StreamExec}), attach through the shim ({@link StreamAttach}), port-forward into the pod's
 * network namespace.
 */
public final class ContainerStreams implements StreamRuntime {
    private final ContainerService containers;
    private final Pods pods;

    public ContainerStreams(ContainerService containers, Pods pods) {
        this.containers = containers;
        this.pods = pods;
    }

    @Override
    public Owner checkExec(ExecRequest req) {
        var t = containers.streamTarget(req.getContainerId(), "exec in");
        return new Owner(t.id(), t.sandboxId());
    }

    @Override
    public Owner checkAttach(AttachRequest req) {
        var t = containers.streamTarget(req.getContainerId(), "attach to");
        return new Owner(t.id(), t.sandboxId());
    }

    @Override
    public Owner checkPortForward(String podSandboxId) {
        String id = pods.ready(podSandboxId, false).context().sandboxId();
        return new Owner(id, id);
    }

    @Override
    public int exec(ExecRequest req, CommandIo io) throws Exception {
        var t = containers.streamTarget(req.getContainerId(), "exec in");
        var process = containers.execProcess(t.id(), req.getCmdList(), req.getTty());
        return req.getTty() ? StreamExec.terminal(t, process, io) : StreamExec.pipes(t, process, io);
    }

    @Override
    public void attach(AttachRequest req, CommandIo io) throws Exception {
        StreamAttach.run(containers.streamTarget(req.getContainerId(), "attach to"), io);
    }

    @Override
    public SocketChannel connect(String podSandboxId, int port) throws IOException {
        Optional<Path> netns = pods.ready(podSandboxId, false).context().netns();
        IOException first = null;
        // localhost as the kubelet's runtimes dial it: IPv4 first, then IPv6.
        for (var family : List.of(StandardProtocolFamily.INET, StandardProtocolFamily.INET6)) {
            SocketChannel ch =
                    netns.isPresent() ? NetNamespaces.openTcp(netns.get(), family) : SocketChannel.open(family);
            String host = family == StandardProtocolFamily.INET ? "127.0.0.1" : "::1";
            try {
                ch.connect(new InetSocketAddress(host, port));
                return ch;
            } catch (IOException e) {
                ch.close();
                IOException named = new IOException("dial " + host + " port " + port + ": " + e.getMessage(), e);
                if (first == null) {
                    first = named;
                } else {
                    first.addSuppressed(named);
                }
            }
        }
        throw first;
    }
}
