package io.stevedore.server.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stevedore.cri.v1.Signal;
import java.util.Locale;
import java.util.OptionalInt;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class SignalsTest {
    record Case(String desc, String in, OptionalInt want) {
        @Override
        public String toString() {
            return desc;
        }
    }

    static Stream<Case> parseCases() {
        return Stream.of(
                new Case("full name", "SIGTERM", OptionalInt.of(15)),
                new Case("without SIG", "TERM", OptionalInt.of(15)),
                new Case("number", "15", OptionalInt.of(15)),
                new Case("lower case", "sigkill", OptionalInt.of(9)),
                new Case("mixed case, short", "Hup", OptionalInt.of(1)),
                new Case("surrounding blanks", "  SIGINT\n", OptionalInt.of(2)),
                new Case("alias", "SIGIOT", OptionalInt.of(6)),
                new Case("real-time max", "SIGRTMAX", OptionalInt.of(64)),
                new Case("highest number", "64", OptionalInt.of(64)),
                new Case("null", null, OptionalInt.empty()),
                new Case("empty", "", OptionalInt.empty()),
                new Case("blank", "   ", OptionalInt.empty()),
                new Case("unknown name", "nonsense", OptionalInt.empty()),
                new Case("SIG alone", "SIG", OptionalInt.empty()),
                new Case("number out of range", "99", OptionalInt.empty()),
                new Case("zero", "0", OptionalInt.empty()),
                new Case("negative", "-9", OptionalInt.empty()),
                new Case("leading zero", "015", OptionalInt.of(15)),
                new Case("number too big for an int", "99999999999", OptionalInt.empty()),
                new Case("non-ASCII digits", "\u0661\u0665", OptionalInt.empty()));
    }

    @ParameterizedTest
    @MethodSource("parseCases")
    void parse(Case c) {
        assertEquals(c.want(), Signals.parse(c.in()), c.desc());
    }

    @Test
    void stopSignal_criEnumSet_winsOverTheImage() {
        assertEquals(9, Signals.stopSignal(Signal.SIGKILL, "SIGINT"));
        assertEquals(2, Signals.stopSignal(Signal.SIGINT, ""));
    }

    @Test
    void stopSignal_criDefault_usesTheImageString() {
        assertEquals(2, Signals.stopSignal(Signal.RUNTIME_DEFAULT, "SIGINT"));
        assertEquals(3, Signals.stopSignal(Signal.RUNTIME_DEFAULT, "3"));
        assertEquals(28, Signals.stopSignal(Signal.RUNTIME_DEFAULT, "winch"));
    }

    /** SIGCLD is in the CRI enum (and in moby's signal table) as the old name of SIGCHLD. */
    @Test
    void stopSignal_criSigcld_isSigchld() {
        assertEquals(17, Signals.stopSignal(Signal.SIGCLD, ""));
        assertEquals(OptionalInt.of(17), Signals.parse("CLD"));
    }

    @Test
    void stopSignal_criUnrecognized_usesTheImageString() {
        assertEquals(1, Signals.stopSignal(Signal.UNRECOGNIZED, "SIGHUP"));
    }

    /** Upper-casing follows the default locale unless told not to: in Turkish "i" becomes "\u0130". */
    @Test
    void parse_underATurkishDefaultLocale_stillFindsNamesWithAnI() {
        Locale saved = Locale.getDefault();
        Locale.setDefault(Locale.forLanguageTag("tr-TR"));
        try {
            assertEquals(OptionalInt.of(2), Signals.parse("sigint"));
            assertEquals(OptionalInt.of(9), Signals.parse("kill"));
        } finally {
            Locale.setDefault(saved);
        }
    }

    /** The image config is untrusted input: a bad STOPSIGNAL must not make StopContainer throw. */
    @Test
    void stopSignal_imageNumberTooBigForAnInt_isSigterm() {
        assertEquals(15, Signals.stopSignal(Signal.RUNTIME_DEFAULT, "99999999999"));
    }

    @Test
    void stopSignal_neither_isSigterm() {
        assertEquals(15, Signals.stopSignal(Signal.RUNTIME_DEFAULT, ""));
        assertEquals(15, Signals.stopSignal(Signal.RUNTIME_DEFAULT, null));
    }

    @Test
    void stopSignal_unparsableImageString_isSigterm() {
        assertEquals(15, Signals.stopSignal(Signal.RUNTIME_DEFAULT, "SIGBOGUS"));
    }

    /** Every CRI enum value names a real signal, so a kubelet-supplied stop signal is never dropped. */
    @Test
    void stopSignal_everyCriEnumValue_mapsToASignalNotTheFallback() {
        for (Signal s : Signal.values()) {
            if (s == Signal.RUNTIME_DEFAULT || s == Signal.UNRECOGNIZED) continue;
            int n = Signals.stopSignal(s, "");
            // SIGTERM is the fallback, so only SIGTERM itself may yield 15
            if (s != Signal.SIGTERM) {
                assertTrue(n != 15 && n >= 1 && n <= 64, s + " -> " + n);
            }
        }
    }

    static Stream<Case> criRealTimeCases() {
        // Linux: SIGRTMIN is 34, SIGRTMAX 64 (kernel numbering, as runc and moby/sys/signal use)
        return Stream.of(
                new Case("SIGRTMINPLUS1", "SIGRTMINPLUS1", OptionalInt.of(35)),
                new Case("SIGRTMINPLUS15", "SIGRTMINPLUS15", OptionalInt.of(49)),
                new Case("SIGRTMAXMINUS14", "SIGRTMAXMINUS14", OptionalInt.of(50)),
                new Case("SIGRTMAXMINUS1", "SIGRTMAXMINUS1", OptionalInt.of(63)));
    }

    @ParameterizedTest
    @MethodSource("criRealTimeCases")
    void stopSignal_criEnumNamesWithoutAPlainSignalName(Case c) {
        assertEquals(c.want().getAsInt(), Signals.stopSignal(Signal.valueOf(c.in()), ""), c.desc());
    }

    @Test
    void toCri_sigkill() {
        assertEquals(Signal.SIGKILL, Signals.toCri(9));
    }

    @Test
    void toCri_sigterm() {
        assertEquals(Signal.SIGTERM, Signals.toCri(15));
    }

    @Test
    void toCri_aliasedNumber_isOneOfItsNames() {
        Signal s = Signals.toCri(6);
        assertTrue(s == Signal.SIGABRT || s == Signal.SIGIOT, s.toString());
    }

    @Test
    void toCri_numberWithoutAName_isRuntimeDefault() {
        assertEquals(Signal.RUNTIME_DEFAULT, Signals.toCri(0));
        assertEquals(Signal.RUNTIME_DEFAULT, Signals.toCri(99));
    }

    @Test
    void toCri_thenStopSignal_roundTripsEveryNamedSignal() {
        for (int n = 1; n <= 31; n++) {
            Signal s = Signals.toCri(n);
            if (s == Signal.RUNTIME_DEFAULT) continue;
            assertEquals(n, Signals.stopSignal(s, ""), s.toString());
        }
    }
}
