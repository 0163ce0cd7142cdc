package io.stevedore.server.sandbox;

import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import com.fasterxml.jackson.databind.annotation.JsonSerialize;
import io.stevedore.cri.v1.HugepageLimit;
import io.stevedore.cri.v1.LinuxContainerResources;
import io.stevedore.oci.spec.Resources;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A pod's resources as the last UpdatePodSandboxResources gave them (KEP-1287, in-place resize):
 * the pod's overhead, and the sum of its containers' resources. Stored in the pod's status, each
 * as protobuf bytes (base64). The pod's cgroup is sized to their sum ({@link #limits}).
 */
public record PodResources(
        @JsonSerialize(using = ProtoBytes.Writer.class) @JsonDeserialize(using = ProtoBytes.ResourcesReader.class)
        LinuxContainerResources overhead,

        @JsonSerialize(using = ProtoBytes.Writer.class) @JsonDeserialize(using = ProtoBytes.ResourcesReader.class)
        LinuxContainerResources resources) {
    public PodResources {
        overhead = Objects.requireNonNullElse(overhead, LinuxContainerResources.getDefaultInstance());
        resources = Objects.requireNonNullElse(resources, LinuxContainerResources.getDefaultInstance());
    }

    /**
     * The pod cgroup's limits, as the kubelet sizes a pod cgroup: the containers' sum plus the
     * overhead. The request is the whole pod, not a change: a memory limit or CPU quota of zero in
     * {@code resources} means no limit (some container has none), written as -1; zero shares and
     * period, and empty cpusets, leave the cgroup's as they are.
     */
    public Resources limits() {
        var r = resources;
        var o = overhead;
        Long shares = r.getCpuShares() == 0 && o.getCpuShares() == 0 ? null : r.getCpuShares() + o.getCpuShares();
        long quota = r.getCpuQuota() > 0 ? r.getCpuQuota() + Math.max(0, o.getCpuQuota()) : -1;
        Long period = r.getCpuPeriod() != 0 ? Long.valueOf(r.getCpuPeriod()) : null;
        String cpus = r.getCpusetCpus().isEmpty() ? null : r.getCpusetCpus();
        String mems = r.getCpusetMems().isEmpty() ? null : r.getCpusetMems();
        long memory =
                r.getMemoryLimitInBytes() > 0 ? r.getMemoryLimitInBytes() + Math.max(0, o.getMemoryLimitInBytes()) : -1;
        List<Resources.HugepageLimit> pages = new ArrayList<>();
        for (HugepageLimit h : r.getHugepageLimitsList()) {
            long extra = o.getHugepageLimitsList().stream()
                    .filter(x -> x.getPageSize().equals(h.getPageSize()))
                    .mapToLong(HugepageLimit::getLimit)
                    .sum();
            pages.add(new Resources.HugepageLimit(h.getPageSize(), h.getLimit() + extra));
        }
        return Resources.EMPTY
                .withCpu(new Resources.Cpu(shares, quota, null, period, null, null, cpus, mems, null))
                .withMemory(new Resources.Memory(memory, null, null, null, null, null, null))
                .withHugepageLimits(pages)
                .withUnified(r.getUnifiedMap());
    }
}
