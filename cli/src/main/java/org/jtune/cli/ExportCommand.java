package org.jtune.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.jtune.JtuneException;
import org.jtune.io.AtomicFile;
import org.jtune.io.OverwriteGuard;
import org.jtune.io.StagedFolder;
import org.jtune.models.CausalLM;
import org.jtune.models.arch.Architectures;
import org.jtune.models.chat.ChatTemplate;
import org.jtune.models.chat.PromptFormat;
import org.jtune.models.gguf.HfToGguf;
import org.jtune.models.gguf.OllamaModelfile;
import org.jtune.models.io.ModelExport;
import org.jtune.models.lora.Adapters;
import org.jtune.models.lora.LoraMerge;
import org.jtune.models.lora.PeftFormat;
import org.jtune.quant.GgmlType;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * `jtune export gguf`: a Hugging Face Llama/Mistral/Mixtral, Granite, Qwen2, Qwen3, Qwen3-MoE or Gemma 3 folder (with a LoRA adapter merged first, when given) as one GGUF
 * file llama.cpp and Ollama load ({@link HfToGguf}: tokenizer metadata with real scores and token types, special
 * ids, chat template; llama.cpp's per-tensor type choices and fallbacks), and a Modelfile for Ollama beside it. The
 * file and the Modelfile carry the prompt format a run on model + adapter uses (the adapter's template and trained
 * system message, else the model's; --system-message replaces it), so generate/eval on the file ask as on the
 * folder; a system message the Modelfile cannot carry to Ollama unchanged is refused before anything is written. A
 * Modelfile already in the folder for another file is kept: this one is then named after the GGUF file ({@link
 * OllamaModelfile#nameIn}).
 */
@Command(name = "export", mixinStandardHelpOptions = true, description = "Export a model to another runtime's format.",
        subcommands = ExportCommand.Gguf.class)
final class ExportCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        System.err.println("jtune export: give a format: jtune export gguf --model DIR --type T --out FILE.gguf (see jtune export gguf --help)");
        return 2;
    }

    @Command(name = "gguf", mixinStandardHelpOptions = true,
            description = {"Write a Llama/Mistral/Mixtral, Granite, Qwen2, Qwen3, Qwen3-MoE or Gemma 3 model as a GGUF file for llama.cpp and Ollama, and a Modelfile beside it (FROM, "
                    + "TEMPLATE translated from the chat template when its family is recognised, SYSTEM for the trained system "
                    + "message or --system-message, PARAMETER stop). The file carries the prompt format a run with --adapter uses: the adapter's chat "
                    + "template (else the model's) as tokenizer.chat_template and its trained system message as jtune.system_message.",
                    "The Modelfile is named Modelfile, or FILE.Modelfile (after FILE.gguf) when a Modelfile for another file is "
                            + "already in the folder; stderr says which was written.",
                    "Types: f32, f16, bf16, q8_0, q4_0, q4_k_m (llama.cpp's mixture: Q4_K, with Q6_K for the output matrix and for "
                            + "attn_v/ffn_down of some layers). As llama.cpp does, a matrix whose rows are not whole blocks of its type "
                            + "falls back per tensor (Q8_0/Q4_0 → F16, Q4_K/Q6_K → Q8_0 or F16); norms stay F32. The file is written "
                            + "atomically."})
    static final class Gguf implements Callable<Integer> {
        @Option(names = "--model", required = true, paramLabel = "DIR", description = "Model folder (Hugging Face layout, llama family).")
        Path model;

        @Option(names = "--adapter", paramLabel = "DIR", description = "A PEFT LoRA adapter merged into the weights first.")
        Path adapter;

        @Option(names = "--type", required = true, paramLabel = "T", description = "f32, f16, bf16, q8_0, q4_0 or q4_k_m.")
        String type;

        @Option(names = "--out", required = true, paramLabel = "FILE.gguf", description = "The GGUF file to write (the Modelfile goes beside it: Modelfile, or FILE.Modelfile when one for another file is there).")
        Path out;

        @Option(names = "--allow-base-mismatch", description = "Merge --adapter even when it was trained on another base model.")
        boolean allowBaseMismatch;

        @Option(names = "--system-message", paramLabel = "TEXT",
                description = "System message for the file (jtune.system_message) and the Modelfile's SYSTEM (default: the one the adapter "
                        + "or model was trained with, if any; \"\" for none). One the Modelfile cannot carry to Ollama unchanged is refused.")
        String systemMessage;

        static GgmlType ggmlType(String t) throws JtuneException {
            return switch (t == null ? "" : t.toLowerCase(Locale.ROOT)) {
                case "f32" -> GgmlType.F32;
                case "f16" -> GgmlType.F16;
                case "bf16" -> GgmlType.BF16;
                case "q8_0" -> GgmlType.Q8_0;
                case "q4_0" -> GgmlType.Q4_0;
                case "q4_k_m" -> GgmlType.Q4_K;
                default -> throw new JtuneException("--type " + t + ": unknown type; use f32, f16, bf16, q8_0, q4_0 or q4_k_m");
            };
        }

        @Override
        public Integer call() {
            GgmlType ggml;
            try {
                ggml = ggmlType(type);
                if (!Files.isDirectory(model)) throw new JtuneException("--model " + model + ": no such model folder");
                if (adapter != null && !Files.isDirectory(adapter)) throw new JtuneException("--adapter " + adapter + ": no such adapter folder");
                if (!out.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".gguf")) throw new JtuneException("--out " + out + ": give a file name ending in .gguf");
                if (Files.isDirectory(out)) throw new JtuneException("--out " + out + " is a folder; give a file name ending in .gguf");
                OverwriteGuard.refuse("--out", out, "--model", model);
            } catch (JtuneException e) {
                System.err.println("jtune export gguf: " + e.getMessage());
                return 2;
            }
            Path merged = null;
            try {
                Path source = model;
                // the prompt format a run on model + adapter uses (generate --adapter, eval): the adapter's, else the model's
                String system = PromptFormat.systemMessage(model, adapter, systemMessage);
                OllamaModelfile.checkSystem(system);   // before the slow part
                if (adapter != null) {
                    merged = Files.createTempDirectory("jtune-export-merged-");
                    Files.delete(merged);
                    ChatTemplate t = ChatTemplate.resolveIfAny(model, adapter, null, "--chat-template");
                    StagedFolder.Extra prompt = t == null ? StagedFolder.Extra.NONE : staged -> PromptFormat.write(staged, staged, t, system);
                    try (CausalLM m = Architectures.load(model)) {
                        PeftFormat.load(adapter, m, Adapters.DEFAULT, allowBaseMismatch);
                        LoraMerge.mergeInto(m, Adapters.DEFAULT);
                        ModelExport.save(m, model, merged, Long.MAX_VALUE / 4, prompt);
                    }
                    source = merged;
                }
                HfToGguf.export(source, ggml, out, system);
                String jinja = null;
                try {
                    jinja = ChatTemplate.resolve(source, null, "--chat-template").source();
                } catch (JtuneException noTemplate) {
                    // no chat template: the Modelfile says so
                }
                String eos = eosText(source);
                String ggufName = out.getFileName().toString();
                Path folder = out.toAbsolutePath().getParent();
                String name = OllamaModelfile.nameIn(folder, ggufName);
                Path modelfile = folder.resolve(name);
                AtomicFile.writeString(modelfile, OllamaModelfile.text(ggufName, name, jinja, eos, system));
                System.err.printf("wrote %s (%s, %.1f MB) and %s%s (ollama create NAME -f %s)%n", out, type.toLowerCase(Locale.ROOT),
                        Files.size(out) / 1e6, modelfile, name.equals(OllamaModelfile.PLAIN) ? ""
                                : ", since " + folder.resolve(OllamaModelfile.PLAIN) + " is for " + OllamaModelfile.fromOf(folder.resolve(OllamaModelfile.PLAIN))
                                        + " (left as it is)", name);
                return 0;
            } catch (JtuneException e) {
                System.err.println("jtune export gguf: " + e.getMessage());
                return 1;
            } catch (Exception | Error e) {
                return CliErrors.report("jtune export gguf", e, 1);
            } finally {
                if (merged != null) deleteTree(merged);
            }
        }

        private static String eosText(Path dir) {
            try {
                var tok = org.jtune.models.tokenizer.Tokenizer.load(dir);
                int[] eos = tok.eosIds();
                return eos.length == 0 ? null : tok.decode(new int[] {eos[0]}, false);
            } catch (JtuneException | RuntimeException e) {
                return null;
            }
        }

        private static void deleteTree(Path dir) {
            try (var paths = Files.walk(dir)) {
                for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
            } catch (java.io.IOException ignored) {
                // a temporary folder left behind is harmless
            }
        }
    }
}
