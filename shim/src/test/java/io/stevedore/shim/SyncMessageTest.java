package io.stevedore.shim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class SyncMessageTest {
    @Test
    void parse_pid() {
        assertEquals(new SyncMessage.Pid(4242), SyncMessage.parse("{\"pid\":4242}\n"));
    }

    @Test
    void parse_errorWithEscapes_unescapes() {
        assertEquals(
                new SyncMessage.Failed("exec: \"nope\"\\ failed\nnext\u0001"),
                SyncMessage.parse("{\"error\":\"exec: \\\"nope\\\"\\\\ failed\\u000anext\\u0001\"}"));
    }

    @Test
    void parse_other_throws() {
        assertThrows(IllegalArgumentException.class, () -> SyncMessage.parse("{\"pid\":\"x\"}"));
        assertThrows(IllegalArgumentException.class, () -> SyncMessage.parse("hello"));
    }

    @Test
    void parse_longRuntimeError_noStackOverflow() {
        // Issue 11 item 5: a 1005-character command path made the old regex overflow the stack.
        String path = "/" + "a\\\"b".repeat(20_000);
        var m = SyncMessage.parse("{\"error\":\"exec: " + path + ": no such file\"}");
        assertEquals(true, ((SyncMessage.Failed) m).message().startsWith("exec: /a\"b"));
    }

    @Test
    void parse_bareQuoteOrBrokenEscape_throws() {
        assertThrows(IllegalArgumentException.class, () -> SyncMessage.parse("{\"error\":\"a\"b\"}"));
        assertThrows(IllegalArgumentException.class, () -> SyncMessage.parse("{\"error\":\"abc\\\"}"));
        assertThrows(IllegalArgumentException.class, () -> SyncMessage.parse("{\"error\":\"\\u12\"}"));
        assertThrows(IllegalArgumentException.class, () -> SyncMessage.parse("{\"pid\":99999999999}"));
    }

    @Test
    void parse_malformed_messageIsTruncated() {
        var e = assertThrows(IllegalArgumentException.class, () -> SyncMessage.parse("x".repeat(10_000)));
        assertEquals(true, e.getMessage().length() < 300, "echoed input is cut");
    }
}
