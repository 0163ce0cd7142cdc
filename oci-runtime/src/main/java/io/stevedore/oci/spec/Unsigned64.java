package io.stevedore.oci.spec;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.deser.std.StdDeserializer;
import com.fasterxml.jackson.databind.ser.std.StdSerializer;
import java.io.IOException;
import java.math.BigInteger;

/**
 * JSON for a Go {@code uint64} held in a Java {@code long}: {@code -1L} is written as
 * {@code 18446744073709551615} (RLIM_INFINITY) and read back.
 */
final class Unsigned64 {
    private Unsigned64() {}

    static final class Serializer extends StdSerializer<Long> {
        Serializer() {
            super(Long.class);
        }

        @Override
        public void serialize(Long value, JsonGenerator gen, SerializerProvider provider) throws IOException {
            gen.writeNumber(new BigInteger(Long.toUnsignedString(value)));
        }
    }

    static final class Deserializer extends StdDeserializer<Long> {
        Deserializer() {
            super(Long.class);
        }

        @Override
        public Long deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
            return p.getBigIntegerValue().longValue();
        }
    }
}
