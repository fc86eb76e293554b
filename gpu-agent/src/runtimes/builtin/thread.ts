import { parentPort } from "node:worker_threads";
import { JobError } from "../../errors.ts";
import { FACTORIES, type LoadedModel } from "./models/index.ts";
import type { FromModel, ToModel } from "./protocol.ts";

/**
 * The model thread: models load here once and stay loaded between jobs, and inference runs here so that the main
 * thread's heartbeat timer is never starved by a long synchronous kernel.
 */
const port = parentPort!;
const loaded = new Map<string, Promise<LoadedModel>>();

/** The model, loaded and warmed on first use; a failed load is forgotten so the next job tries again. */
function get(slug: string): Promise<LoadedModel> {
  const existing = loaded.get(slug);
  if (existing) return existing;
  const f = FACTORIES.find((x) => x.slug === slug);
  if (!f) throw new JobError("model_unavailable", `model ${slug} is not served by this agent`);
  const p = f.load().then(async (m) => {
    await m.warmup();
    return m;
  });
  p.catch(() => loaded.delete(slug));
  loaded.set(slug, p);
  return p;
}

async function available(): Promise<string[]> {
  const models: string[] = [];
  for (const f of FACTORIES) if (await f.available()) models.push(f.slug);
  return models;
}

/** Load time (0 when warm) and execution time are measured apart: only the execution is billed. */
async function run(msg: Extract<ToModel, { type: "run" }>): Promise<FromModel> {
  const t0 = performance.now();
  const m = await get(msg.model);
  const loadMs = Math.round(performance.now() - t0);
  const t1 = performance.now();
  const r = await m.run(msg.params, msg.files);
  const gpuMs = Math.round(performance.now() - t1);
  return { type: "result", id: msg.id, outputs: r.outputs, json: r.json, gpuMs, loadMs };
}

function failure(id: number, e: unknown): FromModel {
  const je = e instanceof JobError ? e : null;
  const oom = /out of memory|bad_alloc|OOM/i.test(String(e));
  const kind = je?.kind ?? (oom ? "oom" : "runtime_error");
  return { type: "error", id, kind, message: (e as Error).message ?? String(e), retryable: je ? je.retryable : !oom };
}

async function handle(msg: ToModel): Promise<FromModel> {
  try {
    switch (msg.type) {
      case "available":
        return { type: "available", id: msg.id, models: await available() };
      case "warm": {
        const t = performance.now();
        await get(msg.model);
        return { type: "warmed", id: msg.id, loadMs: Math.round(performance.now() - t) };
      }
      case "run":
        return await run(msg);
    }
  } catch (e) {
    return failure(msg.id, e);
  }
}

// Jobs run one at a time on this thread; further ones wait their turn.
let chain: Promise<void> = Promise.resolve();
port.on("message", (msg: ToModel) => {
  chain = chain.then(async () => port.postMessage(await handle(msg))).catch(() => {});
});
