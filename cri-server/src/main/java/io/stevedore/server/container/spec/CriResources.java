package io.stevedore.server.container.spec;

import io.stevedore.cri.v1.HugepageLimit;
import io.stevedore.cri.v1.LinuxContainerResources;
import io.stevedore.oci.spec.Resources;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** CRI {@code LinuxContainerResources} onto OCI {@code linux.resources}: containerd's {@code WithResources}. */
final class CriResources {
    private static final Resources.Cpu NO_CPU = Resources.Cpu.of(null, null, null);
    private static final Resources.Memory NO_MEMORY = new Resources.Memory(null, null, null, null, null, null, null);

    private CriResources() {}

    /** See {@link ContainerSpecGenerator#resources}. */
    static Resources merge(Resources current, LinuxContainerResources r, boolean swapLimitAvailable) {
        Resources base = current == null ? Resources.EMPTY : current;
        if (r == null) {
            return base;
        }
        Resources.Cpu cpu = base.cpu() == null ? NO_CPU : base.cpu();
        // The CRI's zero means "not set": it never clears a limit already there.
        Long shares = r.getCpuShares() != 0 ? Long.valueOf(r.getCpuShares()) : cpu.shares();
        Long quota = r.getCpuQuota() != 0 ? Long.valueOf(r.getCpuQuota()) : cpu.quota();
        Long period = r.getCpuPeriod() != 0 ? Long.valueOf(r.getCpuPeriod()) : cpu.period();
        String cpus = r.getCpusetCpus().isEmpty() ? cpu.cpus() : r.getCpusetCpus();
        String mems = r.getCpusetMems().isEmpty() ? cpu.mems() : r.getCpusetMems();
        cpu = new Resources.Cpu(
                shares,
                quota,
                cpu.burst(),
                period,
                cpu.realtimeRuntime(),
                cpu.realtimePeriod(),
                cpus,
                mems,
                cpu.idle());

        Resources.Memory mem = base.memory() == null ? NO_MEMORY : base.memory();
        Long limit = mem.limit();
        Long swap = mem.swap();
        if (r.getMemoryLimitInBytes() != 0) {
            limit = r.getMemoryLimitInBytes();
            // Swap equal to the limit means no swap at all: a container must not swap unless asked to.
            if (r.getMemorySwapLimitInBytes() == 0 && swapLimitAvailable) {
                swap = limit;
            }
        }
        if (r.getMemorySwapLimitInBytes() != 0 && swapLimitAvailable) {
            swap = r.getMemorySwapLimitInBytes();
        }
        mem = new Resources.Memory(
                limit,
                mem.reservation(),
                swap,
                mem.kernel(),
                mem.kernelTCP(),
                mem.swappiness(),
                mem.disableOOMKiller());

        Resources out = base.withCpu(cpu.equals(NO_CPU) ? null : cpu)
                .withMemory(mem.equals(NO_MEMORY) ? null : mem)
                .withHugepageLimits(hugepages(base.hugepageLimits(), r.getHugepageLimitsList()));
        if (!r.getUnifiedMap().isEmpty()) {
            Map<String, String> unified = new TreeMap<>(base.unified());
            unified.putAll(r.getUnifiedMap());
            out = out.withUnified(unified);
        }
        return out;
    }

    /** See {@link ContainerSpecGenerator#mergedCri}. */
    static LinuxContainerResources mergeCri(LinuxContainerResources current, LinuxContainerResources update) {
        // Protobuf's merge: set scalars and strings win, maps merge, repeated fields append.
        var b = current.toBuilder().mergeFrom(update).clearHugepageLimits();
        Map<String, HugepageLimit> bySize = new TreeMap<>();
        for (HugepageLimit h : current.getHugepageLimitsList()) bySize.put(h.getPageSize(), h);
        for (HugepageLimit h : update.getHugepageLimitsList()) bySize.put(h.getPageSize(), h);
        return b.addAllHugepageLimits(bySize.values()).build();
    }

    /**
     * One limit per page size, the CRI's winning. containerd appends, which repeats a page size on
     * every UpdateContainerResources.
     */
    private static List<Resources.HugepageLimit> hugepages(
            List<Resources.HugepageLimit> base, List<HugepageLimit> cri) {
        List<Resources.HugepageLimit> out = new ArrayList<>(base);
        for (HugepageLimit h : cri) {
            out.removeIf(x -> x.pageSize().equals(h.getPageSize()));
            out.add(new Resources.HugepageLimit(h.getPageSize(), h.getLimit()));
        }
        return out;
    }
}
