package org.jtune.serve;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.jtune.JtuneException;
import org.jtune.models.chat.PromptFormat;
import org.jtune.models.tokenizer.Tokenizer;
import org.jtune.serve.engine.BatchingEngine;
import org.jtune.serve.engine.ServedModels;
import org.jtune.serve.engine.SwitchingEngine;
import org.jtune.serve.http.OpenAiServer;
import org.jtune.serve.http.ServerOptions;
import org.jtune.serve.log.RequestLog;
import org.jtune.serve.registry.Registry;
import org.jtune.serve.registry.RegistryWatcher;
import org.jtune.serve.text.ChatFormat;
import org.jtune.serve.text.PromptCodec;

/**
 * `jtune serve --registry DB --name NAME`: serves the production version of a registered model and
 * follows the registry. A {@link RegistryWatcher} polls it; when another version becomes production
 * (promote, rollback) the new version is loaded beside the old one and a {@link SwitchingEngine} sends
 * new requests to it while the old one finishes its own, so no request is dropped. Every request is
 * logged with the version that answered it ({@code name:version}).
 *
 * <p>Served names: a full-model version answers as NAME (or --served-model-name); an adapter version
 * answers as NAME with the adapter applied, and its base model as NAME-base. Each name gets its chat
 * format as with --model (an adapter version's own template and trained system message, else its base
 * model's, unless --chat-template or --system says otherwise for all; see {@link ChatFormat}). Text stays on the request threads with one tokenizer and the chat
 * formats of the first version served: a version whose tokenizer, formats or stop ids differ is not
 * switched to (the server says on stderr which differ and keeps serving what it has; restart it to serve
 * that version). With --system every version's system message is the flag's, so it cannot differ.
 */
final class RegistryServing {
    private static final ObjectMapper JSON = new ObjectMapper();

    private RegistryServing() {}

    static OpenAiServer start(ServeConfig config) throws JtuneException {
        ServeConfig.RegistrySource source = config.registry();
        if (org.jtune.serve.registry.Database.of(source.registry()).missingFile()) {
            throw new JtuneException("registry " + source.registry() + " does not exist (jtune registry register RUN_DIR --name NAME makes it)");
        }
        Registry registry = Registry.open(source.registry(), source.artifacts());
        RegistryWatcher watcher = RegistryWatcher.watch(registry, source.name(), source.poll());
        SwitchingEngine engine = null;
        RequestLog log = null;
        try {
            RegistryWatcher.Served first = watcher.current().orElseThrow(() -> new JtuneException("registry " + source.registry()
                    + " has no production version of '" + source.name() + "': promote one first (jtune registry promote "
                    + source.name() + " VERSION --to production ...)"));
            Path textDir = check(first);
            Tokenizer tokenizer = Tokenizer.load(textDir);
            Map<String, ChatFormat> formats = formats(first, config);
            ServedModels models = models(first, config.baseName());
            PromptCodec codec = PromptCodec.perName(tokenizer, formats, models.model().config());
            TextKey text = TextKey.of(textDir, codec);
            engine = new SwitchingEngine(BatchingEngine.start(models, ServeLauncher.engineOptions(config, models)), first.label(), source.drain());
            engine.closeWith(watcher);
            SwitchingEngine switching = engine;
            watcher.onChange(next -> follow(switching, next, config, text));
            log = RequestLog.open(config.logDb() == null ? RequestLog.DEFAULT_URL : config.logDb());
            ServerOptions options = new ServerOptions(config.host(), config.port(), config.apiKey(), config.maxBodyBytes(), null,
                    ServeLauncher.fingerprint(textDir, config), config.reasoning());
            return OpenAiServer.start(engine, codec, log, options);
        } catch (JtuneException | RuntimeException e) {
            if (engine != null) engine.close();
            else watcher.close();
            if (log != null) log.close();
            throw e;
        }
    }

    /** Switches to the new production version; on any problem keeps serving the current one and says why on stderr. */
    private static void follow(SwitchingEngine engine, Optional<RegistryWatcher.Served> next, ServeConfig config, TextKey text) {
        String was = engine.modelVersion();
        if (next.isEmpty()) {
            System.err.println("jtune serve: '" + config.registry().name() + "' has no production version any more; still serving " + was);
            return;
        }
        RegistryWatcher.Served s = next.get();
        try {
            Path textDir = check(s);
            Map<String, ChatFormat> formats = formats(s, config);
            ServedModels models = models(s, config.baseName());
            try {
                PromptCodec codec = PromptCodec.perName(Tokenizer.load(textDir), formats, models.model().config());
                String differ = TextKey.of(textDir, codec).differences(text);
                if (differ != null) {
                    throw new JtuneException("it differs from the version the server started with in its " + differ + ": restart the server to serve it");
                }
                engine.switchTo(BatchingEngine.start(models, ServeLauncher.engineOptions(config, models)), s.label());
            } catch (JtuneException | RuntimeException e) {
                models.close();
                throw e;
            }
            System.err.println("jtune serve: now serving " + s.label() + " (" + was + " finishes the requests it has)");
        } catch (JtuneException | RuntimeException e) {
            System.err.println("jtune serve: cannot switch to " + s.label() + ": " + e.getMessage() + "; still serving " + was);
        }
    }

    /** The folders of a version exist; returns the one holding the tokenizer (the base model's). */
    private static Path check(RegistryWatcher.Served s) throws JtuneException {
        if (!Files.isDirectory(s.model())) throw new JtuneException(s.label() + ": model folder " + s.model() + " does not exist");
        if (s.adapter() != null && !Files.isDirectory(s.adapter())) throw new JtuneException(s.label() + ": adapter folder " + s.adapter() + " does not exist");
        return s.model();
    }

    /** A full model as {@code name}; an adapter version as {@code name} over its base, served as {@code name-base}. */
    static ServedModels models(RegistryWatcher.Served s, String name) throws JtuneException {
        return ServedModels.load(s.model(), baseName(s, name), adapters(s, name));
    }

    /**
     * The chat formats of a version, under both NAME and NAME-base whatever it serves (a full model's
     * own under both), so that versions of either kind compare name by name: NAME is the version (its
     * adapter's format over the model's), NAME-base its model alone.
     */
    private static Map<String, ChatFormat> formats(RegistryWatcher.Served s, ServeConfig config) throws JtuneException {
        String name = config.baseName();
        Map<String, ChatFormat> formats = new LinkedHashMap<>();
        formats.put(name + "-base", ChatFormat.resolve(s.model(), null, config.chatTemplate(), config.systemMessage()));
        formats.put(name, ChatFormat.resolve(s.model(), s.adapter(), config.chatTemplate(), config.systemMessage()));
        return formats;
    }

    /** The name the version's base model answers as: {@code name} for a full model, {@code name-base} under an adapter. */
    private static String baseName(RegistryWatcher.Served s, String name) {
        return s.adapter() == null ? name : name + "-base";
    }

    /** The version's adapter served as {@code name}; none for a full model. */
    private static Map<String, Path> adapters(RegistryWatcher.Served s, String name) {
        Map<String, Path> adapters = new LinkedHashMap<>();
        if (s.adapter() != null) adapters.put(name, s.adapter());
        return adapters;
    }

    /**
     * What must not change across a switch, as the request threads use it: the tokenizer files (a hash; of
     * tokenizer_config.json without the chat template and recorded system message, which a full-model version
     * keeps there and which are compared as the formats say them), the stop ids, and each served name's chat
     * template and system message ("" for none).
     */
    private record TextKey(String tokenizerFiles, List<Integer> stopIds, Map<String, String> templates, Map<String, String> systemMessages) {
        static TextKey of(Path dir, PromptCodec codec) throws JtuneException {
            Map<String, String> templates = new LinkedHashMap<>(), systems = new LinkedHashMap<>();
            for (var f : codec.formats().entrySet()) {
                ChatFormat format = f.getValue();
                templates.put(f.getKey(), format.template() == null ? "" : format.template().source());
                systems.put(f.getKey(), format.systemMessage() == null ? "" : format.systemMessage());
            }
            try {
                MessageDigest sha = MessageDigest.getInstance("SHA-256");
                for (String f : new String[] {"tokenizer.json", "tokenizer_config.json", "tokenizer.model"}) {
                    Path p = dir.resolve(f);
                    sha.update(f.getBytes(java.nio.charset.StandardCharsets.UTF_8));
                    if (Files.isRegularFile(p)) sha.update(f.equals("tokenizer_config.json") ? withoutPromptFormat(p) : Files.readAllBytes(p));
                }
                return new TextKey(HexFormat.of().formatHex(sha.digest()), codec.stopIds(), templates, systems);
            } catch (java.io.IOException | java.security.NoSuchAlgorithmException e) {
                throw new JtuneException("cannot read the tokenizer files of " + dir + ": " + e.getMessage(), e);
            }
        }

        /** tokenizer_config.json without "chat_template" and {@value PromptFormat#SYSTEM_MESSAGE_KEY} (as it is, when not a JSON object). */
        private static byte[] withoutPromptFormat(Path config) throws java.io.IOException {
            byte[] bytes = Files.readAllBytes(config);
            try {
                if (JSON.readTree(bytes) instanceof ObjectNode o) {
                    o.remove(List.of("chat_template", PromptFormat.SYSTEM_MESSAGE_KEY));
                    return JSON.writeValueAsBytes(o);
                }
            } catch (java.io.IOException notJson) {
                // the tokenizer loaded it, or the server would not be running; compare the bytes
            }
            return bytes;
        }

        /** What differs from {@code start} ("system message", "tokenizer files and stop ids"), or null when nothing does. */
        String differences(TextKey start) {
            List<String> parts = new ArrayList<>();
            if (!tokenizerFiles.equals(start.tokenizerFiles)) parts.add("tokenizer files");
            if (!templates.equals(start.templates)) parts.add("chat template");
            if (!systemMessages.equals(start.systemMessages)) parts.add("system message");
            if (!stopIds.equals(start.stopIds)) parts.add("stop ids");
            if (parts.isEmpty()) return null;
            String last = parts.removeLast();
            return parts.isEmpty() ? last : String.join(", ", parts) + " and " + last;
        }
    }
}
