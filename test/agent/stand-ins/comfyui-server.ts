import { createHash } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { CORE_NODES, OUTPUT_NODE_TYPES } from "../../../models/comfy-nodes.ts";
import { checkGraph, type ApiWorkflow } from "../../../models/comfy-graph.ts";

/** An animated WebP's RIFF header: enough for a client that looks at the container, not a playable clip. */
const WEBP = Buffer.concat([
  Buffer.from("RIFF"),
  Buffer.from([0x1a, 0, 0, 0]),
  Buffer.from("WEBPVP8X"),
  Buffer.alloc(14),
]);
const PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==",
  "base64",
);

/** One unmasked server→client text frame (RFC 6455 §5.2). */
function frame(text: string): Buffer {
  const payload = Buffer.from(text);
  const len = payload.length;
  const head =
    len < 126
      ? Buffer.from([0x81, len])
      : len < 65536
        ? Buffer.from([0x81, 126, len >> 8, len & 0xff])
        : Buffer.concat([Buffer.from([0x81, 127]), Buffer.from(new BigUint64Array([BigInt(len)]).buffer).reverse()]);
  return Buffer.concat([head, payload]);
}

/**
 * A stand-in for a ComfyUI server (comfyanonymous/ComfyUI server.py, execution.py; docs.comfy.org comms messages):
 *  GET  /system_stats, GET /ws?clientId= (WebSocket: status, execution_start, executing{node}, progress, executed,
 *  executing{node:null}, execution_error, execution_interrupted), POST /prompt → {prompt_id, number, node_errors} or
 *  400 {error, node_errors}, GET /history/{id}, GET /view?filename&subfolder&type, POST /interrupt (global),
 *  POST /queue {delete:[ids]}, POST /upload/image (multipart), GET /object_info, GET /models/{folder}.
 * A prompt is validated as ComfyUI's execution.py validates it: node types must exist (`invalid_prompt`), required
 * inputs be present and links point at outputs of the right type (`node_errors`), LoadImage read an uploaded file and
 * loaders a file present in their folder (`value_not_in_list`), and the graph have an output node
 * (`prompt_no_outputs`). A prompt whose text contains "oom" fails with torch's OutOfMemoryError.
 */
export class ComfyStandIn {
  private server: Server;
  private sockets = new Map<string, Duplex>();
  private allSockets = new Set<Duplex>();
  private history = new Map<string, unknown>();
  private queue: {
    id: string;
    client: string;
    prompt: Record<string, { class_type: string; inputs: Record<string, unknown> }>;
  }[] = [];
  private current: { id: string; timer: NodeJS.Timeout; client: string } | null = null;
  received: { method: string; path: string; body: unknown }[] = [];
  /** files under input/ (uploads), and model files per folder; `null` accepts any model file */
  uploads = new Map<string, Buffer>();
  files: Record<string, string[]> | null = null;
  /** custom node types this server has beyond the core ones */
  customNodes: string[] = [];
  /** every prompt accepted, as queued */
  prompts: ApiWorkflow[] = [];
  stepMs = 40;
  steps = 4;
  url = "";
  private n = 0;

  constructor() {
    this.server = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const raw = Buffer.concat(chunks);
      const u = new URL(req.url ?? "/", "http://x");
      if (req.method === "POST" && u.pathname === "/upload/image") {
        const form = await new Request("http://x/", {
          method: "POST",
          headers: { "content-type": req.headers["content-type"] ?? "" },
          body: raw,
        }).formData();
        const file = form.get("image");
        if (!(file instanceof File)) {
          res.writeHead(400);
          return res.end();
        }
        this.uploads.set(file.name, Buffer.from(await file.arrayBuffer()));
        this.received.push({ method: "POST", path: u.pathname, body: { name: file.name, type: form.get("type") } });
        res.writeHead(200, { "content-type": "application/json" });
        return res.end(JSON.stringify({ name: file.name, subfolder: "", type: "input" }));
      }
      const body = raw.length ? JSON.parse(raw.toString()) : undefined;
      this.received.push({ method: req.method ?? "", path: u.pathname, body });
      const json = (status: number, data: unknown) => {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify(data));
      };
      if (u.pathname === "/system_stats")
        return json(200, {
          system: { os: "posix", comfyui_version: "0.3.0" },
          devices: [{ name: "cuda:0 NVIDIA L40S", type: "cuda", vram_total: 48305799168, vram_free: 47000000000 }],
        });
      // not ComfyUI's: lets a test in another process read what was queued and uploaded
      if (u.pathname === "/_standin/prompts")
        return json(200, { prompts: this.prompts, uploads: [...this.uploads.keys()] });
      if (u.pathname === "/object_info")
        return json(
          200,
          Object.fromEntries([...Object.keys(CORE_NODES), ...this.customNodes].map((k) => [k, { name: k }])),
        );
      const folder = u.pathname.match(/^\/models\/([a-z_]+)$/);
      if (folder) return json(200, this.files?.[folder[1]!] ?? []);
      if (req.method === "POST" && u.pathname === "/prompt") {
        const fatal = this.graphError(body?.prompt);
        if (fatal) return json(400, { error: fatal, node_errors: {} });
        const errors = this.validate(body?.prompt);
        if (errors)
          return json(400, {
            error: {
              type: "prompt_outputs_failed_validation",
              message: "Prompt outputs failed validation",
              details: "",
            },
            node_errors: errors,
          });
        this.prompts.push(body.prompt);
        const id = `p-${++this.n}-${Date.now()}`;
        this.queue.push({ id, client: body.client_id, prompt: body.prompt });
        json(200, { prompt_id: id, number: this.n, node_errors: {} });
        this.pump();
        return;
      }
      const hist = u.pathname.match(/^\/history\/(.+)$/);
      if (hist) return json(200, this.history.has(hist[1]!) ? { [hist[1]!]: this.history.get(hist[1]!) } : {});
      if (u.pathname === "/view") {
        const name = u.searchParams.get("filename") ?? "";
        if (name.endsWith(".webp")) {
          res.writeHead(200, { "content-type": "image/webp" });
          return res.end(WEBP);
        }
        if (!name.endsWith(".png")) return json(404, {});
        res.writeHead(200, { "content-type": "image/png" });
        return res.end(PNG);
      }
      if (req.method === "POST" && u.pathname === "/interrupt") {
        if (this.current) {
          clearTimeout(this.current.timer);
          this.send(this.current.client, "execution_interrupted", {
            prompt_id: this.current.id,
            node_id: "3",
            node_type: "KSampler",
            executed: [],
          });
          this.current = null;
          this.pump();
        }
        return json(200, {});
      }
      if (req.method === "POST" && u.pathname === "/free") return json(200, {});
      if (req.method === "POST" && u.pathname === "/queue") {
        const del = (body?.delete ?? []) as string[];
        this.queue = this.queue.filter((q) => !del.includes(q.id));
        return json(200, {});
      }
      json(404, {});
    });
    this.server.on("upgrade", (req, socket) => {
      const u = new URL(req.url ?? "/", "http://x");
      const key = req.headers["sec-websocket-key"];
      if (u.pathname !== "/ws" || typeof key !== "string") return socket.destroy();
      const accept = createHash("sha1").update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest("base64");
      socket.write(
        `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`,
      );
      const client = u.searchParams.get("clientId") ?? "";
      this.sockets.set(client, socket);
      this.allSockets.add(socket);
      socket.on("data", () => {}); // client frames (pings, close) are not needed by this stand-in
      socket.on("error", () => {});
      socket.write(
        frame(
          JSON.stringify({
            type: "status",
            data: { status: { exec_info: { queue_remaining: this.queue.length } }, sid: client },
          }),
        ),
      );
    });
  }

  /** Errors ComfyUI reports for the whole prompt: an unknown node type, or no output node. */
  private graphError(prompt: unknown): { type: string; message: string; details: string } | null {
    if (!prompt || typeof prompt !== "object") return { type: "invalid_prompt", message: "no prompt", details: "" };
    for (const [id, node] of Object.entries(prompt as ApiWorkflow)) {
      if (!CORE_NODES[node.class_type] && !this.customNodes.includes(node.class_type)) {
        return {
          type: "invalid_prompt",
          message: `Cannot execute because node ${node.class_type} does not exist.`,
          details: `Node ID '#${id}'`,
        };
      }
    }
    if (
      !Object.values(prompt as ApiWorkflow).some(
        (n) => OUTPUT_NODE_TYPES.has(n.class_type) || this.customNodes.includes(n.class_type),
      )
    ) {
      return { type: "prompt_no_outputs", message: "Prompt has no outputs", details: "" };
    }
    return null;
  }

  private validate(prompt: unknown): Record<string, unknown> | null {
    const graph = prompt as ApiWorkflow;
    const errors: Record<string, { errors: { type: string; message: string; details: string }[]; class_type: string }> =
      {};
    const add = (id: string, type: string, message: string, details: string) => {
      errors[id] ??= { errors: [], class_type: graph[id]?.class_type ?? "" };
      errors[id].errors.push({ type, message, details });
    };
    for (const p of checkGraph(graph, this.customNodes)) {
      const [, id = "", , input = ""] = p.pointer.split("/");
      add(id, /requires/.test(p.message) ? "required_input_missing" : "bad_linked_input", p.message, input);
    }
    for (const [id, node] of Object.entries(graph)) {
      const def = CORE_NODES[node.class_type];
      if (
        (node.class_type === "LoadImage" || node.class_type === "LoadImageMask") &&
        !this.uploads.has(String(node.inputs.image))
      ) {
        add(id, "value_not_in_list", "Value not in list", `image: '${String(node.inputs.image)}' not in input/`);
      }
      for (const [input, folder] of Object.entries(def?.files ?? {})) {
        const v = node.inputs[input];
        if (this.files && !(this.files[folder] ?? []).includes(String(v)))
          add(id, "value_not_in_list", "Value not in list", `${input}: '${String(v)}' not in ${folder}/`);
      }
    }
    for (const [id, node] of Object.entries(graph)) {
      for (const [k, v] of Object.entries(node.inputs ?? {})) {
        // a widget value below its minimum, as ComfyUI's validate_inputs reports it
        if ((k === "steps" || k === "batch_size") && (typeof v !== "number" || v < 1))
          add(id, "value_smaller_than_min", `Value ${String(v)} smaller than min of 1`, k);
        if (typeof v === "string" && /\{\{\w+\}\}/.test(v)) add(id, "value_not_valid", `unfilled ${k}`, k);
      }
    }
    return Object.keys(errors).length ? errors : null;
  }

  private send(client: string, type: string, data: unknown) {
    this.sockets.get(client)?.write(frame(JSON.stringify({ type, data })));
  }

  private pump() {
    if (this.current || this.queue.length === 0) return;
    const job = this.queue.shift()!;
    const oom = JSON.stringify(job.prompt).includes("oom");
    this.send(job.client, "execution_start", { prompt_id: job.id });
    this.send(job.client, "execution_cached", { nodes: [], prompt_id: job.id });
    this.send(job.client, "executing", { node: "3", prompt_id: job.id });
    let step = 0;
    const tick = () => {
      if (oom && step === 1) {
        this.send(job.client, "execution_error", {
          prompt_id: job.id,
          node_id: "3",
          node_type: "KSampler",
          exception_message: "CUDA out of memory. Tried to allocate 4.00 GiB",
          exception_type: "torch.OutOfMemoryError",
          traceback: [],
        });
        this.current = null;
        return this.pump();
      }
      if (step < this.steps) {
        step++;
        this.send(job.client, "progress", { value: step, max: this.steps, prompt_id: job.id, node: "3" });
        this.current = { id: job.id, client: job.client, timer: setTimeout(tick, this.stepMs) };
        return;
      }
      // every output node writes its files, as SaveImage / SaveAnimatedWEBP / PreviewImage do
      const outputs: Record<string, unknown> = {};
      for (const [id, node] of Object.entries(job.prompt)) {
        if (!OUTPUT_NODE_TYPES.has(node.class_type)) continue;
        const animated = node.class_type === "SaveAnimatedWEBP";
        const type = node.class_type === "PreviewImage" ? "temp" : "output";
        const prefix = String(node.inputs.filename_prefix ?? "ComfyUI");
        const images = [{ filename: `${prefix}_${this.n}_00001_.${animated ? "webp" : "png"}`, subfolder: "", type }];
        outputs[id] = animated ? { images, animated: [true] } : { images };
        this.send(job.client, "executed", { node: id, output: outputs[id], prompt_id: job.id });
      }
      this.history.set(job.id, {
        prompt: [0, job.id, job.prompt],
        outputs,
        status: { status_str: "success", completed: true },
      });
      this.send(job.client, "executing", { node: null, prompt_id: job.id });
      this.current = null;
      this.pump();
    };
    this.current = { id: job.id, client: job.client, timer: setTimeout(tick, this.stepMs) };
  }

  async start(port = 0): Promise<string> {
    await new Promise<void>((r) => this.server.listen(port, "127.0.0.1", r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  stop(): Promise<void> {
    if (this.current) clearTimeout(this.current.timer);
    for (const s of this.allSockets) s.destroy();
    this.server.closeAllConnections();
    return new Promise((r) => this.server.close(() => r()));
  }
}
