package io.stevedore.server.grpc;

import static io.stevedore.server.grpc.Requests.requireImage;

import io.grpc.stub.StreamObserver;
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
import org.slf4j.event.Level;

/**
 * The CRI ImageService adapter. Like {@link RuntimeGrpcService}, it holds no logic: every call
 * goes through {@link Rpc}. Never log {@code PullImageRequest.auth}: only the image name is
 * passed to the edge's log.
 */
public final class ImageGrpcService extends ImageServiceGrpc.ImageServiceImplBase {
  private final Rpc rpc;
  private final ImageFsUsage fsUsage;

  public ImageGrpcService(Rpc rpc, ImageFsUsage fsUsage) {
    this.rpc = rpc;
    this.fsUsage = fsUsage;
  }

  @Override
  public void listImages(ListImagesRequest req, StreamObserver<ListImagesResponse> out) {
    rpc.notYet("ListImages", Level.DEBUG, "", out, () -> {});
  }

  @Override
  public void streamImages(StreamImagesRequest req, StreamObserver<StreamImagesResponse> out) {
    rpc.notYet("StreamImages", Level.DEBUG, "", out, () -> {});
  }

  @Override
  public void imageStatus(ImageStatusRequest req, StreamObserver<ImageStatusResponse> out) {
    rpc.notYet(
        "ImageStatus", Level.DEBUG, req.getImage().getImage(), out,
        () -> requireImage(req.hasImage(), req.getImage(), "image"));
  }

  @Override
  public void pullImage(PullImageRequest req, StreamObserver<PullImageResponse> out) {
    rpc.notYet(
        "PullImage", Level.INFO, req.getImage().getImage(), out,
        () -> requireImage(req.hasImage(), req.getImage(), "image"));
  }

  @Override
  public void removeImage(RemoveImageRequest req, StreamObserver<RemoveImageResponse> out) {
    rpc.notYet(
        "RemoveImage", Level.INFO, req.getImage().getImage(), out,
        () -> requireImage(req.hasImage(), req.getImage(), "image"));
  }

  @Override
  public void imageFsInfo(ImageFsInfoRequest req, StreamObserver<ImageFsInfoResponse> out) {
    rpc.unary("ImageFsInfo", Level.DEBUG, "", out, fsUsage::info);
  }
}
