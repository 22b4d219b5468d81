package org.jtune.train.checkpoint;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Path;
import java.util.Map;
import org.jtune.tensor.Tensor;

/**
 * How a checkpoint serialises named tensors (optimizer moments, adapter or model weights). The
 * checkpoint code handles atomic writing and checksums; a codec only turns tensors into bytes and
 * back. Training uses safetensors (org.jtune.train.run.SafetensorsCodec); the tests use a minimal raw format.
 */
public interface TensorCodec {
    /** The file extension, without the dot ("safetensors", "raw"). */
    String extension();

    /** Writes {@code tensors} (any order) to {@code out}; does not close it. */
    void write(Map<String, Tensor> tensors, OutputStream out) throws IOException;

    /** Reads every tensor of {@code file}; malformed content is a {@link CheckpointException} naming the file. */
    Map<String, Tensor> read(Path file) throws IOException, CheckpointException;
}
