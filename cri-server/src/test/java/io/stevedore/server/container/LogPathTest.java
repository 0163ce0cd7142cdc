package io.stevedore.server.container;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.stevedore.server.error.CriException;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class LogPathTest {
  @ParameterizedTest
  @ValueSource(strings = {"", "c.log", "nginx/0.log", "a/b/c/3.log", "weird name.log"})
  void checkLogPath_beneathThePodLogDirectory_isAccepted(String p) {
    assertDoesNotThrow(() -> ContainerService.checkLogPath(p));
  }

  @ParameterizedTest
  @ValueSource(strings = {"/etc/cron.d/x", "../x.log", "a/../../x.log", "a//b.log", "./a.log", "a/.", "a/", "a\nb.log",
      "a\u0000b"})
  void checkLogPath_escapingOrOdd_isInvalidArgument(String p) {
    assertThrows(CriException.InvalidArgument.class, () -> ContainerService.checkLogPath(p));
  }
}
