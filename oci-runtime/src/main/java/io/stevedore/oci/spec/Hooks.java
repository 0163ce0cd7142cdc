package io.stevedore.oci.spec;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonInclude.Include;
import java.util.List;
import java.util.Objects;

/** Lifecycle hooks ({@code hooks}); every list may be empty. */
@JsonInclude(Include.NON_EMPTY)
public record Hooks(
        List<Hook> prestart,
        List<Hook> createRuntime,
        List<Hook> createContainer,
        List<Hook> startContainer,
        List<Hook> poststart,
        List<Hook> poststop) {
    public Hooks {
        prestart = Copies.list(prestart);
        createRuntime = Copies.list(createRuntime);
        createContainer = Copies.list(createContainer);
        startContainer = Copies.list(startContainer);
        poststart = Copies.list(poststart);
        poststop = Copies.list(poststop);
    }

    /**
     * One hook program.
     *
     * @param path absolute path of the program; required
     * @param timeout seconds before the runtime aborts the hook; null for none
     */
    @JsonInclude(Include.NON_EMPTY)
    public record Hook(@JsonInclude(Include.ALWAYS) String path, List<String> args, List<String> env, Integer timeout) {
        public Hook {
            Objects.requireNonNull(path, "path");
            args = Copies.list(args);
            env = Copies.list(env);
        }
    }
}
