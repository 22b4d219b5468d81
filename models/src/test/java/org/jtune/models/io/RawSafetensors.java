package org.jtune.models.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Builds safetensors files byte by byte for tests, independently of {@link SafetensorsWriter}: a
 * header length (possibly a lie), header text and a data area, so tests can craft broken and
 * hostile files as well as valid ones.
 */
final class RawSafetensors {
    private RawSafetensors() {}

    /** A file whose 8-byte length field says {@code declaredLength} followed by {@code header} and {@code data}. */
    static byte[] bytes(long declaredLength, byte[] header, byte[] data) {
        ByteBuffer b = ByteBuffer.allocate(8 + header.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(declaredLength).put(header).put(data);
        return b.array();
    }

    /** A well-framed file: the true header length, then the header and {@code dataBytes} bytes of data 0, 1, 2, ... */
    static byte[] bytes(String header, int dataBytes) {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        byte[] data = new byte[dataBytes];
        for (int i = 0; i < dataBytes; i++) data[i] = (byte) i;
        return bytes(h.length, h, data);
    }

    static Path write(Path dir, String name, byte[] content) throws IOException {
        Path p = dir.resolve(name);
        Files.write(p, content);
        return p;
    }
}
