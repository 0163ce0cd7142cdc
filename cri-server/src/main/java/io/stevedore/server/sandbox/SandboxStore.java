package io.stevedore.server.sandbox;

import io.stevedore.cri.v1.ContainerEventType;
import io.stevedore.cri.v1.PodSandboxStatus;
import io.stevedore.server.error.CriException;
import io.stevedore.server.events.LifecycleEvents;
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
import java.util.function.Supplier;

/**
 * The pods: an index by id in which a unique prefix names a pod too (containerd's truncindex),
 * the index of their unique names, and their records on disk. The maps take no lock; the lock
 * order is store, then pod ({@link Sandbox}).
 */
final class SandboxStore {
    private final RecordStore<SandboxRecord> records;
    private final Map<String, Sandbox> byId = new ConcurrentHashMap<>();
    private final NameIndex names = new NameIndex();
    private volatile LifecycleEvents events = LifecycleEvents.NONE;

    SandboxStore(Path recordDir) throws IOException {
        this.records = new RecordStore<>(recordDir, SandboxRecord.class, SandboxRecord.VERSION, SandboxRecord::migrate);
    }

    /**
     * The pod {@code idOrPrefix} names.
     *
     * @throws CriException.InvalidArgument if it is empty or a prefix of more than one id
     * @throws CriException.NotFound if it names no pod
     */
    Sandbox get(String idOrPrefix) {
        return find(idOrPrefix)
                .orElseThrow(() -> new CriException.NotFound("pod sandbox \"" + idOrPrefix + "\" not found"));
    }

    /**
     * The pod {@code idOrPrefix} names, if any.
     *
     * @throws CriException.InvalidArgument if it is empty or a prefix of more than one id
     */
    Optional<Sandbox> find(String idOrPrefix) {
        if (idOrPrefix == null || idOrPrefix.isEmpty()) {
            throw new CriException.InvalidArgument("pod sandbox id is empty");
        }
        Sandbox exact = byId.get(idOrPrefix);
        if (exact != null) return Optional.of(exact);
        List<Sandbox> matches = byId.values().stream()
                .filter(s -> s.id().startsWith(idOrPrefix))
                .limit(2)
                .toList();
        if (matches.size() > 1) {
            throw new CriException.InvalidArgument("pod sandbox id prefix \"" + idOrPrefix + "\" is ambiguous");
        }
        return matches.stream().findFirst();
    }

    /** The pod with exactly this id. */
    Optional<Sandbox> exact(String id) {
        return Optional.ofNullable(byId.get(id));
    }

    Collection<Sandbox> all() {
        return byId.values();
    }

    /** @return empty when {@code name} is now reserved for {@code id}; else the id that holds it */
    Optional<String> reserve(String name, String id) {
        return names.reserve(name, id);
    }

    void release(String name, String id) {
        names.release(name, id);
    }

    /** Where the pods' transitions are reported (GetContainerEvents); before recovery. */
    void setEvents(LifecycleEvents events) {
        this.events = events;
    }

    /**
     * Stores a new pod, reports it created and started (as containerd does for a sandbox, with its
     * id as the container id), then makes it visible; its name must be reserved already.
     */
    Sandbox add(SandboxMetadata metadata, SandboxStatus status) {
        var s = new Sandbox(metadata, status, this::write, this::changed);
        write(s.record());
        Supplier<PodSandboxStatus> now = () -> SandboxProtos.status(metadata, status);
        events.pod(ContainerEventType.CONTAINER_CREATED_EVENT, metadata.id(), now);
        events.pod(ContainerEventType.CONTAINER_STARTED_EVENT, metadata.id(), now);
        byId.put(metadata.id(), s);
        return s;
    }

    /**
     * A pod's change of state as an event: leaving READY (stopped, or found lost by recovery) is
     * STOPPED, and the end of a removal is DELETED, with the status it ended with.
     */
    private void changed(SandboxMetadata m, SandboxStatus before, SandboxStatus after) {
        ContainerEventType type;
        if (after.state() == SandboxStatus.State.REMOVED) {
            type = ContainerEventType.CONTAINER_DELETED_EVENT;
        } else if (before.state() == SandboxStatus.State.READY) {
            type = ContainerEventType.CONTAINER_STOPPED_EVENT;
        } else {
            return; // NOTREADY to STOPPED: its stop was reported when it left READY
        }
        events.pod(type, m.id(), () -> SandboxProtos.status(m, after));
    }

    /** Makes a loaded pod visible again, and reserves its name (recovery). */
    Sandbox restore(SandboxRecord r) {
        var s = new Sandbox(r.metadata(), r.status(), this::write, this::changed);
        byId.put(r.id(), s);
        names.reserve(r.metadata().name(), r.id());
        return s;
    }

    /** Forgets a pod: its record, then its id, then its name (so a new run may take the name). */
    void delete(Sandbox s) {
        records.remove(s.id());
        byId.remove(s.id(), s);
        names.release(s.metadata().name(), s.id());
    }

    /**
     * Every stored record. A file that cannot be read (corrupt, or a format version from a newer
     * daemon) is handed to {@code bad} with its id and the reason, and left where it is.
     */
    List<SandboxRecord> load(BiConsumer<String, Exception> bad) throws IOException {
        return records.loadAll((file, e) -> {
            String name = file.getFileName().toString();
            bad.accept(name.substring(0, name.length() - ".json".length()), e);
        });
    }

    /** The ids of records set aside as unreadable by an earlier start (see {@link RecordStore#setAside}). */
    java.util.Set<String> setAside() throws IOException {
        return records.setAside();
    }

    private void write(SandboxRecord r) {
        records.put(r.id(), r);
    }
}
