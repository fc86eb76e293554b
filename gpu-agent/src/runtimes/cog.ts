import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { JobAborted, JobError } from "../errors.ts";
import { Stopwatch } from "../meter.ts";
import type { RunOutput, RunRequest, RuntimeAdapter } from "./types.ts";
import { BackendProcess, type BackendProcessOptions } from "./process.ts";

/** The prediction object a Cog server returns and POSTs to webhooks (replicate/cog docs/reference/http.md). */
interface Prediction {
  id: string;
  status: "starting" | "processing" | "succeeded" | "failed" | "canceled";
  output?: unknown;
  error?: string | null;
  metrics?: { predict_time?: number };
}

export interface CogOptions {
  /** the Cog server, e.g. http://127.0.0.1:5000 */
  url: string;
  /** the catalog model this server serves */
  model: string;
  /** how long setup may take before the backend counts as failed (COG_SETUP_TIMEOUT) */
  setupTimeoutMs?: number;
  /** run the Cog server as a supervised child of the agent (restarted when it dies) */
  process?: Omit<BackendProcessOptions, "onExit">;
}

type Waiter = { resolve: (p: Prediction) => void; reject: (e: Error) => void };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Runs jobs on a Cog server: readiness from `GET /health-check`, each job as an idempotent async prediction
 * (`PUT /predictions/{id}` with `Prefer: respond-async`) whose completion arrives on a local webhook, cancel with
 * `POST /predictions/{id}/cancel`. Cog has no queue: 409 means every slot is busy.
 */
export class CogRuntime implements RuntimeAdapter {
  readonly name = "cog";
  private opts: CogOptions & { setupTimeoutMs: number };
  readonly backend: BackendProcess | null;
  private server: Server | null = null;
  private hookBase = "";
  private waiters = new Map<string, Waiter>();
  private ready = false;

  constructor(opts: CogOptions) {
    this.opts = { setupTimeoutMs: 300_000, ...opts };
    // When the backend dies, its predictions' webhooks never come: fail them now as retryable crashes.
    this.backend = opts.process
      ? new BackendProcess({
          ...opts.process,
          onExit: (code, signal) => this.failAll(`cog backend exited (${code ?? signal})`),
        })
      : null;
    this.backend?.start();
  }

  private failAll(reason: string): void {
    this.ready = false;
    for (const w of this.waiters.values()) w.reject(new JobError("backend_crash", reason, true));
    this.waiters.clear();
  }

  private async listen(): Promise<void> {
    if (this.server) return;
    this.server = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      res.writeHead(200).end();
      try {
        const p = JSON.parse(Buffer.concat(chunks).toString()) as Prediction;
        if (["succeeded", "failed", "canceled"].includes(p.status)) {
          this.waiters.get(p.id)?.resolve(p);
          this.waiters.delete(p.id);
        }
      } catch {}
    });
    await new Promise<void>((r) => this.server!.listen(0, "127.0.0.1", r));
    this.hookBase = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/cog/`;
  }

  async health(): Promise<string> {
    try {
      const r = await fetch(`${this.opts.url}/health-check`, { signal: AbortSignal.timeout(5000) });
      return ((await r.json()) as { status: string }).status;
    } catch {
      return "UNREACHABLE";
    }
  }

  async models(): Promise<string[]> {
    return [this.opts.model];
  }

  /** Waits for READY; SETUP_FAILED or DEFUNCT (or the setup timeout) means this backend cannot serve. */
  async warm(_model: string): Promise<void> {
    await this.listen();
    const deadline = Date.now() + this.opts.setupTimeoutMs;
    for (;;) {
      const s = await this.health();
      if (s === "READY" || s === "BUSY") {
        this.ready = true;
        return;
      }
      if (s === "SETUP_FAILED" || s === "DEFUNCT") throw new JobError("backend_crash", `cog backend is ${s}`, true);
      if (Date.now() > deadline)
        throw new JobError(
          "model_unavailable",
          `cog backend not ready after ${this.opts.setupTimeoutMs} ms (${s})`,
          true,
        );
      await sleep(250);
    }
  }

  loaded(): string[] {
    return this.ready ? [this.opts.model] : [];
  }

  async run(req: RunRequest): Promise<RunOutput> {
    await this.listen();
    if (!this.ready && this.backend) await this.warm(this.opts.model);
    const input: Record<string, unknown> = { ...req.params };
    for (const [k, f] of Object.entries(req.files))
      input[k] = `data:${f.contentType};base64,${Buffer.from(f.bytes).toString("base64")}`;
    const done = new Promise<Prediction>((resolve, reject) => this.waiters.set(req.jobId, { resolve, reject }));
    const sw = new Stopwatch();
    let res: Response;
    try {
      res = await fetch(`${this.opts.url}/predictions/${encodeURIComponent(req.jobId)}`, {
        method: "PUT",
        headers: { "content-type": "application/json", prefer: "respond-async" },
        body: JSON.stringify({
          id: req.jobId,
          input,
          webhook: this.hookBase + req.jobId,
          webhook_events_filter: ["completed"],
        }),
      });
    } catch (e) {
      this.waiters.delete(req.jobId);
      throw new JobError("backend_crash", `cog backend unreachable: ${(e as Error).message}`, true);
    }
    if (res.status === 409) {
      this.waiters.delete(req.jobId);
      throw new JobError("runtime_error", "cog backend busy (409): every slot is running a prediction", true);
    }
    if (res.status === 422) {
      this.waiters.delete(req.jobId);
      throw new JobError("invalid_input", `cog rejected the input: ${(await res.text()).slice(0, 500)}`);
    }
    if (!res.ok) {
      this.waiters.delete(req.jobId);
      throw new JobError("runtime_error", `cog answered HTTP ${res.status}`, true);
    }
    const p = await done;
    const gpuMs = sw.elapsedMs();
    if (p.status === "canceled") throw new JobAborted("cancelled on the cog backend");
    if (p.status === "failed") {
      const msg = p.error ?? "prediction failed";
      if (/out of memory|CUDA_ERROR_OUT_OF_MEMORY|OOM/i.test(msg)) throw new JobError("oom", msg, true);
      throw new JobError("runtime_error", msg, false);
    }
    return { outputs: decodeOutputs(p.output), gpuMs, loadMs: 0 };
  }

  async cancel(jobId: string): Promise<void> {
    await fetch(`${this.opts.url}/predictions/${encodeURIComponent(jobId)}/cancel`, { method: "POST" }).catch(
      () => undefined,
    );
  }

  async close(): Promise<void> {
    this.failAll("runtime closed");
    await this.backend?.stop();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
    this.server = null;
  }
}

/** Cog returns files as data URLs (no output_file_prefix): one or a list of them. */
export function decodeOutputs(output: unknown): RunOutput["outputs"] {
  const items = Array.isArray(output) ? output : [output];
  return items.flatMap((o, i) => {
    if (typeof o !== "string") return [];
    const m = o.match(/^data:([\w/+.-]+);base64,(.*)$/s);
    if (!m) return [];
    const type = m[1]!;
    const ext = type.split("/")[1]?.replace("jpeg", "jpg") ?? "bin";
    return [{ name: `output-${i}.${ext}`, contentType: type, bytes: new Uint8Array(Buffer.from(m[2]!, "base64")) }];
  });
}
