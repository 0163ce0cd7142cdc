package io.stevedore.server.sandbox.files;

import io.stevedore.cri.v1.DNSConfig;
import io.stevedore.oci.fs.AtomicFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.function.Supplier;

/**
 * The files a pod shares with its containers, {@code /etc/resolv.conf}, {@code /etc/hosts} and
 * {@code /etc/hostname}, as containerd's {@code setupSandboxFiles} makes them: what each holds
 * (pure functions of the pod config and the host's files), and an atomic writer.
 */
public final class PodFiles {
    public static final Path HOST_RESOLV_CONF = Path.of("/etc/resolv.conf");
    public static final Path HOST_HOSTS = Path.of("/etc/hosts");
    /** The UTS name of the daemon's namespace, which Go's {@code os.Hostname()} reads too. */
    static final Path HOST_HOSTNAME = Path.of("/proc/sys/kernel/hostname");

    /**
     * A pod with its own network namespace gets the entries Docker writes (moby's {@code
     * libnetwork/etchosts} {@code defaultContent}); kubelet then mounts its own managed hosts file
     * over it in every container that does not mount {@code /etc/hosts} itself.
     */
    static final String DEFAULT_HOSTS = """
      127.0.0.1\tlocalhost
      ::1\tlocalhost ip6-localhost ip6-loopback
      fe00::0\tip6-localnet
      ff00::0\tip6-mcastprefix
      ff02::1\tip6-allnodes
      ff02::2\tip6-allrouters
      """;

    private PodFiles() {}

    /**
     * The pod's {@code resolv.conf}. With servers, searches or options, containerd's {@code
     * parseDNSOptions} format: {@code search a b}, then one {@code nameserver} line per server, then
     * {@code options x y}, each line only when it has something to say. With none of them (kubelet
     * sends no DNS config), a copy of the host's file; a host without one gives an empty file.
     *
     * @param dns {@code PodSandboxConfig.dns_config}; {@code null} counts as empty
     */
    public static String resolvConf(DNSConfig dns, Path hostResolvConf) {
        if (dns == null || dns.getServersCount() == 0 && dns.getSearchesCount() == 0 && dns.getOptionsCount() == 0) {
            return readOrEmpty(hostResolvConf);
        }
        checkDns(dns);
        var out = new StringBuilder();
        if (dns.getSearchesCount() > 0) {
            out.append("search ")
                    .append(String.join(" ", dns.getSearchesList()))
                    .append('\n');
        }
        for (String server : dns.getServersList()) {
            out.append("nameserver ").append(server).append('\n');
        }
        if (dns.getOptionsCount() > 0) {
            out.append("options ")
                    .append(String.join(" ", dns.getOptionsList()))
                    .append('\n');
        }
        return out.toString();
    }

    /** Entries per DNS list, and characters per entry, at most. */
    static final int MAX_DNS_ENTRIES = 32;

    static final int MAX_DNS_ENTRY = 253;

    /**
     * DNS config as untrusted input: it is written into a file the pod's resolver reads, so a
     * newline would add lines of the pod author's choosing. Servers must be IP literals (parsed
     * without any lookup); searches and options are single words of printable ASCII.
     */
    static void checkDns(DNSConfig dns) {
        checkList("dns_config.servers", dns.getServersList());
        checkList("dns_config.searches", dns.getSearchesList());
        checkList("dns_config.options", dns.getOptionsList());
        for (String server : dns.getServersList()) {
            if (!com.google.common.net.InetAddresses.isInetAddress(server)) {
                throw new io.stevedore.server.error.CriException.InvalidArgument(
                        "dns_config.servers: \"" + server + "\" is not an IP address");
            }
        }
    }

    private static void checkList(String field, java.util.List<String> values) {
        if (values.size() > MAX_DNS_ENTRIES) {
            throw new io.stevedore.server.error.CriException.InvalidArgument(
                    field + ": " + values.size() + " entries, at most " + MAX_DNS_ENTRIES);
        }
        for (String v : values) {
            boolean word =
                    !v.isEmpty() && v.length() <= MAX_DNS_ENTRY && v.chars().allMatch(c -> c > 0x20 && c < 0x7f);
            if (!word) {
                throw new io.stevedore.server.error.CriException.InvalidArgument(field + ": \""
                        + io.stevedore.server.error.CriException.shown(v) + "\" must be 1-" + MAX_DNS_ENTRY
                        + " printable characters without spaces");
            }
        }
    }

    /**
     * The pod's {@code hosts}: the host's file, copied, for a host-network pod (it sees the host's
     * interfaces and names); {@link #DEFAULT_HOSTS} otherwise.
     */
    public static String hosts(boolean hostNetwork, Path hostHosts) {
        return hostNetwork ? readOrEmpty(hostHosts) : DEFAULT_HOSTS;
    }

    /**
     * The pod's {@code hostname} file: {@code PodSandboxConfig.hostname} and a newline. kubelet sets
     * it for every pod; when it is empty, the host's name, which is what a process in the pod sees
     * anyway: a host-network pod shares the host's UTS namespace, and a new UTS namespace starts
     * with a copy of its parent's name (containerd falls back the same way in both cases).
     *
     * @param hostNetwork whether the pod shares the host's network (and so UTS) namespace; both
     *     kinds of pod fall back to the host's name, so it does not change the result
     */
    public static String hostname(String podHostname, boolean hostNetwork) {
        return hostname(podHostname, hostNetwork, PodFiles::hostHostname);
    }

    static String hostname(String podHostname, boolean hostNetwork, Supplier<String> hostHostname) {
        if (podHostname != null && !podHostname.isEmpty()) {
            return podHostname + "\n";
        }
        return hostHostname.get() + "\n";
    }

    private static String hostHostname() {
        try {
            return Files.readString(HOST_HOSTNAME).strip();
        } catch (IOException e) {
            throw new UncheckedIOException("read the host's hostname from " + HOST_HOSTNAME, e);
        }
    }

    /**
     * Replaces {@code file} with {@code content} through {@link AtomicFiles}, mode 0644 whatever the
     * umask (a container's non-root user reads these): a reader, or a crash, sees the old content or
     * the new, never a part. The temp file is created {@code O_EXCL|O_NOFOLLOW} and the rename replaces
     * a symlink at {@code file} rather than following it. A rename gives a new inode: a copy already
     * bind-mounted into a running container keeps the old content, so write these before any
     * container of the pod is created. The directory is not created.
     *
     * @throws UncheckedIOException naming the file when it cannot be written
     */
    public static void write(Path file, String content) {
        try {
            AtomicFiles.write(file, content.getBytes(StandardCharsets.UTF_8), 0644);
        } catch (IOException e) {
            throw new UncheckedIOException("write pod file " + file + ": " + e.getMessage(), e);
        }
    }

    private static String readOrEmpty(Path hostFile) {
        try {
            return new String(Files.readAllBytes(hostFile), StandardCharsets.UTF_8); // never fails on bad bytes
        } catch (NoSuchFileException e) {
            return "";
        } catch (IOException e) {
            throw new UncheckedIOException("read the host's " + hostFile, e);
        }
    }
}
