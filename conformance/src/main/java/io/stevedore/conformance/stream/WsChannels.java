package io.stevedore.conformance.stream;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.net.SocketTimeoutException;
import java.util.Arrays;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The channel framing of the {@code channel.k8s.io} WebSocket family over a {@link WsClient}: a
 * binary message's first byte is its channel; with {@code base64.channel.k8s.io} (and {@code
 * v4.base64.channel.k8s.io}) messages are text, the first character {@code '0'+channel}, the rest
 * base64. A reader thread sorts the server's messages into one input stream per channel; all end
 * when the WebSocket does. {@code v5.channel.k8s.io} adds {@link #closeChannel}: the message
 * {@code [255, channel]} half-closes a channel towards the server.
 */
public final class WsChannels implements AutoCloseable {
    /** The v5 CLOSE signal's channel byte. */
    public static final int CLOSE = 255;

    private static final int CHUNK = 32 * 1024;
    private static final Object EOF = new Object();

    private final WsClient ws;
    private final boolean base64;
    private final Map<Integer, BlockingQueue<Object>> channels = new ConcurrentHashMap<>();
    private final Thread reader;
    private volatile Message first;
    private volatile Object ended;

    /** A message as received: its channel and payload (decoded). */
    public record Message(int channel, byte[] data) {
        @Override
        public String toString() {
            return "channel " + channel + ": " + data.length + " bytes "
                    + Arrays.toString(Arrays.copyOf(data, Math.min(16, data.length)));
        }
    }

    public WsChannels(WsClient ws) {
        this.ws = ws;
        String p = ws.subprotocol() == null ? "" : ws.subprotocol();
        this.base64 = p.equals("base64.channel.k8s.io") || p.equals("v4.base64.channel.k8s.io");
        this.reader = Thread.ofVirtual().name("ws-channels").start(this::readLoop);
    }

    public WsClient client() {
        return ws;
    }

    /** The first message the server sent, once one has arrived (null before). */
    public Message firstMessage() {
        return first;
    }

    private BlockingQueue<Object> queue(int channel) {
        return channels.computeIfAbsent(channel, c -> {
            var q = new LinkedBlockingQueue<Object>();
            if (ended != null) {
                q.add(ended);
            }
            return q;
        });
    }

    private void readLoop() {
        Object end = EOF;
        try {
            WsClient.Message m;
            while ((m = ws.receive(Long.MAX_VALUE)) != null) {
                Message msg = decode(m);
                if (msg == null) {
                    continue;
                }
                if (first == null) {
                    first = msg;
                }
                if (msg.data().length > 0) {
                    queue(msg.channel()).add(msg.data());
                }
            }
        } catch (IOException e) {
            end = e;
        }
        ended = end;
        for (var q : channels.values()) {
            q.add(end);
        }
    }

    private Message decode(WsClient.Message m) throws IOException {
        if (m.data().length == 0) {
            return null;
        }
        if (base64) {
            if (!m.text()) {
                throw new IOException("binary message on a base64 protocol");
            }
            int ch = m.data()[0] - '0';
            byte[] payload = Base64.getDecoder().decode(Arrays.copyOfRange(m.data(), 1, m.data().length));
            return new Message(ch, payload);
        }
        if (m.text()) {
            throw new IOException("text message on a binary channel protocol");
        }
        return new Message(m.data()[0] & 0xff, Arrays.copyOfRange(m.data(), 1, m.data().length));
    }

    /** Sends {@code data} on {@code channel}, in messages of at most 32 KiB. */
    public void write(int channel, byte[] data, int off, int len) throws IOException {
        do {
            int n = Math.min(len, CHUNK);
            if (base64) {
                ws.sendText((char) ('0' + channel)
                        + Base64.getEncoder().encodeToString(Arrays.copyOfRange(data, off, off + n)));
            } else {
                byte[] m = new byte[n + 1];
                m[0] = (byte) channel;
                System.arraycopy(data, off, m, 1, n);
                ws.sendBinary(m);
            }
            off += n;
            len -= n;
        } while (len > 0);
    }

    /** v5 only: tells the server nothing more comes on {@code channel} ({@code [255, channel]}). */
    public void closeChannel(int channel) throws IOException {
        ws.sendBinary(new byte[] {(byte) CLOSE, (byte) channel});
    }

    /** What the server sends on {@code channel}, until the WebSocket ends. */
    public InputStream input(int channel) {
        return new Input(channel, queue(channel));
    }

    /** Writes to {@code channel}; {@code close()} does nothing (see {@link #closeChannel}). */
    public OutputStream output(int channel) {
        return new OutputStream() {
            @Override
            public void write(int b) throws IOException {
                write(new byte[] {(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                WsChannels.this.write(channel, b, off, len);
            }
        };
    }

    @Override
    public void close() {
        ws.close();
    }

    public void abort() {
        ws.abort();
    }

    private final class Input extends InputStream {
        private final int channel;
        private final BlockingQueue<Object> queue;
        private byte[] current;
        private int pos;
        private Object end;

        Input(int channel, BlockingQueue<Object> queue) {
            this.channel = channel;
            this.queue = queue;
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
            if (current == null || pos == current.length) {
                if (end != null) {
                    return finish();
                }
                Object o;
                try {
                    o = queue.poll(ws.timeout().toMillis(), TimeUnit.MILLISECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new InterruptedIOException();
                }
                if (o == null) {
                    throw new SocketTimeoutException("nothing on channel " + channel + " within " + ws.timeout());
                }
                if (!(o instanceof byte[] data)) {
                    end = o;
                    queue.add(o); // later readers of this channel see the end too
                    return finish();
                }
                current = data;
                pos = 0;
            }
            int n = Math.min(len, current.length - pos);
            System.arraycopy(current, pos, b, off, n);
            pos += n;
            return n;
        }

        private int finish() throws IOException {
            if (end == EOF) {
                return -1;
            }
            throw new IOException("WebSocket failed", (IOException) end);
        }
    }
}
