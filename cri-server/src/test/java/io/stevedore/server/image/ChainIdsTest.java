package io.stevedore.server.image;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

class ChainIdsTest {
    @Test
    void of_twoLayers_matchesTheOciSpecDefinition() {
        String a = "sha256:" + "a".repeat(64);
        String b = "sha256:" + "b".repeat(64);
        // printf '%s' "$a $b" | sha256sum, computed outside Java
        assertEquals(
                List.of(a, "sha256:ccd722928bd92476ba1745586fed6e45a102504185ad88cd89e01ff116fd146c"),
                ChainIds.of(List.of(a, b)));
    }

    @Test
    void of_noLayers_isEmpty() {
        assertEquals(List.of(), ChainIds.of(List.of()));
    }
}
