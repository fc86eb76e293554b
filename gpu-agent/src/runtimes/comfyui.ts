import { randomUUID } from "node:crypto";
import { JobAborted, JobError } from "../errors.ts";
import { Stopwatch } from "../meter.ts";
import type { InputFile, RunOutput, RunRequest, RuntimeAdapter } from "./types.ts";
import { BackendProcess, type BackendProcessOptions } from "./process.ts";
import { fillGraph, imageTargets, type GraphSpec } from "./comfyui-graph.ts";
import { COMFY_SPEC_KEY, ComfyJobSpec } from "../../../schemas/manifest.ts";
import { CORE_NODES } from "../../../models/comfy-nodes.ts";

export { fillGraph, loadComfyModels, type GraphSpec, type Workflow } from "./comfyui-graph.ts";

export interface ComfyOptions {
  /** the ComfyUI server, e.g. http://127.0.0.1:8188 */
  url: string;
  /** catalog model → its graph and field mapping (from models/<slug>/manifest.json and workflow.json) */
  models: Record<string, GraphSpec>;
  /** run ComfyUI as a supervised child of the agent (restarted when it dies) */
  process?: Omit<BackendProcessOptions, "onExit">;
}

/** Model folders whose files a private graph may ask for; listed through `GET /models/{folder}`. */
const FILE_FOLDERS = [
  "checkpoints",
  "diffusion_models",
  "unet",
  "vae",
  "clip",
  "text_encoders",
  "clip_vision",
  "controlnet",
  "loras",
  "upscale_models",
  "style_models",
];

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
    const info = (await (await fetch(`${this.opts.url}/object_info`)).json()) as Record<string, unknown>;
    const files: string[] = [];
    for (const folder of FILE_FOLDERS) {
      const r = await fetch(`${this.opts.url}/models/${folder}`).catch(() => null);
      if (r?.ok) for (const f of (await r.json()) as string[]) files.push(`${folder}/${f}`);
    }
    const custom = Object.keys(info).filter((t) => !CORE_NODES[t]);
    return { node_types: custom.sort().slice(0, 500), files: files.sort().slice(0, 500) };
  }

  /** `POST /upload/image` (multipart, type input): ComfyUI answers the name LoadImage reads it by. */
  private async upload(jobId: string, field: string, file: InputFile): Promise<string> {
    const form = new FormData();
    const ext = file.contentType.split("/")[1]?.replace("jpeg", "jpg") ?? "png";
    const blob = new Blob([new Uint8Array(file.bytes)], { type: file.contentType });
    form.append("image", blob, `${jobId}-${field}.${ext}`);
    form.append("type", "input");
    form.append("overwrite", "true");
    let r: Response;
    try {
      r = await fetch(`${this.opts.url}/upload/image`, { method: "POST", body: form });
    } catch (e) {
      throw new JobError("backend_crash", `comfyui unreachable: ${(e as Error).message}`, true);
    }
    if (!r.ok) throw new JobError("runtime_error", `comfyui /upload/image answered HTTP ${r.status}`, true);
    const b = (await r.json()) as { name: string; subfolder?: string };
    return b.subfolder ? `${b.subfolder}/${b.name}` : b.name;
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
      if (file) uploaded[field] = await this.upload(req.jobId, field, file);
    }
    const prompt = fillGraph(spec, req.params, uploaded);
    try {
      await this.connect();
    } catch (e) {
      throw e instanceof JobError ? e : new JobError("backend_crash", String(e), true);
    }
    const sw = new Stopwatch();
    let res: Response;
    try {
      res = await fetch(`${this.opts.url}/prompt`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ prompt, client_id: this.clientId, extra_data: { job_id: req.jobId } }),
      });
    } catch (e) {
      throw new JobError("backend_crash", `comfyui unreachable: ${(e as Error).message}`, true);
    }
    const body = (await res.json().catch(() => ({}))) as {
      prompt_id?: string;
      error?: { message?: string; type?: string };
      node_errors?: unknown;
    };
    if (res.status === 400)
      throw new JobError(
        "invalid_input",
        `comfyui rejected the workflow: ${body.error?.message ?? "invalid prompt"} ${JSON.stringify(body.node_errors ?? {}).slice(0, 300)}`,
      );
    if (!res.ok || !body.prompt_id)
      throw new JobError("runtime_error", `comfyui /prompt answered HTTP ${res.status}`, true);
    const promptId = body.prompt_id;
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
    return { outputs: await this.fetchOutputs(promptId, spec.outputs), gpuMs, loadMs: 0 };
  }

  private async fetchOutputs(promptId: string, nodes?: string[]): Promise<RunOutput["outputs"]> {
    const h = (await (await fetch(`${this.opts.url}/history/${promptId}`)).json()) as Record<
      string,
      {
        outputs: Record<
          string,
          {
            images?: { filename: string; subfolder: string; type: string }[];
            gifs?: { filename: string; subfolder: string; type: string; format?: string }[];
          }
        >;
      }
    >;
    const outputs = h[promptId]?.outputs ?? {};
    // only the declared output nodes' files are the result (a graph may also preview intermediate images)
    const files = Object.entries(outputs)
      .filter(([id]) => !nodes || nodes.includes(id))
      .flatMap(([, o]) => [...(o.images ?? []), ...(o.gifs ?? [])])
      .filter((f) => f.type !== "temp");
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
