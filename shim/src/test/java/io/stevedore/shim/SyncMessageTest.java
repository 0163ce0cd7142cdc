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
}
