package org.jtune.train.checkpoint;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import org.jtune.tensor.Tensor;

/**
 * A minimal tensor file of our own, F32 only, little-endian:
 * <pre>
 *   "JTRAW1\n"  u32 count
 *   per tensor (sorted by name): u16 name length, UTF-8 name, u8 rank, rank × u32 dims, numel × f32
 * </pre>
 * Tests the checkpoint plumbing without the models module (training itself writes safetensors).
 * Reading checks every length against the file size, so a truncated or hostile file is an error
 * naming it rather than a huge allocation.
 */
final class RawTensorCodec implements TensorCodec {
    private static final byte[] MAGIC = "JTRAW1\n".getBytes(StandardCharsets.US_ASCII);

    @Override
    public String extension() {
        return "raw";
    }

    @Override
    public void write(Map<String, Tensor> tensors, OutputStream out) throws IOException {
        out.write(MAGIC);
        out.write(le(4).putInt(tensors.size()).array());
        byte[] buf = new byte[1 << 16];
        for (var e : new TreeMap<>(tensors).entrySet()) {
            byte[] name = e.getKey().getBytes(StandardCharsets.UTF_8);
            if (name.length > 0xffff) throw new IOException("tensor name too long: " + e.getKey().substring(0, 80) + "…");
            int[] shape = e.getValue().shape();
            ByteBuffer h = le(2 + name.length + 1 + 4 * shape.length);
            h.putShort((short) name.length).put(name).put((byte) shape.length);
            for (int d : shape) h.putInt(d);
            out.write(h.array());
            float[] data = e.getValue().toFloatArray();
            for (int i = 0; i < data.length; ) {
                int n = Math.min(buf.length / 4, data.length - i);
                ByteBuffer.wrap(buf).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().put(data, i, n);
                out.write(buf, 0, n * 4);
                i += n;
            }
        }
    }

    @Override
    public Map<String, Tensor> read(Path file) throws IOException, CheckpointException {
        long remaining = Files.size(file);
        Map<String, Tensor> out = new LinkedHashMap<>();
        try (DataInputStream in = new DataInputStream(new BufferedInputStream(Files.newInputStream(file), 1 << 16))) {
            byte[] magic = in.readNBytes(MAGIC.length);
            if (!java.util.Arrays.equals(magic, MAGIC)) throw bad(file, "not a JTRAW1 tensor file");
            remaining -= MAGIC.length;
            int count = readInt(in);
            remaining -= 4;
            for (int t = 0; t < count; t++) {
                int nameLen = Short.toUnsignedInt(Short.reverseBytes(in.readShort()));
                if (nameLen > remaining) throw bad(file, "tensor " + t + " has a name longer than the file");
                String name = new String(in.readNBytes(nameLen), StandardCharsets.UTF_8);
                int rank = in.readUnsignedByte();
                int[] shape = new int[rank];
                long numel = 1;
                for (int d = 0; d < rank; d++) {
                    shape[d] = readInt(in);
                    if (shape[d] < 0) throw bad(file, "tensor " + name + " has a negative dimension");
                    numel *= shape[d];
                    if (numel > remaining) throw bad(file, "tensor " + name + " is larger than the file (truncated?)");
                }
                remaining -= 2 + nameLen + 1 + 4L * rank;
                if (numel * 4 > remaining) throw bad(file, "tensor " + name + " is cut short (truncated?)");
                float[] data = new float[(int) numel];
                readFloats(in, data);
                remaining -= numel * 4;
                if (out.put(name, Tensor.of(data, shape)) != null) throw bad(file, "tensor " + name + " appears twice");
            }
            if (remaining != 0) throw bad(file, remaining + " bytes after the last tensor");
        } catch (EOFException e) {
            throw bad(file, "unexpected end of file (truncated?)");
        }
        return out;
    }

    private static CheckpointException bad(Path file, String what) {
        return new CheckpointException(file + ": " + what);
    }

    private static int readInt(DataInputStream in) throws IOException {
        return Integer.reverseBytes(in.readInt());
    }

    private static void readFloats(InputStream in, float[] data) throws IOException {
        byte[] buf = new byte[1 << 16];
        for (int i = 0; i < data.length; ) {
            int n = Math.min(buf.length / 4, data.length - i);
            int got = in.readNBytes(buf, 0, n * 4);
            if (got != n * 4) throw new EOFException();
            ByteBuffer.wrap(buf, 0, got).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(data, i, n);
            i += n;
        }
    }

    private static ByteBuffer le(int n) {
        return ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN);
    }
}
