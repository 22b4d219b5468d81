package org.jtune.models.weights;

import java.util.Map;
import java.util.Set;
import org.jtune.JtuneException;
import org.jtune.models.io.SafetensorsReader;
import org.jtune.tensor.Tensor;

/** Where a model's weights come from when it is built: a checkpoint's tensors by Hugging Face name. */
public interface WeightSource {
    /** The tensor named {@code name}, or null when the source has none. */
    Tensor get(String name) throws JtuneException;

    /** Every tensor name the source holds (to report the ones a config does not use). */
    Set<String> names();

    /** Where the tensors come from, for error messages (a file or folder). */
    String origin();

    static WeightSource of(Map<String, Tensor> tensors, String origin) {
        return new WeightSource() {
            public Tensor get(String name) {
                return tensors.get(name);
            }

            public Set<String> names() {
                return tensors.keySet();
            }

            public String origin() {
                return origin;
            }
        };
    }

    static WeightSource of(SafetensorsReader reader) {
        return new WeightSource() {
            public Tensor get(String name) throws JtuneException {
                return reader.contains(name) ? reader.get(name) : null;
            }

            public Set<String> names() {
                return reader.names();
            }

            public String origin() {
                return reader.source().toString();
            }
        };
    }
}
