package io.stevedore.server.grpc;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.stevedore.cri.v1.Image;
import io.stevedore.cri.v1.ImageSpec;
import io.stevedore.cri.v1.Int64Value;
import io.stevedore.server.image.manifest.ImageConfig;
import io.stevedore.server.image.store.ImageRecord;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Map;

/** Image records as the CRI shows them. */
final class ImageProtos {
    private static final ObjectMapper JSON = new ObjectMapper();

    private ImageProtos() {}

    /**
     * The CRI {@code Image}. The config's {@code User} gives {@code uid} when it is numeric and
     * {@code username} otherwise (a {@code user:group} pair is cut at the colon), and neither when it
     * is empty, exactly as containerd reports it; kubelet's runAsNonRoot check reads these.
     */
    static Image toProto(ImageRecord r, ImageConfig config) {
        var b = Image.newBuilder()
                .setId(r.id())
                .addAllRepoTags(r.repoTags())
                .addAllRepoDigests(r.repoDigests())
                .setSize(r.size())
                .setSpec(ImageSpec.newBuilder().setImage(r.id()))
                .setPinned(r.pinned());
        String user = config.user() == null ? "" : config.user().split(":", 2)[0];
        if (!user.isEmpty()) {
            try {
                b.setUid(Int64Value.newBuilder().setValue(Long.parseLong(user)));
            } catch (NumberFormatException nonNumeric) {
                b.setUsername(user);
            }
        }
        return b.build();
    }

    /** {@code ImageStatus(verbose)} info: the top chain id and the image config, as containerd gives. */
    static Map<String, String> verboseInfo(ImageRecord r, byte[] rawConfig) {
        try {
            ObjectNode info = JSON.createObjectNode();
            info.put("chainID", r.chainIds().isEmpty() ? "" : r.chainIds().getLast());
            info.set("imageSpec", JSON.readTree(rawConfig));
            return Map.of("info", JSON.writeValueAsString(info));
        } catch (IOException e) {
            throw new UncheckedIOException("describe image " + r.id(), e);
        }
    }
}
