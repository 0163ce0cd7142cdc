package io.stevedore.server.image;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * Chain ids, the OCI image spec's name for a stack of layers: the first layer's chain id is its
 * diff id; each next one is {@code sha256(parentChainId + " " + diffId)}. Two images that share
 * their bottom layers share those chain ids, and so the unpacked snapshots.
 */
public final class ChainIds {
    private ChainIds() {}

    public static List<String> of(List<String> diffIds) {
        List<String> out = new ArrayList<>(diffIds.size());
        String parent = null;
        for (String diff : diffIds) {
            parent = parent == null ? diff : sha256(parent + " " + diff);
            out.add(parent);
        }
        return out;
    }

    private static String sha256(String s) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.US_ASCII));
            return "sha256:" + HexFormat.of().formatHex(d);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every JDK", e);
        }
    }
}
