import { Worker } from "node:worker_threads";
import { JobError } from "../../errors.ts";
import type { RunOutput, RunRequest, RuntimeAdapter } from "../types.ts";
import type { FromModel, ToModel } from "./protocol.ts";

type Pending = { resolve: (m: FromModel) => void; reject: (e: Error) => void };

/** The built-in runtime: real CPU models shipped in npm packages, run on a dedicated thread. */
export class BuiltinRuntime implements RuntimeAdapter {
  readonly name = "builtin";
  private worker: Worker;
  private pending = new Map<number, Pending>();
  private nextId = 1;
  private warmed = new Set<string>();

  constructor() {
    this.worker = new Worker(new URL("./thread.ts", import.meta.url));
    this.worker.on("message", (m: FromModel) => {
      const p = this.pending.get(m.id);
      this.pending.delete(m.id);
      p?.resolve(m);
    });
    this.worker.on("error", (e) => this.failAll(new JobError("backend_crash", `model thread crashed: ${e.message}`, true)));
    this.worker.on("exit", (code) => this.failAll(new JobError("backend_crash", `model thread exited with ${code}`, true)));
  }

  private failAll(e: Error) {
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }

  private send(msg: ToModel extends infer T ? (T extends ToModel ? Omit<T, "id"> : never) : never): Promise<FromModel> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...msg, id } as ToModel);
    });
  }

  async models(): Promise<string[]> {
    const r = await this.send({ type: "available" });
    return r.type === "available" ? r.models : [];
  }

  async warm(model: string): Promise<void> {
    const r = await this.send({ type: "warm", model });
    if (r.type === "error") throw new JobError(r.kind, r.message, r.retryable);
    this.warmed.add(model);
  }

  loaded(): string[] {
    return [...this.warmed];
  }

  async run(req: RunRequest): Promise<RunOutput> {
    const r = await this.send({ type: "run", model: req.model, params: req.params, files: req.files });
    if (r.type === "error") throw new JobError(r.kind, r.message, r.retryable);
    if (r.type !== "result") throw new JobError("runtime_error", `unexpected reply ${r.type}`, true);
    this.warmed.add(req.model);
    return { outputs: r.outputs, json: r.json, gpuMs: r.gpuMs, loadMs: r.loadMs };
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }
}
