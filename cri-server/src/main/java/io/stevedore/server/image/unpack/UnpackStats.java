package io.stevedore.server.image.unpack;

/** What one layer held: entries unpacked and bytes of file content written. */
public record UnpackStats(long entries, long bytes) {}
