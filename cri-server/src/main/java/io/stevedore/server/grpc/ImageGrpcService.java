package io.stevedore.server.grpc;

import static io.stevedore.server.grpc.Requests.requireImage;

import io.grpc.Context;
import io.grpc.stub.StreamObserver;
import io.stevedore.cri.v1.AuthConfig;
import io.stevedore.cri.v1.Image;
import io.stevedore.cri.v1.ImageFsInfoRequest;
import io.stevedore.cri.v1.ImageFsInfoResponse;
import io.stevedore.cri.v1.ImageServiceGrpc;
import io.stevedore.cri.v1.ImageStatusRequest;
import io.stevedore.cri.v1.ImageStatusResponse;
import io.stevedore.cri.v1.ListImagesRequest;
import io.stevedore.cri.v1.ListImagesResponse;
import io.stevedore.cri.v1.PullImageRequest;
import io.stevedore.cri.v1.PullImageResponse;
import io.stevedore.cri.v1.RemoveImageRequest;
import io.stevedore.cri.v1.RemoveImageResponse;
import io.stevedore.cri.v1.StreamImagesRequest;
import io.stevedore.cri.v1.StreamImagesResponse;
import io.stevedore.server.image.ImageFsUsage;
import io.stevedore.server.image.ImageService;
import io.stevedore.server.image.registry.Credentials;
import io.stevedore.server.image.store.ImageRecord;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.Executor;
import org.slf4j.event.Level;

/**
 * The CRI ImageService adapter. Like {@link RuntimeGrpcService}, it holds no logic: every call
 * goes through {@link Rpc}. Never log {@code PullImageRequest.auth}: only the image name is
 * passed to the edge's log.
 */
public final class ImageGrpcService extends ImageServiceGrpc.ImageServiceImplBase {
    /** ListImages answers in one message; StreamImages sends this many images per message. */
    private static final int STREAM_CHUNK = 100;

    private final Rpc rpc;
    private final ImageService images;
    private final ImageFsUsage fsUsage;

    public ImageGrpcService(Rpc rpc, ImageService images, ImageFsUsage fsUsage) {
        this.rpc = rpc;
        this.images = images;
        this.fsUsage = fsUsage;
    }

    @Override
    public void listImages(ListImagesRequest req, StreamObserver<ListImagesResponse> out) {
        rpc.unary(
                "ListImages",
                Level.DEBUG,
                "",
                out,
                () -> ListImagesResponse.newBuilder()
                        .addAllImages(selected(
                                req.hasFilter() && req.getFilter().hasImage()
                                        ? req.getFilter().getImage().getImage()
                                        : ""))
                        .build());
    }

    @Override
    public void streamImages(StreamImagesRequest req, StreamObserver<StreamImagesResponse> out) {
        String filter = req.hasFilter() && req.getFilter().hasImage()
                ? req.getFilter().getImage().getImage()
                : "";
        rpc.serverStream("StreamImages", Level.DEBUG, out, send -> {
            List<Image> all = selected(filter);
            for (int i = 0; i < all.size(); i += STREAM_CHUNK) {
                send.accept(StreamImagesResponse.newBuilder()
                        .addAllImages(all.subList(i, Math.min(all.size(), i + STREAM_CHUNK)))
                        .build());
            }
        });
    }

    @Override
    public void imageStatus(ImageStatusRequest req, StreamObserver<ImageStatusResponse> out) {
        rpc.unary("ImageStatus", Level.DEBUG, req.getImage().getImage(), out, () -> {
            String image = requireImage(req.hasImage(), req.getImage(), "image").getImage();
            // The CRI: an image that is not present is an empty response, not an error.
            var found = images.find(image);
            if (found.isEmpty()) {
                return ImageStatusResponse.getDefaultInstance();
            }
            ImageRecord r = found.get();
            var res = ImageStatusResponse.newBuilder().setImage(ImageProtos.toProto(r, images.config(r)));
            if (req.getVerbose()) {
                res.putAllInfo(ImageProtos.verboseInfo(r, images.rawConfig(r)));
            }
            return res.build();
        });
    }

    @Override
    public void pullImage(PullImageRequest req, StreamObserver<PullImageResponse> out) {
        rpc.unary("PullImage", Level.INFO, req.getImage().getImage(), out, () -> {
            String image = requireImage(req.hasImage(), req.getImage(), "image").getImage();
            // A client that goes away, or whose deadline passes, cancels the pull: interrupt it.
            Thread puller = Thread.currentThread();
            Context.CancellationListener cancel = ctx -> puller.interrupt();
            Context.current().addListener(cancel, DIRECT);
            try {
                ImageRecord r = images.pull(image, credentials(req.getAuth()));
                return PullImageResponse.newBuilder().setImageRef(r.id()).build();
            } finally {
                Context.current().removeListener(cancel);
            }
        });
    }

    @Override
    public void removeImage(RemoveImageRequest req, StreamObserver<RemoveImageResponse> out) {
        rpc.unary("RemoveImage", Level.INFO, req.getImage().getImage(), out, () -> {
            images.remove(requireImage(req.hasImage(), req.getImage(), "image").getImage());
            return RemoveImageResponse.getDefaultInstance();
        });
    }

    @Override
    public void imageFsInfo(ImageFsInfoRequest req, StreamObserver<ImageFsInfoResponse> out) {
        rpc.unary("ImageFsInfo", Level.DEBUG, "", out, fsUsage::info);
    }

    private List<Image> selected(String filter) {
        Collection<ImageRecord> records = filter.isEmpty()
                ? images.list()
                : images.find(filter).map(List::of).orElse(List.of());
        return records.stream()
                .map(r -> ImageProtos.toProto(r, images.config(r)))
                .toList();
    }

    private static Credentials credentials(AuthConfig a) {
        return new Credentials(
                a.getUsername(), a.getPassword(), a.getAuth(), a.getIdentityToken(), a.getRegistryToken());
    }

    private static final Executor DIRECT = Runnable::run;
}
