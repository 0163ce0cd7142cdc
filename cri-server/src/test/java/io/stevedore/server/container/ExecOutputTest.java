package io.stevedore.server.container;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class ExecOutputTest {
    @Test
    void outputWithinTheBound_isKeptWhole_withoutMarker() {
        var budget = new ExecOutput(100, 400);
        try (var call = budget.open()) {
            var out = call.stream();
            out.append("hello".getBytes(StandardCharsets.UTF_8), 0, 5);
            assertEquals("hello", out.bytes().toStringUtf8());
        }
        assertEquals(0, budget.used());
    }

    @Test
    void stdoutAndStderrShareOneCallsBound_andTheCutStreamSaysSo() {
        var budget = new ExecOutput(100, 400);
        try (var call = budget.open()) {
            var out = call.stream();
            var err = call.stream();
            out.append(filled(70), 0, 70);
            err.append(filled(70), 0, 70);
            assertEquals(70, out.bytes().size(), "the first stream is whole");
            String e = err.bytes().toStringUtf8();
            assertTrue(e.startsWith("x".repeat(30) + ExecOutput.marker(30)), e);
            assertEquals(100, budget.used());
        }
        assertEquals(0, budget.used(), "closing the call returns its bytes");
    }

    @Test
    void callsInFlightShareTheDaemonWideBound() {
        var budget = new ExecOutput(100, 150);
        try (var a = budget.open();
                var b = budget.open()) {
            var sa = a.stream();
            var sb = b.stream();
            sa.append(filled(100), 0, 100);
            sb.append(filled(100), 0, 100);
            assertEquals(100, sa.bytes().size());
            assertTrue(sb.bytes().toStringUtf8().endsWith(ExecOutput.marker(50)));
        }
        assertEquals(0, budget.used());
    }

    @Test
    void manyChunks_comeBackInOrder() {
        var budget = new ExecOutput(1 << 20, 1 << 22);
        byte[] all = new byte[300_000];
        for (int i = 0; i < all.length; i++) all[i] = (byte) i;
        try (var call = budget.open()) {
            var out = call.stream();
            for (int off = 0; off < all.length; off += 8192) {
                out.append(all, off, Math.min(8192, all.length - off));
            }
            assertTrue(Arrays.equals(all, out.bytes().toByteArray()));
        }
    }

    private static byte[] filled(int n) {
        byte[] b = new byte[n];
        Arrays.fill(b, (byte) 'x');
        return b;
    }
}
