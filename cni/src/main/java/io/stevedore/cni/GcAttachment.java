package io.stevedore.cni;

import java.util.Objects;

/** An attachment that is still in use and must survive {@link CniClient#gc}. */
public record GcAttachment(String containerId, String ifName) {
    public GcAttachment {
        Objects.requireNonNull(containerId, "containerId");
        Objects.requireNonNull(ifName, "ifName");
    }
}
