package io.stevedore.server.state;

import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Unique names to ids, like containerd's name index: a name is reserved before the object exists
 * and released when it is removed (or its creation failed), so two concurrent creates with one
 * name cannot both succeed.
 */
public final class NameIndex {
    private final ConcurrentHashMap<String, String> byName = new ConcurrentHashMap<>();

    /**
     * Reserves {@code name} for {@code id}.
     *
     * @return empty when reserved (or already reserved for this id); else the id holding the name
     */
    public Optional<String> reserve(String name, String id) {
        String prev = byName.putIfAbsent(name, id);
        return prev == null || prev.equals(id) ? Optional.empty() : Optional.of(prev);
    }

    /** Releases {@code name} if {@code id} holds it. */
    public void release(String name, String id) {
        byName.remove(name, id);
    }

    public Optional<String> get(String name) {
        return Optional.ofNullable(byName.get(name));
    }
}
