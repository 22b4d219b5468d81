package org.jtune.serve.http;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import org.jtune.JtuneException;
import org.jtune.models.generate.SamplingConfig;
import org.jtune.models.generate.LogitsProcessor;
import org.jtune.models.structured.JsonConstraint;
import org.jtune.models.tools.ToolCall;
import org.jtune.models.tools.ToolReply;
import org.jtune.models.tools.ToolSyntax;
import org.jtune.models.tools.ToolUse;
import org.jtune.serve.api.ApiError;
import org.jtune.serve.api.CompletionRequest;
import org.jtune.serve.api.CompletionRequestParser;
import org.jtune.serve.api.ResponseJson;
import org.jtune.serve.engine.Engine;
import org.jtune.serve.engine.EngineRejection;
import org.jtune.serve.engine.GeneratedToken;
import org.jtune.serve.engine.GenerationRequest;
import org.jtune.serve.engine.Submission;
import org.jtune.serve.log.RequestLog;
import org.jtune.serve.log.RequestRecord;
import org.jtune.serve.metrics.ServerMetrics;
import org.jtune.serve.text.OutputText;
import org.jtune.serve.text.PromptCodec;
import org.jtune.serve.text.ReasoningSplit;

/**
 * POST /v1/chat/completions and /v1/completions on the request's own thread: parse and check the
 * body, render (with the chat format of the model the request names) and tokenize the prompt, check it against the
 * context, submit it to the engine (once per choice: n sequences), then turn the engine's tokens into text (stop
 * strings, held-back partial characters) and answer whole or as server-sent events. A choice's sequence is cancelled
 * when a stop string appears; all are when the client goes away, and in any case when this method leaves. Every request is logged, also those refused before
 * their body was read (a wrong key, a body over the limit: status, endpoint and time, no body).
 */
final class CompletionEndpoint {
    /** How often a non-streaming request that waits checks whether its client is still there. */
    private static final long PROBE_MILLIS = 100;

    private final Engine engine;
    private final PromptCodec codec;
    private final ServerMetrics metrics;
    private final RequestLog log;
    private final String fingerprint;
    private static final int KEPT_SCHEMAS = 64;
    private final Map<String, LogitsProcessor> constraints = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, LogitsProcessor> eldest) {
            return size() > KEPT_SCHEMAS;
        }
    };

    /** Chat answers carry the model's thinking apart from the content ({@link ReasoningSplit}): asked for, and the model has the tags. */
    private final boolean thinks;

    CompletionEndpoint(Engine engine, PromptCodec codec, ServerMetrics metrics, RequestLog log, String fingerprint, boolean reasoning) {
        this.engine = engine;
        this.codec = codec;
        this.metrics = metrics;
        this.log = log;
        this.fingerprint = fingerprint;
        this.thinks = reasoning && codec.thinks();
    }

    /**
     * The constraint of a response_format schema, kept per schema text (at most {@value #KEPT_SCHEMAS}, shared with the
     * tool constraints): clients send the same schema with every request, and a kept constraint has its token masks cached.
     */
    private LogitsProcessor constraint(JsonNode schema) throws ApiError {
        try {
            return kept(schema.toString(), () -> JsonConstraint.schema(schema, codec.tokenizer(), codec.stopIds()));
        } catch (IllegalArgumentException e) {
            throw ApiError.invalid("response_format: " + e.getMessage() + ".", "response_format", "unsupported_parameter");
        }
    }

    /** The constraint of a request's tools in a syntax, kept as the schemas' are. */
    private LogitsProcessor toolConstraint(ToolSyntax syntax, ToolUse tools) throws ApiError {
        try {
            return kept("tools " + syntax.name() + " " + tools, () -> syntax.constraint(tools, codec.tokenizer(), codec.stopIds()));
        } catch (IllegalArgumentException e) {
            throw ApiError.invalid("tools: " + e.getMessage() + ".", "tools", "unsupported_parameter");
        }
    }

    /** The kept constraint of a key, else a new one made (outside the lock: making one walks the vocabulary) and kept; null stays null. */
    private LogitsProcessor kept(String key, java.util.function.Supplier<LogitsProcessor> make) {
        synchronized (constraints) {
            if (constraints.containsKey(key)) return constraints.get(key);
        }
        LogitsProcessor made = make.get();
        synchronized (constraints) {
            constraints.put(key, made);
        }
        return made;
    }

    /** What goes into the request log, filled in as the request proceeds. */
    private static final class Trace {
        final String id;
        final Instant created = Instant.now();
        final long arrival = System.nanoTime();
        final String endpoint;
        String body = "";
        String model = "";
        String adapter;
        String modelVersion;
        String promptText;
        String output;
        Integer promptTokens;
        Integer completionTokens;
        Double ttftMs;
        String finish;
        String error;

        Trace(String id, String endpoint) {
            this.id = id;
            this.endpoint = endpoint;
        }
    }

    /** Answers a request refused before its body was read (401: no or wrong key) and logs it. */
    void refused(Exchange ex, CompletionRequest.Kind kind, ApiError e) throws IOException {
        Trace trace = new Trace(kind.idPrefix + HexFormat.of().formatHex(randomBytes()), kind.path);
        trace.modelVersion = engine.modelVersion();
        trace.error = e.getMessage();
        try {
            ex.error(e);
        } finally {
            finish(ex, trace);
        }
    }

    /** Reads the body (at most {@code maxBodyBytes}: 413 beyond), generates, answers, and logs the request. */
    void handle(Exchange ex, long maxBodyBytes, CompletionRequest.Kind kind) throws IOException {
        Trace trace = new Trace(kind.idPrefix + HexFormat.of().formatHex(randomBytes()), kind.path);
        trace.modelVersion = engine.modelVersion(); // the version requests go to now; the one that took it, once submitted
        try {
            byte[] body = ex.body(maxBodyBytes);
            trace.body = new String(body, StandardCharsets.UTF_8);
            JsonNode json = CompletionRequestParser.readJson(body);
            if (json.path("model").isTextual()) trace.model = json.get("model").asText();
            CompletionRequest req = CompletionRequestParser.parse(kind, json);
            if (!engine.modelNames().contains(req.model())) throw ApiError.unknownModel(req.model(), engine.modelNames());
            trace.adapter = req.model().equals(engine.modelNames().getFirst()) ? null : req.model();
            List<PromptCodec.Prompt> prompts = prompts(req, trace);
            // echo with max_tokens 0 scores the prompt alone: the engine computes the prompt and one token, which is dropped
            int[] maxNew = new int[prompts.size()];
            for (int p = 0; p < maxNew.length; p++) maxNew[p] = Math.max(1, maxNewTokens(req, prompts.get(p).ids().length));
            long seed = req.seed() != null ? req.seed() : ThreadLocalRandom.current().nextLong();
            var sampling = new SamplingConfig(req.temperature(), 0, req.topP(), 0f, 1f, seed, maxNew[0], codec.stopIds(), List.of());
            if (req.penalties().isActive()) {
                for (int id : req.penalties().bias().keySet()) {
                    if (id >= codec.tokenizer().vocabSize()) {
                        throw ApiError.invalid("'logit_bias' names token " + id + ", beyond the vocabulary of " + codec.tokenizer().vocabSize() + ".", "logit_bias");
                    }
                }
                sampling = sampling.withProcessor(req.penalties());
            }
            if (req.jsonSchema() != null) sampling = sampling.withProcessor(constraint(req.jsonSchema()));
            ToolSyntax syntax = req.tools() != null ? codec.toolSyntax(req.model()) : null;
            LogitsProcessor toolConstraint = syntax != null ? toolConstraint(syntax, req.tools()) : null; // null: tool_choice none needs none
            if (toolConstraint != null) sampling = sampling.withProcessor(toolConstraint);
            if (syntax != null && !req.tools().offered()) syntax = null; // not offered: the answer is text, read as such
            // per prompt, best_of (n unless asked) sequences of it (sharing its cached prefix), candidate i sampling with
            // seed + i, reporting as choice p·best_of + i; ranking them needs each token's log-probability even when the
            // answer shows none
            TokenQueue queue = new TokenQueue();
            List<Submission> subs = new ArrayList<>();
            int logprobs = req.bestOf() > req.n() ? Math.max(req.topLogprobs(), 0) : req.topLogprobs();
            boolean promptLogprobs = req.echo() && req.logprobs();
            try {
                for (int p = 0; p < prompts.size(); p++) {
                    for (int i = 0; i < req.bestOf(); i++) {
                        subs.add(engine.submit(new GenerationRequest(trace.id, req.model(), prompts.get(p).ids(),
                                sampling.withMaxNewTokens(maxNew[p]).withSeed(seed + i), logprobs, promptLogprobs), queue.sink(p * req.bestOf() + i)));
                    }
                }
            } catch (EngineRejection e) {
                subs.forEach(Submission::cancel);
                throw switch (e.reason()) {
                    case QUEUE_FULL -> ApiError.queueFull("The server's queue is full: " + e.getMessage() + ".");
                    case SHUTTING_DOWN -> ApiError.unavailable("The server is shutting down; retry on another instance.");
                    case UNKNOWN_MODEL -> ApiError.unknownModel(req.model(), engine.modelNames());
                    case TOO_LONG -> ApiError.invalid(e.getMessage(), kind == CompletionRequest.Kind.CHAT ? "messages" : "prompt",
                            "context_length_exceeded");
                };
            }
            if (subs.getFirst().modelVersion() != null) trace.modelVersion = subs.getFirst().modelVersion();
            ex.onClientGone(() -> subs.forEach(Submission::cancel));
            try {
                ResponseJson shape = new ResponseJson(kind, trace.id, trace.created.getEpochSecond(), req.model(), fingerprint, codec::tokenText);
                if (req.stream()) stream(ex, req, syntax, queue, subs, shape, trace, prompts);
                else whole(ex, req, syntax, queue, subs, shape, trace, prompts);
            } finally {
                subs.forEach(Submission::cancel); // no-op for those that finished; frees the sequences at once otherwise
            }
        } catch (ApiError e) {
            trace.error = e.getMessage();
            trace.finish = null;
            ex.error(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            trace.finish = "cancelled";
        } finally {
            finish(ex, trace);
        }
    }

    /** The request's prompts (one for chat), tokenized; the log keeps the first's text and every prompt's tokens. */
    private List<PromptCodec.Prompt> prompts(CompletionRequest req, Trace trace) throws ApiError {
        List<PromptCodec.Prompt> prompts = new ArrayList<>();
        for (int i = 0; i < req.prompts(); i++) prompts.add(prompt(req, i));
        trace.promptText = prompts.getFirst().text();
        trace.promptTokens = prompts.stream().mapToInt(p -> p.ids().length).sum();
        return prompts;
    }

    private PromptCodec.Prompt prompt(CompletionRequest req, int index) throws ApiError {
        PromptCodec.Prompt p;
        if (req.messages() != null) {
            if (codec.format(req.model()).template() == null) {
                throw ApiError.invalid("The model '" + req.model() + "' has no chat template; start the server with --chat-template "
                        + "(or send a plain prompt to /v1/completions).", "messages");
            }
            try {
                p = codec.chat(req.model(), req.messages(), req.tools(), req.templateKwargs());
            } catch (JtuneException e) {
                throw ApiError.invalid("The messages cannot be rendered with the chat template: " + e.getMessage(), "messages");
            }
        } else if (req.promptTexts() != null) {
            p = codec.text(req.promptTexts().get(index));
        } else {
            int vocab = codec.tokenizer().vocabSize();
            int[] ids = req.promptIds().get(index);
            for (int id : ids) {
                if (id >= vocab) throw ApiError.invalid("Token id " + id + " in 'prompt' is outside the vocabulary (0.." + (vocab - 1) + ").", "prompt");
            }
            p = new PromptCodec.Prompt(codec.decode(ids), ids);
        }
        if (p.ids().length == 0) throw ApiError.invalid("The prompt is empty (0 tokens).", req.messages() != null ? "messages" : "prompt");
        return p;
    }

    /** max_tokens as asked, or what the context leaves; 400 (OpenAI's wording, with the limits) when it does not fit. */
    private int maxNewTokens(CompletionRequest req, int promptTokens) throws ApiError {
        int context = engine.contextLength();
        String param = req.messages() != null ? "messages" : "prompt";
        String what = req.messages() != null ? "messages" : "prompt";
        if (promptTokens >= context) {
            throw ApiError.invalid("This model's maximum context length is " + context + " tokens. However, your " + what + " resulted in "
                    + promptTokens + " tokens, which leaves no room for a completion. Please reduce the length of the " + what + ".",
                    param, "context_length_exceeded");
        }
        if (req.maxTokens() == null) return context - promptTokens;
        if ((long) promptTokens + req.maxTokens() > context) {
            throw ApiError.invalid("This model's maximum context length is " + context + " tokens. However, you requested "
                    + (promptTokens + (long) req.maxTokens()) + " tokens (" + promptTokens + " in the " + what + ", " + req.maxTokens()
                    + " in the completion). Please reduce the length of the " + what + " or completion.", param, "context_length_exceeded");
        }
        return req.maxTokens();
    }

    /**
     * What one choice has produced so far: its text (stop strings, held-back partial characters), logprobs, end; with
     * tools, its ids, from which the calls are read at the end (text from where the calls open is held back from streaming).
     */
    private final class Choice {
        final OutputText out;
        final List<GeneratedToken> logprobs;
        final Timing timing;
        final ToolSyntax syntax; // null: no tools offered
        final ToolUse tools;
        int[] ids = new int[16];
        int count;
        boolean holding;         // the calls have opened: text is held back until the end
        String content;          // once ended with tools: the text besides the calls (null: none)
        List<ToolCall> calls = List.of();
        String finish;
        double logprobSum;       // of its tokens (the stop token too), for best_of
        int scored;
        final boolean dropGenerated;             // echo with max_tokens 0: the one token the engine made is not the answer's
        final List<GeneratedToken> promptLogprobs; // echo with logprobs: the prompt's tokens after the first, in order
        int sentChars, sentLogprobs; // streaming: what the chunks so far carried
        final PromptCodec.Prompt prompt; // the prompt it answers
        final boolean thinks;        // chat with a thinking model: reasoning apart from the content
        final ReasoningSplit split;  // streaming such a chat: the split so far (whole answers split their text at the end)
        String reasoningDelta = "";  // streaming: reasoning the next chunk carries
        int fedChars;                // streaming: characters of the text given to the split (or streamed, without one)

        Choice(CompletionRequest req, ToolSyntax syntax, Trace trace, PromptCodec.Prompt prompt) {
            this.prompt = prompt;
            thinks = CompletionEndpoint.this.thinks && req.kind() == CompletionRequest.Kind.CHAT;
            split = thinks && req.stream() ? new ReasoningSplit(ReasoningSplit.startsInside(prompt.text())) : null;
            out = new OutputText(codec::decode, req.stop());
            logprobs = req.logprobs() ? new ArrayList<>() : null;
            timing = new Timing(trace);
            this.syntax = syntax;
            this.tools = req.tools();
            dropGenerated = req.maxTokens() != null && req.maxTokens() == 0;
            promptLogprobs = req.echo() && req.logprobs() ? new ArrayList<>() : null;
        }

        void promptToken(int position, GeneratedToken t) {
            if (position != promptLogprobs.size() + 1) throw new IllegalStateException("prompt token " + position + " after " + promptLogprobs.size());
            promptLogprobs.add(t);
        }

        /** echo's logprobs: the prompt's first token (none: nothing precedes it), the others, then the answer's. */
        List<GeneratedToken> echoedLogprobs() {
            if (logprobs == null) return null;
            List<GeneratedToken> all = new ArrayList<>();
            all.add(GeneratedToken.plain(prompt.ids()[0], 0));
            all.addAll(promptLogprobs);
            all.addAll(logprobs);
            return all;
        }

        /** The token's text delta; cancels the sequence when a stop string appears. */
        String token(GeneratedToken t, Submission sub) {
            timing.token(t);
            if (dropGenerated) {
                sub.cancel();
                finish = "length";
                return "";
            }
            String delta = out.add(t.id());
            if (logprobs != null) logprobs.add(t);
            if (!Double.isNaN(t.logprob())) {
                logprobSum += t.logprob();
                scored++;
            }
            if (syntax != null) {
                if (count == ids.length) ids = Arrays.copyOf(ids, count * 2);
                ids[count++] = t.id();
                holding |= syntax.holdsAll() || syntax.opensCalls(ids, count, codec.tokenizer());
            }
            if (out.stopped()) {
                sub.cancel();
                finish = "stop";
                if (holding) return end();
            }
            return holding ? "" : split(delta, false);
        }

        /** The content part of streamed text {@code raw}, its reasoning part kept for the next chunk; {@code ended}: the last. */
        private String split(String raw, boolean ended) {
            fedChars += raw.length();
            if (split == null) return raw;
            ReasoningSplit.Delta d = split.add(raw);
            String content = d.content();
            reasoningDelta += d.reasoning();
            if (ended) {
                ReasoningSplit.Delta rest = split.finish();
                content += rest.content();
                reasoningDelta += rest.reasoning();
            }
            return content;
        }

        /** The reasoning no chunk has carried yet, now marked carried. */
        String unsentReasoning() {
            String r = reasoningDelta;
            reasoningDelta = "";
            return r;
        }

        /** A whole answer's text split into reasoning (null: none) and content, for a thinking model. */
        ReasoningSplit whole() {
            return ReasoningSplit.of(text() == null ? "" : text(), ReasoningSplit.startsInside(prompt.text()));
        }

        /**
         * Once generation ended (finish set): what is left to stream. With tools the calls are read out here (the finish
         * becomes "tool_calls" when there are any), and the text besides them is what was held back.
         */
        String end() {
            String held = out.finish();
            if (!holding) return split(held, true);
            ToolReply reply = syntax.parse(Arrays.copyOf(ids, count), codec.tokenizer(), tools);
            calls = reply.calls();
            content = reply.content();
            if ("stop".equals(finish) && !calls.isEmpty()) finish = "tool_calls";
            return split(content != null && content.length() > fedChars ? content.substring(fedChars) : "", true);
        }

        /** The answer's text once ended. */
        String text() {
            return holding ? content : out.text();
        }

        /** The logprobs no chunk has carried yet, now marked carried (null without logprobs). */
        List<GeneratedToken> unsentLogprobs() {
            if (logprobs == null) return null;
            List<GeneratedToken> unsent = List.copyOf(logprobs.subList(sentLogprobs, logprobs.size()));
            sentLogprobs = logprobs.size();
            return unsent;
        }
    }

    /** best_of candidates per prompt, prompt after prompt (the engine reports candidate i of prompt p as p·best_of + i). */
    private List<Choice> choices(CompletionRequest req, ToolSyntax syntax, Trace trace, List<PromptCodec.Prompt> prompts) {
        List<Choice> choices = new ArrayList<>();
        for (PromptCodec.Prompt p : prompts) for (int i = 0; i < req.bestOf(); i++) choices.add(new Choice(req, syntax, trace, p));
        return choices;
    }

    /**
     * The answer's choices, n per prompt: of each prompt's best_of candidates, the n with the highest log-probability per
     * token (OpenAI's "best"), best first, ties in seed order; with best_of = n, all of them in seed order.
     */
    private static List<Choice> best(List<Choice> candidates, int bestOf, int n) {
        if (bestOf == n) return candidates;
        List<Choice> answered = new ArrayList<>();
        for (int p = 0; p < candidates.size(); p += bestOf) {
            List<Choice> ranked = new ArrayList<>(candidates.subList(p, p + bestOf));
            ranked.sort(java.util.Comparator.comparingDouble((Choice c) -> c.scored == 0 ? Double.NEGATIVE_INFINITY : c.logprobSum / c.scored).reversed());
            answered.addAll(ranked.subList(0, n));
        }
        return answered;
    }

    /** The request log keeps the first answered choice's text and finish, and the tokens of all candidates. */
    private static void record(Trace trace, List<Choice> choices, Choice first) {
        trace.output = first.out.text();
        trace.finish = first.finish;
        int tokens = 0;
        for (Choice c : choices) tokens += c.out.tokens();
        trace.completionTokens = tokens;
        for (Choice c : choices) if ("cancelled".equals(c.finish) || "error".equals(c.finish)) trace.finish = c.finish;
    }

    private static boolean allFinished(List<Choice> choices) {
        for (Choice c : choices) if (c.finish == null) return false;
        return true;
    }

    private void whole(Exchange ex, CompletionRequest req, ToolSyntax syntax, TokenQueue queue, List<Submission> subs, ResponseJson shape, Trace trace,
                       List<PromptCodec.Prompt> prompts)
            throws IOException, InterruptedException, ApiError {
        List<Choice> choices = choices(req, syntax, trace, prompts);
        long lastProbe = System.nanoTime();
        while (!allFinished(choices)) {
            TokenQueue.Event e = queue.poll(PROBE_MILLIS);
            if (System.nanoTime() - lastProbe >= PROBE_MILLIS * 1_000_000) {
                lastProbe = System.nanoTime();
                if (ex.probeClientGone()) subs.forEach(Submission::cancel); // the engine's CANCELLED finishes follow
            }
            if (e == null) continue;
            Choice c = choices.get(e.choice());
            if (c.finish != null) continue; // ended by a stop string: what the engine still sends is dropped
            if (e instanceof TokenQueue.Token t) c.token(t.token(), subs.get(e.choice()));
            else if (e instanceof TokenQueue.PromptToken p) c.promptToken(p.position(), p.token());
            else c.finish = finishReason((TokenQueue.Finished) e, trace);
        }
        for (Choice c : choices) c.end();
        List<Choice> answered = best(choices, req.bestOf(), req.n());
        record(trace, choices, answered.getFirst());
        if (trace.finish.equals("cancelled")) {
            // the client went away (or the server is stopping): nobody to answer
            if (!ex.isClientGone()) throw ApiError.unavailable("The request was cancelled: the server is shutting down.");
            ex.abort(new Exchange.ClientGone(null));
            return;
        }
        if (trace.finish.equals("error")) throw ApiError.internal("Generation failed: " + trace.error);
        List<ResponseJson.Choice> answer = new ArrayList<>();
        for (Choice c : answered) {
            if (req.echo()) answer.add(new ResponseJson.Choice(c.prompt.text() + c.text(), null, c.finish, c.echoedLogprobs(), c.calls));
            else if (c.thinks) {
                ReasoningSplit parts = c.whole();   // no text at all (only calls): content stays null
                answer.add(new ResponseJson.Choice(c.text() == null ? null : parts.content(), parts.reasoning(), c.finish, c.logprobs, c.calls));
            } else answer.add(new ResponseJson.Choice(c.text(), null, c.finish, c.logprobs, c.calls));
        }
        ex.json(200, shape.complete(answer, new ResponseJson.Usage(trace.promptTokens, trace.completionTokens)));
    }

    private void stream(Exchange ex, CompletionRequest req, ToolSyntax syntax, TokenQueue queue, List<Submission> subs, ResponseJson shape, Trace trace,
                        List<PromptCodec.Prompt> prompts)
            throws IOException, InterruptedException {
        List<Choice> choices = choices(req, syntax, trace, prompts);
        boolean chat = req.kind() == CompletionRequest.Kind.CHAT;
        try {
            ex.startEvents();
            if (chat) for (int i = 0; i < choices.size(); i++) ex.event(shape.chunk(i, "", true, null, 0, null, req.includeUsage()).toString());
            boolean failed = false;
            while (!allFinished(choices)) {
                TokenQueue.Event e = queue.take();
                int i = e.choice();
                Choice c = choices.get(i);
                if (c.finish != null) continue; // ended by a stop string: what the engine still sends is dropped
                String delta;
                if (e instanceof TokenQueue.Token t) {
                    delta = c.token(t.token(), subs.get(i));
                } else {
                    c.finish = finishReason((TokenQueue.Finished) e, trace);
                    delta = c.finish.equals("cancelled") ? "" : c.end();
                }
                if (c.finish != null && (c.finish.equals("cancelled") || c.finish.equals("error"))) {
                    failed = true;
                    subs.forEach(Submission::cancel);
                    for (Choice other : choices) if (other.finish == null) other.finish = c.finish;
                    break;
                }
                String reasoning = c.unsentReasoning();
                if (!reasoning.isEmpty()) {
                    ex.event(shape.reasoningChunk(i, reasoning, delta.isEmpty() ? c.unsentLogprobs() : null, req.includeUsage()).toString());
                }
                if (!delta.isEmpty()) {
                    ex.event(shape.chunk(i, delta, false, c.unsentLogprobs(), c.sentChars, null, req.includeUsage()).toString());
                    c.sentChars += delta.length();
                }
                if (c.finish != null && !c.calls.isEmpty()) ex.event(shape.toolCallsChunk(i, c.calls, req.includeUsage()).toString());
                if (c.finish != null) {
                    List<GeneratedToken> lp = c.unsentLogprobs();
                    if (lp != null && lp.isEmpty()) lp = null;
                    ex.event(shape.chunk(i, chat ? null : "", false, lp, c.sentChars, c.finish, req.includeUsage()).toString());
                }
            }
            record(trace, choices, choices.getFirst());
            if (failed && trace.finish.equals("cancelled")) {
                ex.abort(new Exchange.ClientGone(null));
                return;
            }
            if (failed) {
                ex.event(ApiError.internal("Generation failed: " + trace.error).toJson().toString());
            } else if (req.includeUsage()) {
                ex.event(shape.usageChunk(new ResponseJson.Usage(trace.promptTokens, trace.completionTokens)).toString());
            }
            ex.event("[DONE]");
            ex.endEvents();
        } catch (Exchange.ClientGone gone) {
            subs.forEach(Submission::cancel);
            record(trace, choices, choices.getFirst());
            trace.finish = "cancelled";
            ex.abort(gone);
        }
    }

    /** stop / length / cancelled / error, as the log and the answer name them. */
    private static String finishReason(TokenQueue.Finished f, Trace trace) {
        return switch (f.reason()) {
            case STOP -> "stop";
            case LENGTH -> "length";
            case CANCELLED -> "cancelled";
            case ERROR -> {
                trace.error = f.error();
                yield "error";
            }
        };
    }

    /** Time to first token and inter-token latency from the engine's timestamps. */
    private final class Timing {
        private final Trace trace;
        private long last;

        Timing(Trace trace) {
            this.trace = trace;
        }

        void token(GeneratedToken t) {
            if (last == 0 && trace.ttftMs == null) { // the request's first token (of any choice)
                long ttft = t.nanoTime() - trace.arrival;
                trace.ttftMs = ttft / 1e6;
                metrics.timeToFirstToken(ttft);
            } else if (last != 0) {
                metrics.interTokenLatency(t.nanoTime() - last);
            }
            last = t.nanoTime();
        }
    }

    private void finish(Exchange ex, Trace trace) {
        long latency = System.nanoTime() - trace.arrival;
        int status = ex.status() == 0 ? 499 : ex.status(); // 499: the client closed the request before an answer
        if (status == 200) metrics.requestLatency(trace.endpoint, latency);
        if (log == null) return;
        try {
            log.log(new RequestRecord(trace.id, trace.created, trace.endpoint, trace.model, trace.adapter, trace.modelVersion, trace.body,
                    trace.promptText, trace.output, trace.promptTokens, trace.completionTokens, trace.ttftMs, latency / 1e6,
                    trace.finish, status, trace.error));
        } catch (IllegalStateException closed) {
            System.err.println("jtune serve: request " + trace.id + " finished after the request log closed; not logged");
        }
    }

    private static byte[] randomBytes() {
        byte[] b = new byte[12];
        ThreadLocalRandom.current().nextBytes(b);
        return b;
    }
}
