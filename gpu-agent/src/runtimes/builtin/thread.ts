import { parentPort } from "node:worker_threads";
import { JobError } from "../../errors.ts";
import { FACTORIES, type LoadedModel } from "./models.ts";
import type { FromModel, ToModel } from "./protocol.ts";

/**
 * The model thread: models load here once and stay loaded between jobs, and inference runs here so that the main
 * thread's heartbeat timer is never starved by a long synchronous kernel.
 */
const port = parentPort!;
const loaded = new Map<string, Promise<LoadedModel>>();

function get(slug: string): { model: Promise<LoadedModel>; cold: boolean } {
  const existing = loaded.get(slug);
  if (existing) return { model: existing, cold: false };
  const f = FACTORIES.find((x) => x.slug === slug);
  if (!f) throw new JobError("model_unavailable", `model ${slug} is not served by this agent`);
  const p = f.load().then(async (m) => {
    await m.warmup();
    return m;
  });
  p.catch(() => loaded.delete(slug));
  loaded.set(slug, p);
  return { model: p, cold: true };
}

// Jobs run one at a time on this thread; further ones wait their turn.
let chain: Promise<void> = Promise.resolve();

port.on("message", (msg: ToModel) => {
  chain = chain.then(() => handle(msg)).catch(() => {});
});

async function handle(msg: ToModel): Promise<void> {
  const send = (m: FromModel) => port.postMessage(m);
  try {
    if (msg.type === "available") {
      const models: string[] = [];
      for (const f of FACTORIES) if (await f.available()) models.push(f.slug);
      send({ type: "available", id: msg.id, models });
    } else if (msg.type === "warm") {
      const t = performance.now();
      await get(msg.model).model;
      send({ type: "warmed", id: msg.id, loadMs: Math.round(performance.now() - t) });
    } else {
      const t0 = performance.now();
      const { model } = get(msg.model);
      const m = await model;
      const loadMs = Math.round(performance.now() - t0);
      const t1 = performance.now();
      const r = await m.run(msg.params, msg.files);
      const gpuMs = Math.round(performance.now() - t1);
      send({ type: "result", id: msg.id, outputs: r.outputs, json: r.json, gpuMs, loadMs });
    }
  } catch (e) {
    const je = e instanceof JobError ? e : null;
    const oom = /out of memory|bad_alloc|OOM/i.test(String(e));
    send({
      type: "error",
      id: msg.id,
      kind: je?.kind ?? (oom ? "oom" : "runtime_error"),
      message: (e as Error).message ?? String(e),
      retryable: je ? je.retryable : !oom,
    });
  }
}
