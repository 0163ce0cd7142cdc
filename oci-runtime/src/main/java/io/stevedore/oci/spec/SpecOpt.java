package io.stevedore.oci.spec;

import java.util.function.UnaryOperator;

/**
 * One step of spec generation, as containerd's {@code oci.SpecOpts}: a pure function from a spec to
 * a new spec. Options in {@link Specs} create {@code process} and {@code linux} when absent.
 *
 * {@snippet :
 * SpecOpt hostNetwork = spec -> spec.withLinux(spec.linux().withoutNamespace(Linux.NamespaceType.NETWORK));
 * Spec spec = Specs.apply(Specs.defaults(), hostNetwork, Specs.withProcessArgs("/bin/sh"));
 * }
 */
@FunctionalInterface
public interface SpecOpt extends UnaryOperator<Spec> {
    /** This option, then {@code next}. */
    default SpecOpt then(SpecOpt next) {
        return spec -> next.apply(apply(spec));
    }

    /** All of {@code opts}, in order. */
    static SpecOpt all(SpecOpt... opts) {
        SpecOpt[] copy = opts.clone();
        return spec -> Specs.apply(spec, copy);
    }
}
