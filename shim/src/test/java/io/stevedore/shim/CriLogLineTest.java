package io.stevedore.shim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Instant;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class CriLogLineTest {
    record Case(String desc, String line, CriLogLine expected) {}

    static Stream<Case> valid() {
        Instant t = Instant.parse("2026-11-22T22:22:19.123456789Z");
        return Stream.of(
                new Case(
                        "full stdout",
                        "2026-11-22T22:22:19.123456789Z stdout F hello world",
                        new CriLogLine(t, StdStream.STDOUT, false, "hello world")),
                new Case(
                        "partial stderr",
                        "2026-11-22T22:22:19.123456789Z stderr P abc",
                        new CriLogLine(t, StdStream.STDERR, true, "abc")),
                new Case(
                        "empty line",
                        "2026-11-22T22:22:19.123456789Z stdout F ",
                        new CriLogLine(t, StdStream.STDOUT, false, "")),
                new Case(
                        "spaces kept",
                        "2026-11-22T22:22:19.123456789Z stdout F  a  b ",
                        new CriLogLine(t, StdStream.STDOUT, false, " a  b ")));
    }

    @ParameterizedTest
    @MethodSource("valid")
    void parse_valid_givesFields(Case c) {
        assertEquals(c.expected(), CriLogLine.parse(c.line()), c.desc());
    }

    @ParameterizedTest
    @MethodSource("valid")
    void format_roundTrips(Case c) {
        assertEquals(c.expected(), CriLogLine.parse(c.expected().format()), c.desc());
    }

    static Stream<String> invalid() {
        return Stream.of(
                "",
                "hello",
                "2026-11-22T22:22:19Z stdin F x",
                "2026-11-22T22:22:19Z stdout X x",
                "yesterday stdout F x");
    }

    @ParameterizedTest
    @MethodSource("invalid")
    void parse_malformed_throws(String line) {
        assertThrows(IllegalArgumentException.class, () -> CriLogLine.parse(line));
    }
}
