#!/usr/bin/env node
// llama.cpp as an oracle for GGUF files, through node-llama-cpp's prebuilt CPU binaries (no build).
//
//   install once:  (cd bench/peers/llamacpp && npm install --omit=optional)
//   run:           node bench/peers/llamacpp/llamacpp.mjs MODEL.gguf [--vocab-only] < requests.jsonl  > answers.jsonl
//                  (--vocab-only: load only the tokenizer, for GGUF files without weights; no "generate")
//
// Reads one JSON request per line on stdin and answers one JSON line on stdout each:
//   {"op":"info"}                                   -> {"bos":1,"eos":2,"n_vocab":512,"add_bos":true}
//   {"op":"tokenize","text":"...","special":true}    -> {"ids":[...]}   (no BOS added; "special": parse
//                                                       special-token text, as Hugging Face always does)
//   {"op":"generate","ids":[1,403,...],"n":32}       -> {"ids":[...]}   (greedy, temperature 0, n new ids)
//   {"op":"logits","ids":[1,403,...]}                -> {"logits":[[...],...]}  (the raw next-token logits after each
//                                                       id, n_vocab values per position in token order)
// Errors answer {"error":"..."}; llama.cpp's own log goes to stderr. One thread unless LLAMACPP_THREADS says
// otherwise: on a busy machine llama.cpp's spinning worker threads made 392 tokens of stories260K take 141 s
// with 2 threads against 2 s with 1.
import readline from "node:readline";

const modelPath = process.argv[2];
const vocabOnly = process.argv.includes("--vocab-only");
if (!modelPath) {
    console.error("usage: node llamacpp.mjs MODEL.gguf < requests.jsonl");
    process.exit(2);
}
let nodeLlamaCpp;
try {
    nodeLlamaCpp = await import("node-llama-cpp");
} catch (e) {
    console.error("node-llama-cpp is not installed: run (cd bench/peers/llamacpp && npm install --omit=optional)\n" + e.message);
    process.exit(3);
}
const {getLlama, LlamaLogLevel} = nodeLlamaCpp;
const llama = await getLlama({gpu: false, build: "never", logLevel: LlamaLogLevel.warn});
let model;
try {
    model = await llama.loadModel({modelPath, vocabOnly});
} catch (e) {
    console.log(JSON.stringify({error: "llama.cpp cannot load " + modelPath + ": " + e.message}));
    process.exit(4);
}
const contextSize = Math.min(model.trainContextSize ?? 2048, 4096);
// an oracle keeps its KV cache in F32 (llama.cpp's default F16 would round every key and value to 11 bits)
const context = vocabOnly ? null : await model.createContext({contextSize, sequences: 1, threads: Number(process.env.LLAMACPP_THREADS ?? 1),
    experimentalKvCacheKeyType: "F32", experimentalKvCacheValueType: "F32", flashAttention: false});
const sequence = vocabOnly ? null : context.getSequence();

async function answer(req) {
    switch (req.op) {
        case "info":
            return {bos: model.tokens.bos, eos: model.tokens.eos, n_vocab: model.fileInsights?.vocabularySize ?? null,
                add_bos: model.tokens.shouldPrependBosToken ?? null, context: contextSize};
        case "tokenize":
            return {ids: Array.from(model.tokenize(req.text, req.special !== false))};
        case "generate": {
            if (vocabOnly) return {error: "generate needs the weights (loaded with --vocab-only)"};
            await sequence.clearHistory();
            const out = [];
            if (req.n > 0) {
                for await (const token of sequence.evaluate(req.ids, {temperature: 0})) {
                    out.push(token);
                    if (out.length >= req.n) break;
                }
            }
            return {ids: out};
        }
        case "logits": {
            if (vocabOnly) return {error: "logits needs the weights (loaded with --vocab-only)"};
            await sequence.clearHistory();
            const results = await sequence.controlledEvaluate(req.ids.map(id => [id, {generateNext: {logits: true}}]));
            const rows = [];
            for (let i = 0; i < req.ids.length; i++) {
                const map = results[i]?.next?.logits;
                if (!map) return {error: "no logits for position " + i};
                const row = new Array(map.size);
                for (const [token, logit] of map) row[token] = logit;
                rows.push(row);
            }
            return {logits: rows};
        }
        default:
            return {error: "unknown op " + req.op};
    }
}

const lines = readline.createInterface({input: process.stdin, crlfDelay: Infinity});
for await (const line of lines) {
    if (!line.trim()) continue;
    let reply;
    try {
        reply = await answer(JSON.parse(line));
    } catch (e) {
        reply = {error: String(e && e.message || e)};
    }
    process.stdout.write(JSON.stringify(reply) + "\n");
}
if (context) await context.dispose();
await model.dispose();
