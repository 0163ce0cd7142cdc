package io.stevedore.server.state;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class UndoTest {
    private final List<String> ran = new ArrayList<>();

    @Test
    void close_notCommitted_runsActionsNewestFirst() {
        try (var undo = new Undo()) {
            undo.push(() -> ran.add("name"));
            undo.push(() -> ran.add("dir"));
            undo.push(() -> ran.add("netns"));
        }

        assertEquals(List.of("netns", "dir", "name"), ran);
    }

    @Test
    void close_committed_runsNothing() {
        try (var undo = new Undo()) {
            undo.push(() -> ran.add("name"));
            undo.commit();
        }

        assertEquals(List.of(), ran);
    }

    @Test
    void close_actionFails_runsTheRestAndAddsFailuresToTheCause() {
        var cause = new IllegalArgumentException("CNI ADD failed");
        var undoFailure = new IOException("umount failed");

        var thrown = assertThrows(IllegalArgumentException.class, () -> {
            try (var undo = new Undo()) {
                undo.push(() -> ran.add("name"));
                undo.push(() -> {
                    throw undoFailure;
                });
                undo.push(() -> ran.add("netns"));
                throw cause;
            }
        });

        assertSame(cause, thrown);
        assertEquals(List.of("netns", "name"), ran);
        assertEquals(1, thrown.getSuppressed().length);
        assertSame(undoFailure, thrown.getSuppressed()[0].getSuppressed()[0]);
    }

    @Test
    void close_afterAnError_stillUndoes() {
        assertThrows(StackOverflowError.class, () -> {
            try (var undo = new Undo()) {
                undo.push(() -> ran.add("cgroup"));
                throw new StackOverflowError();
            }
        });

        assertEquals(List.of("cgroup"), ran);
    }

    @Test
    void close_interrupted_runsActionsUninterruptedAndRestoresTheFlag() {
        var seen = new ArrayList<Boolean>();
        try (var undo = new Undo()) {
            undo.push(() -> seen.add(Thread.currentThread().isInterrupted()));
            Thread.currentThread().interrupt();
        }

        assertEquals(List.of(false), seen);
        assertTrue(Thread.interrupted(), "interrupt status restored");
    }

    @Test
    void close_twice_undoesOnce() {
        var undo = new Undo();
        undo.push(() -> ran.add("name"));

        undo.close();
        undo.close();

        assertEquals(List.of("name"), ran);
        assertFalse(Thread.currentThread().isInterrupted());
    }
}
