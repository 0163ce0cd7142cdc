package io.stevedore.cni;

import io.stevedore.cni.internal.ConfParser;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Loads network configuration the way libcni-based runtimes do: the candidate files of a conf dir are the
 * regular files ending in {@code .conflist}, {@code .conf} or {@code .json}, sorted by name, and the first
 * one is the network. A single-plugin file is wrapped into a one-entry list. Stateless and thread-safe.
 *
 * {@snippet :
 * Optional<NetworkConfigList> net = NetworkConfigs.loadFirst(Path.of("/etc/cni/net.d"));
 * }
 */
public final class NetworkConfigs {
    /** The extensions a conf dir is scanned for. */
    public static final Set<String> EXTENSIONS = Set.of(".conflist", ".conf", ".json");

    private NetworkConfigs() {}

    /** The candidate files of {@code dir}, sorted by name; empty when the dir does not exist. */
    public static List<Path> confFiles(Path dir) throws CniException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(Files::isRegularFile)
                    .filter(p -> EXTENSIONS.stream()
                            .anyMatch(ext -> p.getFileName().toString().endsWith(ext)))
                    .sorted((a, b) ->
                            a.getFileName().toString().compareTo(b.getFileName().toString()))
                    .toList();
        } catch (NoSuchFileException e) {
            return List.of();
        } catch (IOException e) {
            throw new CniException("list CNI conf dir " + dir + ": " + e.getMessage(), e);
        }
    }

    /**
     * The network from the first candidate file of {@code dir}, or empty when there is none.
     *
     * @throws CniException when that file cannot be read or is invalid; the message names the file
     */
    public static Optional<NetworkConfigList> loadFirst(Path dir) throws CniException {
        List<Path> files = confFiles(dir);
        return files.isEmpty() ? Optional.empty() : Optional.of(load(files.getFirst()));
    }

    /** Loads one file ({@code .conflist}, or a single plugin config). */
    public static NetworkConfigList load(Path file) throws CniException {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new CniException("load CNI config " + file + ": " + e, e);
        }
        return ConfParser.parse(text, file.toString(), file);
    }

    /** Parses configuration JSON from elsewhere; {@code origin} names it in errors. */
    public static NetworkConfigList parse(String json, String origin) throws CniException {
        return ConfParser.parse(json, origin, null);
    }
}
