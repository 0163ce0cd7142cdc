package io.stevedore.server.sandbox;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.deser.std.StdDeserializer;
import com.fasterxml.jackson.databind.ser.std.StdSerializer;
import com.google.protobuf.MessageLite;
import com.google.protobuf.Parser;
import io.stevedore.cri.v1.LinuxContainerResources;
import io.stevedore.cri.v1.PodSandboxConfig;
import java.io.IOException;

/**
 * A CRI message stored in a pod record as its protobuf bytes in base64 (how a {@code byte[]} was
 * stored before): one writer for every message, and a reader per message type, as Jackson's
 * annotations need a class with no arguments.
 */
final class ProtoBytes {
    private ProtoBytes() {}

    static final class Writer extends StdSerializer<MessageLite> {
        Writer() {
            super(MessageLite.class);
        }

        @Override
        public void serialize(MessageLite value, JsonGenerator gen, SerializerProvider provider) throws IOException {
            gen.writeBinary(value.toByteArray());
        }
    }

    private abstract static class Reader<T extends MessageLite> extends StdDeserializer<T> {
        private final Parser<T> parser;

        Reader(Class<T> type, Parser<T> parser) {
            super(type);
            this.parser = parser;
        }

        @Override
        public T deserialize(JsonParser p, DeserializationContext ctx) throws IOException {
            return parser.parseFrom(p.getBinaryValue());
        }
    }

    static final class PodConfigReader extends Reader<PodSandboxConfig> {
        PodConfigReader() {
            super(PodSandboxConfig.class, PodSandboxConfig.parser());
        }
    }

    static final class ResourcesReader extends Reader<LinuxContainerResources> {
        ResourcesReader() {
            super(LinuxContainerResources.class, LinuxContainerResources.parser());
        }
    }
}
