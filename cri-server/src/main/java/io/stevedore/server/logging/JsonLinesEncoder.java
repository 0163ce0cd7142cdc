package io.stevedore.server.logging;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.encoder.EncoderBase;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import org.slf4j.event.KeyValuePair;

/**
 * One JSON object per line, keys at the top level so that {@code jq 'select(.rpc=="StartContainer")'}
 * and log shippers need no nesting:
 *
 * <pre>{@code
 * {"time":"2026-11-22T22:40:01.123456Z","level":"INFO","logger":"Rpc","msg":"StartContainer done","rpc":"StartContainer","id":"abc"}
 * }</pre>
 *
 * An exception is added as {@code "error"} (its message) and {@code "stack"} (the trace).
 */
public final class JsonLinesEncoder extends EncoderBase<ILoggingEvent> {
    private static final JsonFactory JSON = new JsonFactory();
    private static final byte[] NOTHING = new byte[0];

    @Override
    public byte[] headerBytes() {
        return NOTHING;
    }

    @Override
    public byte[] footerBytes() {
        return NOTHING;
    }

    @Override
    public byte[] encode(ILoggingEvent event) {
        var buf = new ByteArrayOutputStream(256);
        try (JsonGenerator g = JSON.createGenerator(buf)) {
            g.writeStartObject();
            g.writeStringField("time", event.getInstant().toString());
            g.writeStringField("level", event.getLevel().toString());
            g.writeStringField("logger", shortName(event.getLoggerName()));
            g.writeStringField("msg", event.getFormattedMessage());
            if (event.getKeyValuePairs() != null) {
                for (KeyValuePair kv : event.getKeyValuePairs()) {
                    g.writeStringField(kv.key, String.valueOf(kv.value));
                }
            }
            IThrowableProxy t = event.getThrowableProxy();
            if (t != null) {
                g.writeStringField("error", t.getClassName() + ": " + t.getMessage());
                g.writeStringField("stack", ThrowableProxyUtil.asString(t));
            }
            g.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a ByteArrayOutputStream does not fail
        }
        buf.write('\n');
        return buf.toByteArray();
    }

    private static String shortName(String logger) {
        int dot = logger.lastIndexOf('.');
        return dot < 0 ? logger : logger.substring(dot + 1);
    }
}
