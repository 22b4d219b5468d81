package org.jtune.train.run;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.jtune.JtuneException;
import org.jtune.models.io.SafetensorsReader;
import org.jtune.models.io.SafetensorsWriter;
import org.jtune.tensor.Tensor;
import org.jtune.train.checkpoint.CheckpointException;
import org.jtune.train.checkpoint.TensorCodec;

/** Checkpoint tensors as safetensors files (exact bits, F32 kept F32), read back into heap copies. */
public final class SafetensorsCodec implements TensorCodec {
    @Override
    public String extension() {
        return "safetensors";
    }

    @Override
    public void write(Map<String, Tensor> tensors, OutputStream out) throws IOException {
        try { // straight into the checkpoint's own file: no temporary copy elsewhere (another disk, mode 0600)
            SafetensorsWriter.defaults().writeTo(java.nio.channels.Channels.newChannel(out), tensors, "a checkpoint");
        } catch (JtuneException e) {
            throw new IOException(e.getMessage(), e);
        }
    }

    @Override
    public Map<String, Tensor> read(Path file) throws CheckpointException {
        try (SafetensorsReader r = SafetensorsReader.open(file)) {
            Map<String, Tensor> m = new LinkedHashMap<>();
            for (String name : r.names()) m.put(name, r.get(name).copy());
            return m;
        } catch (JtuneException e) {
            throw new CheckpointException(e.getMessage());
        }
    }
}
