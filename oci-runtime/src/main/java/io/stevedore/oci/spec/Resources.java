package io.stevedore.oci.spec;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonInclude.Include;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * cgroup limits ({@code linux.resources}); also the body of {@code runc update --resources}.
 *
 * <p>Every number is boxed: null means "not set" (omitted), while 0 is written.
 *
 * @param unified cgroup v2 files and values, e.g. {@code memory.high}
 */
@JsonInclude(Include.NON_EMPTY)
public record Resources(
        List<DeviceRule> devices,
        Memory memory,
        Cpu cpu,
        Pids pids,
        List<HugepageLimit> hugepageLimits,
        Map<String, String> unified) {
    public static final Resources EMPTY = new Resources(null, null, null, null, null, null);

    public Resources {
        devices = Copies.list(devices);
        hugepageLimits = Copies.list(hugepageLimits);
        unified = Copies.map(unified);
    }

    public Resources withMemory(Memory memory) {
        return new Resources(devices, memory, cpu, pids, hugepageLimits, unified);
    }

    public Resources withCpu(Cpu cpu) {
        return new Resources(devices, memory, cpu, pids, hugepageLimits, unified);
    }

    public Resources withPids(Pids pids) {
        return new Resources(devices, memory, cpu, pids, hugepageLimits, unified);
    }

    public Resources withDevices(List<DeviceRule> devices) {
        return new Resources(devices, memory, cpu, pids, hugepageLimits, unified);
    }

    public Resources withHugepageLimits(List<HugepageLimit> hugepageLimits) {
        return new Resources(devices, memory, cpu, pids, hugepageLimits, unified);
    }

    public Resources withUnified(Map<String, String> unified) {
        return new Resources(devices, memory, cpu, pids, hugepageLimits, unified);
    }

    /**
     * A device cgroup rule ({@code linux.resources.devices}).
     *
     * @param allow whether the rule allows or denies; required
     * @param type {@code a}, {@code c} or {@code b}; null for all
     * @param major null for all
     * @param minor null for all
     * @param access any of {@code r}, {@code w}, {@code m}
     */
    @JsonInclude(Include.NON_EMPTY)
    public record DeviceRule(
            @JsonInclude(Include.ALWAYS) boolean allow, String type, Long major, Long minor, String access) {
        /** Denies every device: the first rule of containerd's default spec. */
        public static DeviceRule denyAll() {
            return new DeviceRule(false, null, null, null, "rwm");
        }
    }

    /** Memory limits in bytes ({@code linux.resources.memory}); {@code kernel} is deprecated in 1.1. */
    @JsonInclude(Include.NON_NULL)
    public record Memory(
            Long limit,
            Long reservation,
            Long swap,
            Long kernel,
            Long kernelTCP,
            Long swappiness,
            Boolean disableOOMKiller) {
        public static Memory ofLimit(long limit) {
            return new Memory(limit, null, null, null, null, null, null);
        }
    }

    /** CPU controls ({@code linux.resources.cpu}); {@code cpus} and {@code mems} are cpuset lists like {@code 0-3}. */
    @JsonInclude(Include.NON_EMPTY)
    public record Cpu(
            @JsonInclude(Include.NON_NULL) Long shares,
            @JsonInclude(Include.NON_NULL) Long quota,
            @JsonInclude(Include.NON_NULL) Long burst,
            @JsonInclude(Include.NON_NULL) Long period,
            @JsonInclude(Include.NON_NULL) Long realtimeRuntime,
            @JsonInclude(Include.NON_NULL) Long realtimePeriod,
            String cpus,
            String mems,
            @JsonInclude(Include.NON_NULL) Long idle) {
        public static Cpu of(Long shares, Long quota, Long period) {
            return new Cpu(shares, quota, null, period, null, null, null, null, null);
        }
    }

    /** The pids limit ({@code linux.resources.pids}); null means unlimited. */
    @JsonInclude(Include.NON_NULL)
    public record Pids(Long limit) {}

    /**
     * A hugetlb limit.
     *
     * @param pageSize e.g. {@code 2MB}
     * @param limit bytes
     */
    public record HugepageLimit(String pageSize, long limit) {
        public HugepageLimit {
            Objects.requireNonNull(pageSize, "pageSize");
        }
    }
}
