import { randomUUID } from "node:crypto";
import { JobAborted, JobError } from "../errors.ts";
import { Stopwatch } from "../meter.ts";
import type { RunOutput, RunRequest, RuntimeAdapter } from "./types.ts";
import { BackendProcess, type BackendProcessOptions } from "./process.ts";
import { fillGraph, imageTargets, type GraphSpec } from "./comfyui-graph.ts";
import { fetchOutputs, hostCapabilities, queuePrompt, uploadImage } from "./comfyui-api.ts";
import { COMFY_SPEC_KEY, ComfyJobSpec } from "../../../schemas/manifest.ts";

export { fillGraph, loadComfyModels, type GraphSpec, type Workflow } from "./comfyui-graph.ts";

export interface ComfyOptions {
  /** the ComfyUI server, e.g. http://127.0.0.1:8188 */
  url: string;
  /** catalog model → its graph and field mapping (from models/<slug>/manifest.json and workflow.json) */
  models: Record<string, GraphSpec>;
  /** run ComfyUI as a supervised child of the agent (restarted when it dies) */
  process?: Omit<BackendProcessOptions, "onExit">;
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
      ws.addEventListener("error", () => reject(new JobError("backend_crash", "comfyui websocket failed", true)), {
        once: true,
      });
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
          if (Number(msg.data.max) > 0)
            run?.onProgress?.({
              step: Math.min(Number(msg.data.value), Number(msg.data.max)),
              total: Number(msg.data.max),
            });
          break;
        case "execution_error":
          run?.finish({
            kind: "error",
            type: String(msg.data.exception_type ?? ""),
            message: String(msg.data.exception_message ?? "execution error"),
          });
          break;
        case "execution_interrupted":
          run?.finish({ kind: "interrupted" });
          break;
      }
    });
    ws.addEventListener("close", () => {
      for (const r of this.byPrompt.values())
        r.finish({ kind: "error", type: "connection", message: "comfyui connection closed" });
    });
    this.ws = ws;
  }

  private offered: string[] | null = null;

  /**
   * The catalog models whose weight files this host's ComfyUI has (`GET /models/{folder}`): a job for a model whose
   * checkpoint is missing would fail on the host, so it is not offered. When ComfyUI cannot be asked, every model is.
   */
  async models(): Promise<string[]> {
    if (this.offered) return this.offered;
    const have = await this.capabilities()
      .then((c) => new Set(c.files))
      .catch(() => null);
    const all = Object.keys(this.opts.models);
    if (!have) return all;
    this.offered = all.filter((slug) => (this.opts.models[slug]!.files ?? []).every((f) => have.has(f)));
    return this.offered;
  }

  /**
   * What private graphs may ask of this host: node types ComfyUI registers beyond the core ones (`GET /object_info`)
   * and the model files in its folders (`GET /models/{folder}`), as `folder/file`.
   */
  async capabilities(): Promise<{ node_types: string[]; files: string[] }> {
    if (!this.ready) await this.warm("capabilities"); // a supervised backend may still be starting
    return hostCapabilities(this.opts.url);
  }

  /** The catalog model's graph, or a private model's sent with the job under COMFY_SPEC_KEY. */
  private spec(req: RunRequest): GraphSpec {
    const own = this.opts.models[req.model];
    if (own) return own;
    const sent = ComfyJobSpec.safeParse(req.params[COMFY_SPEC_KEY]);
    if (sent.success) return sent.data;
    throw new JobError("model_unavailable", `no workflow for ${req.model}`, true);
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
    return this.ready ? (this.offered ?? Object.keys(this.opts.models)) : [];
  }

  async run(req: RunRequest): Promise<RunOutput> {
    const spec = this.spec(req);
    if (!this.ready && this.backend) await this.warm(req.model);
    const uploaded: Record<string, string> = {};
    for (const field of imageTargets(spec)) {
      const file = req.files[field];
      if (file) uploaded[field] = await uploadImage(this.opts.url, `${req.jobId}-${field}`, file);
    }
    const prompt = fillGraph(spec, req.params, uploaded);
    try {
      await this.connect();
    } catch (e) {
      throw e instanceof JobError ? e : new JobError("backend_crash", String(e), true);
    }
    const sw = new Stopwatch();
    const promptId = await queuePrompt(this.opts.url, {
      prompt,
      client_id: this.clientId,
      extra_data: { job_id: req.jobId },
    });
    this.byJob.set(req.jobId, promptId);
    const outcome = await new Promise<Parameters<Running["finish"]>[0]>((finish) =>
      this.byPrompt.set(promptId, { promptId, finish, onProgress: req.onProgress }),
    );
    this.byPrompt.delete(promptId);
    this.byJob.delete(req.jobId);
    const gpuMs = sw.elapsedMs();
    if (outcome.kind === "interrupted") throw new JobAborted("interrupted on comfyui");
    if (outcome.kind === "error") {
      if (/OutOfMemory|out of memory/i.test(outcome.type + outcome.message))
        throw new JobError("oom", outcome.message, true);
      if (outcome.type === "connection") throw new JobError("backend_crash", outcome.message, true);
      throw new JobError("runtime_error", `${outcome.type}: ${outcome.message}`, false);
    }
    return { outputs: await fetchOutputs(this.opts.url, promptId, spec.outputs), gpuMs, loadMs: 0 };
  }

  /** `POST /free`: unload models and free VRAM (ComfyUI's own OOM recovery does the same). */
  async free(): Promise<void> {
    await fetch(`${this.opts.url}/free`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ unload_models: true, free_memory: true }),
    }).catch(() => undefined);
  }

  async cancel(jobId: string): Promise<void> {
    const pid = this.byJob.get(jobId);
    if (!pid) return;
    // /interrupt stops whatever runs now, so it is sent only when that is this job's prompt
    if (this.executing === pid) await fetch(`${this.opts.url}/interrupt`, { method: "POST" }).catch(() => undefined);
    else {
      await fetch(`${this.opts.url}/queue`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ delete: [pid] }),
      }).catch(() => undefined);
      this.byPrompt.get(pid)?.finish({ kind: "interrupted" });
    }
  }

  async close(): Promise<void> {
    this.ws?.close();
    this.ws = null;
    await this.backend?.stop();
  }
}
