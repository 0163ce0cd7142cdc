package io.stevedore.server.stats;

import io.stevedore.cri.v1.Metric;
import io.stevedore.cri.v1.UInt64Value;
import java.util.ArrayList;
import java.util.List;

/**
 * The samples of one container or pod, all with the same base label values and timestamp, as
 * containerd builds them. Not thread-safe: one per container or pod being read.
 */
final class MetricBatch {
    private final List<String> labels;
    private final long timestampNanos;
    private final List<Metric> metrics = new ArrayList<>();

    /** @param labels the values of {@link CadvisorMetric#BASE_LABELS}, in that order */
    MetricBatch(List<String> labels, long timestampNanos) {
        if (labels.size() != CadvisorMetric.BASE_LABELS.size()) {
            throw new IllegalArgumentException("base labels: " + labels);
        }
        this.labels = List.copyOf(labels);
        this.timestampNanos = timestampNanos;
    }

    long timestampNanos() {
        return timestampNanos;
    }

    /**
     * Adds one sample. A negative value (a counter past {@code Long.MAX_VALUE} was clamped before)
     * is not expected; it is sent as the unsigned value it stands for.
     *
     * @param extra the values of the metric's own labels, in order
     */
    MetricBatch add(CadvisorMetric m, long value, String... extra) {
        if (extra.length != m.extraLabels().size()) {
            throw new IllegalArgumentException(m.metricName() + " takes labels " + m.extraLabels());
        }
        var b = Metric.newBuilder()
                .setName(m.metricName())
                .setTimestamp(timestampNanos)
                .setMetricType(m.type())
                .addAllLabelValues(labels)
                .setValue(UInt64Value.newBuilder().setValue(value));
        for (String v : extra) {
            b.addLabelValues(v);
        }
        metrics.add(b.build());
        return this;
    }

    List<Metric> metrics() {
        return List.copyOf(metrics);
    }
}
