import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { JobAborted, JobError } from "../errors.ts";
import { Stopwatch } from "../meter.ts";
import type { RunOutput, RunRequest, RuntimeAdapter } from "./types.ts";
import { BackendProcess, type BackendProcessOptions } from "./process.ts";

/** A workflow in ComfyUI's API format: node id → {class_type, inputs}. */
export type Workflow = Record<string, { class_type: string; inputs: Record<string, unknown> }>;

export interface ComfyOptions {
  /** the ComfyUI server, e.g. http://127.0.0.1:8188 */
  url: string;
  /** catalog model → workflow template whose `"{{param}}"` strings are filled from the job's input */
  workflows: Record<string, Workflow>;
  /** run ComfyUI as a supervised child of the agent (restarted when it dies) */
  process?: Omit<BackendProcessOptions, "onExit">;
}

/** Fills `"{{name}}"` placeholders with the job's parameters (keeping their JSON types); a seed left unset is random. */
export function fillWorkflow(template: Workflow, params: Record<string, unknown>): Workflow {
  const values: Record<string, unknown> = { seed: Math.floor(Math.random() * 2 ** 32), ...params };
  const fill = (v: unknown): unknown => {
    if (typeof v === "string") {
      const whole = v.match(/^\{\{(\w+)\}\}$/);
      if (whole) {
        if (!(whole[1]! in values)) throw new JobError("invalid_input", `workflow needs parameter '${whole[1]}'`);
        return values[whole[1]!];
      }
      return v;
    }
    if (Array.isArray(v)) return v.map(fill);
    if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, fill(x)]));
    return v;
  };
  return fill(template) as Workflow;
}

export function loadWorkflow(file: string): Workflow {
  return JSON.parse(readFileSync(file, "utf8")) as Workflow;
}

interface Running {
  promptId: string;
  finish: (r: { kind: "done" } | { kind: "error"; type: string; message: string } | { kind: "interrupted" }) => void;
  onProgress?: RunRequest["onProgress"];
}

/**
 * Runs jobs on a ComfyUI server (docs.comfy.org/essentials/comms_messages): the workflow is queued with
 * `POST /prompt`, followed over the `/ws?clientId=` WebSocket (`executing` with a null node ends it,
 * `execution_error`, `execution_interrupted`), and its images are fetched through `/history/{id}` and `/view`.
 * Cancel uses `/interrupt` for the running prompt (it is global) or `POST /queue {delete}` for a queued one.
 */
export class ComfyUIRuntime implements RuntimeAdapter {
  readonly name = "comfyui";
  private opts: ComfyOptions;
  private clientId = randomUUID();
  private ws: WebSocket | null = null;
  private byPrompt = new Map<string, Running>();
  private byJob = new Map<string, string>();
  private executing: string | null = null;
  private ready = false;
  progress: { prompt_id: string; value: number; max: number }[] = [];

  readonly backend: BackendProcess | null;

  constructor(opts: ComfyOptions) {
    this.opts = opts;
    // A dead backend closes the WebSocket, which fails its running prompts as retryable crashes.
    this.backend = opts.process ? new BackendProcess({ ...opts.process, onExit: () => (this.ready = false) }) : null;
    this.backend?.start();
  }

  private connecting: Promise<void> | null = null;

  /** One WebSocket for the runtime; concurrent callers share the connection attempt. */
  private connect(): Promise<void> {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) return Promise.resolve();
    this.connecting ??= this.open().finally(() => (this.connecting = null));
    return this.connecting;
  }

  private async open(): Promise<void> {
    const ws = new WebSocket(`${this.opts.url.replace(/^http/, "ws")}/ws?clientId=${this.clientId}`);
    await new Promise<void>((resolve, reject) => {
      ws.addEventListener("open", () => resolve(), { once: true });
      ws.addEventListener("error", () => reject(new JobError("backend_crash", "comfyui websocket failed", true)), { once: true });
    });
    ws.addEventListener("message", (ev) => {
      if (typeof ev.data !== "string") return; // binary frames are previews
      let msg: { type: string; data: Record<string, unknown> };
      try {
        msg = JSON.parse(ev.data);
      } catch {
        return;
      }
      const pid = msg.data?.prompt_id as string | undefined;
      const run = pid ? this.byPrompt.get(pid) : undefined;
      switch (msg.type) {
        case "executing":
          if (msg.data.node === null && run) run.finish({ kind: "done" });
          else if (pid) this.executing = pid;
          break;
        case "progress":
          if (pid) this.progress.push({ prompt_id: pid, value: Number(msg.data.value), max: Number(msg.data.max) });
          if (Number(msg.data.max) > 0) run?.onProgress?.({ step: Math.min(Number(msg.data.value), Number(msg.data.max)), total: Number(msg.data.max) });
          break;
        case "execution_error":
          run?.finish({ kind: "error", type: String(msg.data.exception_type ?? ""), message: String(msg.data.exception_message ?? "execution error") });
          break;
        case "execution_interrupted":
          run?.finish({ kind: "interrupted" });
          break;
      }
    });
    ws.addEventListener("close", () => {
      for (const r of this.byPrompt.values()) r.finish({ kind: "error", type: "connection", message: "comfyui connection closed" });
    });
    this.ws = ws;
  }

  async models(): Promise<string[]> {
    return Object.keys(this.opts.workflows);
  }

  async warm(_model: string): Promise<void> {
    // a supervised backend may still be starting: give it up to a minute
    const deadline = Date.now() + (this.backend ? 60_000 : 0);
    let r = await fetch(`${this.opts.url}/system_stats`).catch(() => null);
    while (!r?.ok && Date.now() < deadline) {
      await new Promise((res) => setTimeout(res, 500));
      r = await fetch(`${this.opts.url}/system_stats`).catch(() => null);
    }
    if (!r?.ok) throw new JobError("backend_crash", "comfyui is not answering /system_stats", true);
    await this.connect();
    this.ready = true;
  }

  loaded(): string[] {
    return this.ready ? Object.keys(this.opts.workflows) : [];
  }

  async run(req: RunRequest): Promise<RunOutput> {
    const template = this.opts.workflows[req.model];
    if (!template) throw new JobError("model_unavailable", `no workflow for ${req.model}`, true);
    const prompt = fillWorkflow(template, req.params);
    if (!this.ready && this.backend) await this.warm(req.model);
    try {
      await this.connect();
    } catch (e) {
      throw e instanceof JobError ? e : new JobError("backend_crash", String(e), true);
    }
    const sw = new Stopwatch();
    let res: Response;
    try {
      res = await fetch(`${this.opts.url}/prompt`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ prompt, client_id: this.clientId, extra_data: { job_id: req.jobId } }) });
    } catch (e) {
      throw new JobError("backend_crash", `comfyui unreachable: ${(e as Error).message}`, true);
    }
    const body = (await res.json().catch(() => ({}))) as { prompt_id?: string; error?: { message?: string; type?: string }; node_errors?: unknown };
    if (res.status === 400) throw new JobError("invalid_input", `comfyui rejected the workflow: ${body.error?.message ?? "invalid prompt"} ${JSON.stringify(body.node_errors ?? {}).slice(0, 300)}`);
    if (!res.ok || !body.prompt_id) throw new JobError("runtime_error", `comfyui /prompt answered HTTP ${res.status}`, true);
    const promptId = body.prompt_id;
    this.byJob.set(req.jobId, promptId);
    const outcome = await new Promise<Parameters<Running["finish"]>[0]>((finish) => this.byPrompt.set(promptId, { promptId, finish, onProgress: req.onProgress }));
    this.byPrompt.delete(promptId);
    this.byJob.delete(req.jobId);
    const gpuMs = sw.elapsedMs();
    if (outcome.kind === "interrupted") throw new JobAborted("interrupted on comfyui");
    if (outcome.kind === "error") {
      if (/OutOfMemory|out of memory/i.test(outcome.type + outcome.message)) throw new JobError("oom", outcome.message, true);
      if (outcome.type === "connection") throw new JobError("backend_crash", outcome.message, true);
      throw new JobError("runtime_error", `${outcome.type}: ${outcome.message}`, false);
    }
    return { outputs: await this.fetchOutputs(promptId), gpuMs, loadMs: 0 };
  }

  private async fetchOutputs(promptId: string): Promise<RunOutput["outputs"]> {
    const h = (await (await fetch(`${this.opts.url}/history/${promptId}`)).json()) as Record<string, { outputs: Record<string, { images?: { filename: string; subfolder: string; type: string }[]; gifs?: { filename: string; subfolder: string; type: string; format?: string }[] }> }>;
    const files = Object.values(h[promptId]?.outputs ?? {}).flatMap((o) => [...(o.images ?? []), ...(o.gifs ?? [])]);
    const out: RunOutput["outputs"] = [];
    for (const [i, f] of files.entries()) {
      const q = new URLSearchParams({ filename: f.filename, subfolder: f.subfolder, type: f.type });
      const r = await fetch(`${this.opts.url}/view?${q}`);
      if (!r.ok) throw new JobError("runtime_error", `comfyui /view answered HTTP ${r.status}`, true);
      const contentType = r.headers.get("content-type") ?? "application/octet-stream";
      const ext = f.filename.split(".").pop() ?? "bin";
      out.push({ name: `output-${i}.${ext}`, contentType, bytes: new Uint8Array(await r.arrayBuffer()) });
    }
    return out;
  }

  /** `POST /free`: unload models and free VRAM (ComfyUI's own OOM recovery does the same). */
  async free(): Promise<void> {
    await fetch(`${this.opts.url}/free`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ unload_models: true, free_memory: true }) }).catch(() => undefined);
  }

  async cancel(jobId: string): Promise<void> {
    const pid = this.byJob.get(jobId);
    if (!pid) return;
    // /interrupt stops whatever runs now, so it is sent only when that is this job's prompt
    if (this.executing === pid) await fetch(`${this.opts.url}/interrupt`, { method: "POST" }).catch(() => undefined);
    else {
      await fetch(`${this.opts.url}/queue`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ delete: [pid] }) }).catch(() => undefined);
      this.byPrompt.get(pid)?.finish({ kind: "interrupted" });
    }
  }

  async close(): Promise<void> {
    this.ws?.close();
    this.ws = null;
    await this.backend?.stop();
  }
}
