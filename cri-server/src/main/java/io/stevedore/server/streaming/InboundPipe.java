package io.stevedore.server.streaming;

import io.netty.channel.Channel;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.util.ArrayDeque;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Bytes a client sends on one stream (stdin, a port-forward's data, resize messages), handed from
 * the connection's event loop to a blocking reader. The event loop never blocks: it queues the
 * chunk, and when a connection has more than {@link #HIGH_WATER} bytes queued over all its pipes it
 * stops reading from the socket (TCP then pushes back on the client) until readers drained it below
 * {@link #LOW_WATER}. That is the only flow control a kubelet-compatible client honours: spdystream
 * ignores SPDY's WINDOW_UPDATE.
 *
 * <p>One writer (the event loop) and one reader thread.
 */
final class InboundPipe extends InputStream {
  static final long HIGH_WATER = 1 << 20;
  static final long LOW_WATER = 256 << 10;

  private final Throttle throttle;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition changed = lock.newCondition();
  // guarded by lock
  private final ArrayDeque<byte[]> chunks = new ArrayDeque<>();
  private int headOffset;
  private boolean eof;
  private String failure;

  InboundPipe(Throttle throttle) {
    this.throttle = throttle;
  }

  /** Queues a chunk (event loop). Dropped after {@link #finish} or {@link #fail}. */
  void offer(byte[] chunk) {
    if (chunk.length == 0) {
      return;
    }
    lock.lock();
    try {
      if (eof || failure != null) {
        return;
      }
      chunks.add(chunk);
      changed.signalAll();
    } finally {
      lock.unlock();
    }
    throttle.added(chunk.length);
  }

  /** The client closed this stream: readers see EOF after what is queued. */
  void finish() {
    lock.lock();
    try {
      eof = true;
      changed.signalAll();
    } finally {
      lock.unlock();
    }
  }

  /** The connection is gone: readers fail at once, queued bytes are dropped. */
  void fail(String why) {
    long dropped = 0;
    lock.lock();
    try {
      if (failure == null) {
        failure = why;
      }
      for (byte[] c : chunks) {
        dropped += c.length;
      }
      dropped -= headOffset;
      chunks.clear();
      headOffset = 0;
      changed.signalAll();
    } finally {
      lock.unlock();
    }
    throttle.consumed(dropped);
  }

  @Override
  public int read() throws IOException {
    byte[] one = new byte[1];
    return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
  }

  @Override
  public int read(byte[] b, int off, int len) throws IOException {
    if (len == 0) {
      return 0;
    }
    int n = 0;
    lock.lock();
    try {
      while (chunks.isEmpty() && !eof && failure == null) {
        changed.await();
      }
      if (failure != null) {
        throw new IOException(failure);
      }
      while (n < len && !chunks.isEmpty()) {
        byte[] head = chunks.peek();
        int k = Math.min(len - n, head.length - headOffset);
        System.arraycopy(head, headOffset, b, off + n, k);
        n += k;
        headOffset += k;
        if (headOffset == head.length) {
          chunks.poll();
          headOffset = 0;
        }
      }
      if (n == 0) {
        return -1; // eof and drained
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted reading a client stream");
    } finally {
      lock.unlock();
    }
    throttle.consumed(n);
    return n;
  }

  /**
   * Per connection: bytes queued in its pipes, and the socket's auto-read switched off above the
   * high-water mark and on again below the low one.
   */
  static final class Throttle {
    private final Channel channel;
    private final AtomicLong queued = new AtomicLong();

    Throttle(Channel channel) {
      this.channel = channel;
    }

    /** Called on the event loop. */
    void added(long n) {
      if (queued.addAndGet(n) > HIGH_WATER && channel.config().isAutoRead()) {
        channel.config().setAutoRead(false);
      }
    }

    void consumed(long n) {
      if (n > 0 && queued.addAndGet(-n) < LOW_WATER) {
        channel.eventLoop().execute(() -> {
          if (queued.get() < LOW_WATER && !channel.config().isAutoRead()) {
            channel.config().setAutoRead(true);
          }
        });
      }
    }
  }
}
