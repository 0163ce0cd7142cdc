package io.stevedore.server.container;

import io.stevedore.cri.v1.ContainerConfig;
import io.stevedore.cri.v1.Mount;
import io.stevedore.server.container.spec.HostInputs;
import io.stevedore.server.error.CriException;
import io.stevedore.server.image.store.ImageRecord;
import io.stevedore.server.state.Undo;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Image volumes (KEP-4639, {@code Mount.image} and {@code image_sub_path}): a pulled image's layers
 * mounted read-only ({@link Rootfs#mountReadOnly}) at {@code <bundle>/image-volumes/<index>}, one
 * per such mount, made by CreateContainer and bound into the container by its spec. They live under
 * the bundle so that whatever releases or discards a bundle unmounts them first ({@link
 * #unmountBundle}), exactly as it unmounts the rootfs: removal, a failed start, an exit, and
 * recovery of a bundle no container owns.
 *
 * <p>The image must be pulled already: the kubelet pulls it first (NOT_FOUND otherwise, as for the
 * container's own image). {@code image_sub_path} is relative and names something inside the image:
 * an absolute path, a {@code ..} component or a symbolic link that leads out of the image is
 * INVALID_ARGUMENT, and so is a sub-path the image does not have. Links inside the image are
 * followed there, so runc binds what the image means rather than what the host has at that path.
 */
final class ImageVolumes {
    static final String DIR = "image-volumes";
    private static final int MAX_LINKS = 40; // the kernel's limit on links followed in one lookup

    /**
     * What {@link #mount} made.
     *
     * @param sources what to bind for each image volume, by its index in the CRI mounts
     * @param layers the chain ids of every volume's layers, kept from image garbage collection
     */
    record Mounted(Map<Integer, Path> sources, List<String> layers) {}

    private ImageVolumes() {}

    /**
     * Mounts each image volume of {@code cfg} under {@code bundle}, pushing an unmount on {@code undo}
     * after each.
     *
     * @throws CriException.NotFound when a volume's image is not pulled
     * @throws CriException.InvalidArgument for a sub-path outside the image or not in it
     */
    static Mounted mount(ContainerEnv env, ContainerConfig cfg, Path bundle, Undo undo, String action)
            throws IOException {
        Map<Integer, Path> sources = new HashMap<>();
        var layers = new LinkedHashSet<String>();
        for (int i = 0; i < cfg.getMountsCount(); i++) {
            Mount m = cfg.getMounts(i);
            if (!HostInputs.isImageVolume(m)) continue;
            String what = "%s: image volume \"%s\"".formatted(action, CriException.shown(m.getContainerPath()));
            List<String> subPath = subPathParts(m.getImageSubPath(), what);
            String ref = m.getImage().getImage();
            ImageRecord image = env.images()
                    .find(ref)
                    .orElseThrow(() -> new CriException.NotFound(
                            "%s: image \"%s\" not found".formatted(what, CriException.shown(ref))));
            Path target = bundle.resolve(DIR).resolve(Integer.toString(i));
            env.rootfs().mountReadOnly(env.images().layers(image), target);
            undo.push(() -> env.rootfs().unmount(target));
            layers.addAll(image.chainIds());
            sources.put(i, subPath.isEmpty() ? target : resolveInImage(target, subPath, m.getImageSubPath(), what));
        }
        return new Mounted(sources, List.copyOf(layers));
    }

    /**
     * Unmounts the bundle's image volumes, then its rootfs; what is not mounted is skipped. The
     * rootfs goes last: while it is still mounted, recovery knows a release was cut short.
     */
    static void unmountBundle(Rootfs rootfs, Path bundle) throws IOException {
        Path dir = bundle.resolve(DIR);
        if (Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            try (Stream<Path> s = Files.list(dir)) {
                for (Path p : s.toList()) {
                    rootfs.unmount(p);
                }
            }
        }
        rootfs.unmount(bundle.resolve("rootfs"));
    }

    /** The components of a sub-path, checked: relative, no {@code ..}, no control characters. */
    static List<String> subPathParts(String subPath, String what) {
        if (subPath.isEmpty()) return List.of();
        String problem = null;
        if (subPath.length() > 4096 || subPath.chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
            problem = "is too long or has control characters";
        } else if (subPath.startsWith("/")) {
            problem = "is absolute";
        }
        var parts = new ArrayList<String>();
        for (String p : subPath.split("/")) {
            if (p.equals("..")) problem = problem == null ? "leaves the image (..)" : problem;
            if (!p.isEmpty() && !p.equals(".")) parts.add(p);
        }
        if (problem != null) {
            throw new CriException.InvalidArgument("%s: image_sub_path \"%s\" %s: it must be a path inside the image"
                    .formatted(what, CriException.shown(subPath), problem));
        }
        return parts;
    }

    /**
     * {@code parts} resolved beneath {@code root}, the mounted image: relative links are followed
     * inside it; an absolute link, or one whose {@code ..} climbs above {@code root}, leads out of the
     * image and is refused. The image is read-only, so nothing can change between this and the bind.
     */
    static Path resolveInImage(Path root, List<String> parts, String subPath, String what) throws IOException {
        Deque<String> todo = new ArrayDeque<>(parts);
        Deque<String> done = new ArrayDeque<>();
        int links = 0;
        while (!todo.isEmpty()) {
            String part = todo.pollFirst();
            if (part.isEmpty() || part.equals(".")) continue;
            if (part.equals("..")) {
                if (done.isEmpty()) throw outside(subPath, what, "a symbolic link climbs above the image");
                done.pollLast();
                continue;
            }
            Path candidate = join(root, done).resolve(part);
            if (Files.isSymbolicLink(candidate)) {
                if (++links > MAX_LINKS) throw outside(subPath, what, "too many symbolic links");
                String target = Files.readSymbolicLink(candidate).toString();
                if (target.startsWith("/")) throw outside(subPath, what, "a symbolic link points outside the image");
                String[] t = target.split("/");
                for (int i = t.length - 1; i >= 0; i--) todo.addFirst(t[i]);
                continue;
            }
            if (!Files.exists(candidate, LinkOption.NOFOLLOW_LINKS)) {
                throw new CriException.InvalidArgument("%s: image_sub_path \"%s\" does not exist in the image"
                        .formatted(what, CriException.shown(subPath)));
            }
            done.addLast(part);
        }
        return join(root, done);
    }

    private static CriException.InvalidArgument outside(String subPath, String what, String why) {
        return new CriException.InvalidArgument(
                "%s: image_sub_path \"%s\" leaves the image: %s".formatted(what, CriException.shown(subPath), why));
    }

    private static Path join(Path root, Deque<String> parts) {
        Path p = root;
        for (String s : parts) p = p.resolve(s);
        return p;
    }
}
