package io.stevedore.server.stats;

import io.stevedore.cri.v1.MetricDescriptor;
import io.stevedore.cri.v1.MetricType;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

/**
 * The cAdvisor metrics Stevedore serves through {@code ListPodSandboxMetrics}, named, described and
 * labelled as containerd 2.2+ serves them ({@code internal/cri/server/list_metric_descriptors.go}),
 * so that the kubelet's CRI metrics collector ({@code PodAndContainerStatsFromCRI}) exposes the
 * same {@code /metrics/cadvisor} series it did with cAdvisor.
 *
 * <p>Every metric carries the base labels {@code pod, namespace, container, id, image} (pod-level
 * metrics leave {@code container} and {@code image} empty and put the sandbox id in {@code id});
 * some add their own: network metrics {@code interface}, filesystem ones {@code device}. Only what
 * we fill is listed: a descriptor without samples would promise a series that never appears.
 */
public enum CadvisorMetric {
    // cpu: cumulative seconds, whole seconds as containerd reports them (the value is an integer)
    CPU_USAGE("container_cpu_usage_seconds_total", "Cumulative CPU time consumed in seconds."),
    CPU_USER("container_cpu_user_seconds_total", "Cumulative user CPU time consumed in seconds."),
    CPU_SYSTEM("container_cpu_system_seconds_total", "Cumulative system CPU time consumed in seconds."),
    CFS_PERIODS("container_cpu_cfs_periods_total", "Number of elapsed enforcement period intervals."),
    CFS_THROTTLED_PERIODS("container_cpu_cfs_throttled_periods_total", "Number of CPU throttled period intervals."),
    CFS_THROTTLED_SECONDS(
            "container_cpu_cfs_throttled_seconds_total", "Total time duration the container has been throttled."),

    // memory
    MEMORY_USAGE(
            "container_memory_usage_bytes",
            "Current memory usage in bytes, including all memory regardless of when it was accessed",
            MetricType.GAUGE),
    MEMORY_MAX_USAGE(
            "container_memory_max_usage_bytes", "Maximum container memory usage recorded in bytes", MetricType.GAUGE),
    MEMORY_WORKING_SET(
            "container_memory_working_set_bytes",
            "Amount of memory that is actively used by the container, excluding cached memory.",
            MetricType.GAUGE),
    MEMORY_RSS(
            "container_memory_rss",
            "Size of RSS in bytes, total anonymous memory and swap cache memory used by the container.",
            MetricType.GAUGE),
    MEMORY_CACHE(
            "container_memory_cache",
            "Number of bytes of memory used by the container for caching purposes.",
            MetricType.GAUGE),
    MEMORY_MAPPED_FILE(
            "container_memory_mapped_file", "Size of container's memory mapped files in bytes.", MetricType.GAUGE),
    MEMORY_KERNEL(
            "container_memory_kernel_usage",
            "Size of kernel memory allocated to the container in bytes.",
            MetricType.GAUGE),
    MEMORY_SWAP("container_memory_swap", "Container swap usage in bytes.", MetricType.GAUGE),
    MEMORY_ACTIVE_FILE(
            "container_memory_total_active_file_bytes",
            "Amount of cache memory bytes, in use by the container, in file on disk.",
            MetricType.GAUGE),
    MEMORY_INACTIVE_FILE(
            "container_memory_total_inactive_file_bytes",
            "Amount of inactive cache memory bytes, for the container, in file on disk.",
            MetricType.GAUGE),
    MEMORY_FAILCNT(
            "container_memory_failcnt",
            "Number of times container memory usage has hit its limit (cgroup v2: memory.events max)."),
    MEMORY_FAILURES(
            "container_memory_failures_total",
            "Cumulative count of container memory allocation failures.",
            MetricType.COUNTER,
            "failure_type",
            "scope"),
    OOM_EVENTS("container_oom_events_total", "Count of out of memory events observed for the container"),

    // the writable layer and its filesystem
    FS_USAGE(
            "container_fs_usage_bytes",
            "Number of bytes that are consumed by the container on this filesystem.",
            MetricType.GAUGE,
            "device"),
    FS_LIMIT(
            "container_fs_limit_bytes",
            "Number of bytes that can be consumed by the container on this filesystem.",
            MetricType.GAUGE,
            "device"),

    // block I/O, per device "major:minor"
    FS_READS_BYTES("container_fs_reads_bytes_total", "Cumulative count of bytes read", MetricType.COUNTER, "device"),
    FS_READS("container_fs_reads_total", "Cumulative count of reads completed", MetricType.COUNTER, "device"),
    FS_WRITES_BYTES(
            "container_fs_writes_bytes_total", "Cumulative count of bytes written", MetricType.COUNTER, "device"),
    FS_WRITES("container_fs_writes_total", "Cumulative count of writes completed", MetricType.COUNTER, "device"),

    // network, pod level (the pod's namespace), per interface
    NET_RX_BYTES("container_network_receive_bytes_total", "Cumulative count of bytes received", "interface"),
    NET_RX_PACKETS("container_network_receive_packets_total", "Cumulative count of packets received", "interface"),
    NET_RX_DROPPED(
            "container_network_receive_packets_dropped_total",
            "Cumulative count of packets dropped while receiving",
            "interface"),
    NET_RX_ERRORS(
            "container_network_receive_errors_total",
            "Cumulative count of errors encountered while receiving",
            "interface"),
    NET_TX_BYTES("container_network_transmit_bytes_total", "Cumulative count of bytes transmitted", "interface"),
    NET_TX_PACKETS("container_network_transmit_packets_total", "Cumulative count of packets transmitted", "interface"),
    NET_TX_DROPPED(
            "container_network_transmit_packets_dropped_total",
            "Cumulative count of packets dropped while transmitting",
            "interface"),
    NET_TX_ERRORS(
            "container_network_transmit_errors_total",
            "Cumulative count of errors encountered while transmitting",
            "interface"),

    // processes
    PROCESSES("container_processes", "Number of processes running inside the container.", MetricType.GAUGE),
    THREADS("container_threads", "Number of threads running inside the container", MetricType.GAUGE),
    THREADS_MAX(
            "container_threads_max",
            "Maximum number of threads allowed inside the container, infinity if value is zero",
            MetricType.GAUGE),
    FILE_DESCRIPTORS(
            "container_file_descriptors", "Number of open file descriptors for the container.", MetricType.GAUGE),
    SOCKETS("container_sockets", "Number of open sockets for the container.", MetricType.GAUGE),

    // miscellaneous
    LAST_SEEN("container_last_seen", "Last time a container was seen by the exporter", MetricType.GAUGE),
    START_TIME(
            "container_start_time_seconds",
            "Start time of the container since unix epoch in seconds",
            MetricType.GAUGE),

    // the container's resources as requested (CRI config, with its last update)
    SPEC_CPU_PERIOD("container_spec_cpu_period", "CPU period of the container", MetricType.GAUGE),
    SPEC_CPU_SHARES("container_spec_cpu_shares", "CPU share of the container", MetricType.GAUGE),
    SPEC_MEMORY_LIMIT(
            "container_spec_memory_limit_bytes", "Memory limit for the container (0: none)", MetricType.GAUGE),
    SPEC_MEMORY_SWAP_LIMIT(
            "container_spec_memory_swap_limit_bytes", "Memory swap limit for the container", MetricType.GAUGE);

    /** The labels of every metric, in the order their values are given. */
    public static final List<String> BASE_LABELS = List.of("pod", "namespace", "container", "id", "image");

    private final String metricName;
    private final String help;
    private final MetricType type;
    private final List<String> extraLabels;

    CadvisorMetric(String name, String help) {
        this(name, help, MetricType.COUNTER);
    }

    CadvisorMetric(String name, String help, String extraLabel) {
        this(name, help, MetricType.COUNTER, extraLabel);
    }

    CadvisorMetric(String name, String help, MetricType type, String... extraLabels) {
        this.metricName = name;
        this.help = help;
        this.type = type;
        this.extraLabels = List.of(extraLabels);
    }

    public String metricName() {
        return metricName;
    }

    public MetricType type() {
        return type;
    }

    /** The labels this metric adds after {@link #BASE_LABELS}. */
    List<String> extraLabels() {
        return extraLabels;
    }

    public MetricDescriptor descriptor() {
        return MetricDescriptor.newBuilder()
                .setName(metricName)
                .setHelp(help)
                .addAllLabelKeys(Stream.concat(BASE_LABELS.stream(), extraLabels.stream())
                        .toList())
                .build();
    }

    /** What {@code ListMetricDescriptors} answers: one descriptor per metric we serve. */
    public static List<MetricDescriptor> descriptors() {
        return Arrays.stream(values()).map(CadvisorMetric::descriptor).toList();
    }
}
