package io.stevedore.conformance.registry;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A test image that can run shell commands: the host's static busybox (Debian {@code
 * busybox-static}) with its applets linked into {@code /bin}. Built and pushed by the test itself.
 */
public final class BusyboxImage {
    public static final Path BUSYBOX = Path.of("/bin/busybox");
    private static final List<String> APPLETS = List.of(
            "sh",
            "sleep",
            "echo",
            "cat",
            "head",
            "tr",
            "ps",
            "hostname",
            "ls",
            "yes",
            "dd",
            "mount",
            "ip",
            "httpd",
            "grep",
            "true",
            "false",
            "wc",
            "mkdir",
            "id",
            "nc",
            "pgrep");

    private BusyboxImage() {}

    /** Pushes {@code <repo>:<tag>} and returns its reference. */
    public static TestImages.Pushed push(TestImages images, String repo, String tag)
            throws IOException, InterruptedException {
        var entries = new ArrayList<TarWriter.Entry>();
        for (String d : List.of("bin", "etc", "tmp", "proc", "sys", "dev", "root", "www")) {
            entries.add(TarWriter.Entry.dir(d, d.equals("tmp") ? 01777 : 0755));
        }
        entries.add(TarWriter.Entry.file("bin/busybox", Files.readAllBytes(BUSYBOX), 0755));
        for (String a : APPLETS) {
            entries.add(TarWriter.Entry.symlink("bin/" + a, "busybox"));
        }
        entries.add(TarWriter.Entry.file(
                "etc/passwd", "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534::/:/bin/false\n", 0644));
        entries.add(TarWriter.Entry.file("etc/group", "root:x:0:\nnogroup:x:65534:\n", 0644));
        entries.add(TarWriter.Entry.file("www/index.html", "hi from the pod\n", 0644));
        return images.push(repo, tag, TestImages.Config.cmd("/bin/sh"), entries);
    }
}
