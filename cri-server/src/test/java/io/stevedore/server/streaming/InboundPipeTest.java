package io.stevedore.server.streaming;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.io.IOException;
import org.junit.jupiter.api.Test;

class InboundPipeTest {
    @Test
    void read_afterFinish_drainsThenEof() throws IOException {
        var ch = new EmbeddedChannel();
        var pipe = new InboundPipe(new InboundPipe.Throttle(ch));
        pipe.offer(Unpooled.wrappedBuffer(new byte[] {1, 2, 3}));
        pipe.finish();
        byte[] b = new byte[8];
        assertEquals(3, pipe.read(b, 0, 8));
        assertArrayEquals(new byte[] {1, 2, 3}, java.util.Arrays.copyOf(b, 3));
        assertEquals(-1, pipe.read(b, 0, 8));
        assertNull(pipe.readChunk());
    }

    @Test
    void fail_dropsWhatIsQueued_andReadsThrow() {
        var ch = new EmbeddedChannel();
        var pipe = new InboundPipe(new InboundPipe.Throttle(ch));
        var buf = Unpooled.buffer().writeBytes(new byte[] {1});
        pipe.offer(buf);
        pipe.fail("client went away");
        assertEquals(0, buf.refCnt(), "queued buffers are released");
        assertThrows(IOException.class, () -> pipe.read(new byte[1], 0, 1));
    }

    @Test
    void throttle_stopsReadingAboveHighWater_andResumesOnceDrained() throws IOException {
        var ch = new EmbeddedChannel();
        var throttle = new InboundPipe.Throttle(ch);
        var pipe = new InboundPipe(throttle);
        int chunk = 64 << 10;
        int offered = 0;
        for (long queued = 0; queued <= InboundPipe.HIGH_WATER; queued += chunk) {
            pipe.offer(Unpooled.wrappedBuffer(new byte[chunk]));
            offered++;
        }
        assertFalse(ch.config().isAutoRead(), "above the high-water mark the socket is not read");
        var c = pipe.readChunk();
        c.release();
        ch.runPendingTasks();
        assertFalse(ch.config().isAutoRead(), "still above the low-water mark");
        for (int i = 1; i < offered; i++) {
            pipe.readChunk().release();
        }
        ch.runPendingTasks();
        assertTrue(ch.config().isAutoRead(), "drained: reading again");
    }
}
