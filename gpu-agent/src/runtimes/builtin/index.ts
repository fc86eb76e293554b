import { Worker } from "node:worker_threads";
import { JobError } from "../../errors.ts";
import type { RunOutput, RunRequest, RuntimeAdapter } from "../types.ts";
import type { FromModel, ToModel } from "./protocol.ts";
import { CrashSupervisor, type SupervisorOptions } from "../supervisor.ts";

type WithoutId<T> = T extends unknown ? Omit<T, "id"> : never;
type Pending = { resolve: (m: FromModel) => void; reject: (e: Error) => void };

/**
 * The built-in runtime: real CPU models shipped in npm packages, run on a dedicated thread. The thread is supervised:
 * if it dies (a native crash, OOM-kill, or terminate), the jobs on it fail as retryable `backend_crash` so the broker
 * requeues them, and the crash supervisor restarts the thread, which reloads its models, or gives up so the agent can
 * exit non-zero.
 */
export class BuiltinRuntime implements RuntimeAdapter {
  readonly name = "builtin";
  private worker!: Worker;
  private pending = new Map<number, Pending>();
  private nextId = 1;
  private warmed = new Set<string>();
  private restarting: Promise<void> | null = null;
  private supervisor: CrashSupervisor;

  constructor(opts: SupervisorOptions = {}) {
    this.supervisor = new CrashSupervisor("model thread", () => this.respawn(), { backoffMs: 500, ...opts });
    this.spawn();
  }

  /** times the thread was restarted after a crash */
  get restarts(): number {
    return this.supervisor.restarts;
  }

  get fatal(): string | null {
    return this.supervisor.fatal;
  }

  private spawn(): void {
    const w = new Worker(new URL("./thread.ts", import.meta.url));
    this.worker = w;
    w.on("message", (m: FromModel) => {
      const p = this.pending.get(m.id);
      this.pending.delete(m.id);
      p?.resolve(m);
    });
    w.on("error", () => {});
    w.on("exit", (code) => {
      if (w !== this.worker) return;
      this.failAll(new JobError("backend_crash", `model thread exited with ${code}`, true));
      if (!this.supervisor.stopping) this.restarting = this.supervisor.crashed(`exit ${code}`);
    });
  }

  /** A fresh thread that loads again the models the crashed one had loaded. */
  private async respawn(): Promise<void> {
    const models = [...this.warmed];
    this.warmed.clear();
    this.spawn();
    this.restarting = null;
    // the thread runs messages in order: these warm-ups finish before any job sent after them
    for (const m of models) await this.warm(m).catch(() => undefined);
  }

  /** Kills the model thread as a crash would (tests, and `kill -9` of a backend in spirit). */
  crashForTest(): Promise<number> {
    return this.worker.terminate();
  }

  private failAll(e: Error) {
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }

  private async send(msg: WithoutId<ToModel>): Promise<FromModel> {
    if (this.fatal) throw new JobError("backend_crash", this.fatal, true);
    if (this.restarting) await this.restarting;
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
    this.supervisor.stop();
    await this.worker.terminate();
  }
}
