package io.stevedore.server.container;

import io.stevedore.server.error.CriException;
import io.stevedore.server.state.NameIndex;
import io.stevedore.server.state.RecordStore;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiConsumer;

/**
 * The containers the daemon knows: cells by id, the reserved names, and their records on disk
 * ({@code <root>/containers.meta/<id>.json}, format {@link ContainerRecord#FORMAT}). Ids given by a
 * client may be unique prefixes, as crictl users type them.
 */
final class ContainerStore {
    private final RecordStore<ContainerRecord> records;
    private final NameIndex names = new NameIndex();
    private final Map<String, ContainerCell> cells = new ConcurrentHashMap<>();
    private final ContainerTransitions transitions;

    ContainerStore(Path dir, ContainerTransitions transitions) throws IOException {
        this.records = new RecordStore<>(dir, ContainerRecord.class, ContainerRecord.FORMAT, ContainerRecord::migrate);
        this.transitions = transitions;
    }

    /** Every stored record; unreadable ones (and ones from a newer daemon) go to {@code bad}. */
    List<ContainerRecord> load(BiConsumer<Path, Exception> bad) throws IOException {
        return records.loadAll(bad);
    }

    /** The ids of records set aside as unreadable by an earlier start (see {@link RecordStore#setAside}). */
    java.util.Set<String> setAside() throws IOException {
        return records.setAside();
    }

    /** Reserves {@code name} for {@code id}; the current holder when another id has it. */
    Optional<String> reserve(String name, String id) {
        return names.reserve(name, id);
    }

    void release(String name, String id) {
        names.release(name, id);
    }

    /** Stores a record (create, every transition). */
    void persist(ContainerRecord r) {
        records.put(r.id(), r);
    }

    /** Adds a stored container to the index (recovery). */
    ContainerCell add(ContainerRecord r) {
        var cell = new ContainerCell(r, transitions);
        cells.put(r.id(), cell);
        return cell;
    }

    /**
     * Adds the container CreateContainer just stored, and reports it created: before it is
     * visible, so no event of its can come first.
     */
    ContainerCell addCreated(ContainerRecord r) {
        var cell = new ContainerCell(r, transitions);
        transitions.created(r);
        cells.put(r.id(), cell);
        return cell;
    }

    /** Forgets a container: its record, its name, its cell; and reports it deleted. */
    void remove(ContainerRecord r) {
        records.remove(r.id());
        cells.remove(r.id());
        names.release(r.name(), r.id());
        transitions.deleted(r);
    }

    /** By exact id, or null. */
    ContainerCell exact(String id) {
        return cells.get(id);
    }

    /**
     * By id or unique prefix.
     *
     * @throws CriException.NotFound when none matches
     * @throws CriException.InvalidArgument when the prefix is empty or matches more than one
     */
    ContainerCell get(String id) {
        return find(id).orElseThrow(() -> new CriException.NotFound("container \"" + id + "\" not found"));
    }

    /** By id or unique prefix; empty when none matches. */
    Optional<ContainerCell> find(String id) {
        if (id == null || id.isEmpty()) throw new CriException.InvalidArgument("container id is empty");
        ContainerCell c = cells.get(id);
        if (c != null) return Optional.of(c);
        var matches = cells.values().stream().filter(m -> m.id().startsWith(id)).toList();
        if (matches.size() > 1) {
            throw new CriException.InvalidArgument(
                    "container id prefix \"" + CriException.shown(id) + "\" is ambiguous");
        }
        return matches.stream().findFirst();
    }

    Collection<ContainerCell> all() {
        return cells.values();
    }

    List<ContainerCell> inSandbox(String sandboxId) {
        return cells.values().stream()
                .filter(c -> c.record().sandboxId().equals(sandboxId))
                .toList();
    }

    boolean contains(String id) {
        return cells.containsKey(id);
    }
}
