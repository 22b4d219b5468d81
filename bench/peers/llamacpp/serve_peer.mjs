#!/usr/bin/env node
// llama.cpp as the peer of `jtune bench serve`: concurrent generation with several sequences in one context
// (node-llama-cpp batches the sequences' pending tokens into one llama_decode per cycle), on the same weights
// as the server under test (a GGUF export of its folder), in process (no HTTP).
//
//   install once:  (cd bench/peers/llamacpp && npm install --omit=optional)
//   run:           node bench/peers/llamacpp/serve_peer.mjs MODEL.gguf < jobs.jsonl > results.jsonl
//
// Each stdin line is one load level:
//   {"concurrency":16,"prompts":[[1,300,...],...],"max_tokens":32,"temperature":0.8,"top_p":0.95,"threads":2}
// `concurrency` workers, each on its own sequence, take prompts from the list in turn (history cleared between
// them) and generate max_tokens tokens each (end-of-sequence ids do not stop it). Answer, one line per job:
//   {"wall_s":..,"tokens":..,"requests":..,"ttft_ms":[..],"itl_ms":[..]}
// ttft: from a request's start (its turn on a sequence) to its first token; itl: between consecutive tokens.
// Errors answer {"error":"..."}. LLAMACPP_MLOCK=1 locks the weights in RAM (as jtune's --mlock; `jtune bench` sets it
// when -Djtune.mlock=true).
import readline from "node:readline";
import {performance} from "node:perf_hooks";

const modelPath = process.argv[2];
if (!modelPath) {
    console.error("usage: node serve_peer.mjs MODEL.gguf < jobs.jsonl");
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
    model = await llama.loadModel({modelPath, useMlock: process.env.LLAMACPP_MLOCK === "1"});
} catch (e) {
    console.log(JSON.stringify({error: "llama.cpp cannot load " + modelPath + ": " + e.message}));
    process.exit(4);
}

async function run(job) {
    const longest = Math.max(...job.prompts.map(p => p.length));
    const context = await model.createContext({
        contextSize: longest + job.max_tokens + 8, sequences: job.concurrency, threads: job.threads ?? 1
    });
    try {
        const queue = job.prompts.slice();
        const ttft = [], itl = [];
        let tokens = 0, requests = 0;
        async function worker(sequence) {
            for (let ids; (ids = queue.shift()) !== undefined;) {
                await sequence.clearHistory();
                const start = performance.now();
                let last = 0, n = 0;
                for await (const token of sequence.evaluate(ids, {temperature: job.temperature ?? 0, topP: job.top_p})) {
                    const now = performance.now();
                    if (n === 0) ttft.push(now - start);
                    else itl.push(now - last);
                    last = now;
                    if (++n >= job.max_tokens) break;
                }
                tokens += n;
                requests++;
            }
        }
        const t0 = performance.now();
        const sequences = [];
        for (let i = 0; i < job.concurrency; i++) sequences.push(context.getSequence());
        await Promise.all(sequences.map(worker));
        return {wall_s: (performance.now() - t0) / 1000, tokens, requests, ttft_ms: ttft, itl_ms: itl};
    } finally {
        await context.dispose();
    }
}

const lines = readline.createInterface({input: process.stdin, crlfDelay: Infinity});
for await (const line of lines) {
    if (!line.trim()) continue;
    let reply;
    try {
        reply = await run(JSON.parse(line));
    } catch (e) {
        reply = {error: String(e && e.message || e)};
    }
    process.stdout.write(JSON.stringify(reply) + "\n");
}
await model.dispose();
