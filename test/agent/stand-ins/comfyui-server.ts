import { createHash } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";

const PNG = Buffer.from("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==", "base64");

/** One unmasked server→client text frame (RFC 6455 §5.2). */
function frame(text: string): Buffer {
  const payload = Buffer.from(text);
  const len = payload.length;
  const head = len < 126 ? Buffer.from([0x81, len]) : len < 65536 ? Buffer.from([0x81, 126, len >> 8, len & 0xff]) : Buffer.concat([Buffer.from([0x81, 127]), Buffer.from(new BigUint64Array([BigInt(len)]).buffer).reverse()]);
  return Buffer.concat([head, payload]);
}

/**
 * A stand-in for a ComfyUI server (comfyanonymous/ComfyUI server.py, execution.py; docs.comfy.org comms messages):
 *  GET  /system_stats, GET /ws?clientId= (WebSocket: status, execution_start, executing{node}, progress, executed,
 *  executing{node:null}, execution_error, execution_interrupted), POST /prompt → {prompt_id, number, node_errors} or
 *  400 {error, node_errors}, GET /history/{id}, GET /view?filename&subfolder&type, POST /interrupt (global),
 *  POST /queue {delete:[ids]}. A prompt whose text contains "oom" fails with torch's OutOfMemoryError.
 */
export class ComfyStandIn {
  private server: Server;
  private sockets = new Map<string, Duplex>();
  private allSockets = new Set<Duplex>();
  private history = new Map<string, unknown>();
  private queue: { id: string; client: string; prompt: Record<string, { class_type: string; inputs: Record<string, unknown> }> }[] = [];
  private current: { id: string; timer: NodeJS.Timeout; client: string } | null = null;
  received: { method: string; path: string; body: unknown }[] = [];
  stepMs = 40;
  steps = 4;
  url = "";
  private n = 0;

  constructor() {
    this.server = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString()) : undefined;
      const u = new URL(req.url ?? "/", "http://x");
      this.received.push({ method: req.method ?? "", path: u.pathname, body });
      const json = (status: number, data: unknown) => {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify(data));
      };
      if (u.pathname === "/system_stats") return json(200, { system: { os: "posix", comfyui_version: "0.3.0" }, devices: [{ name: "cuda:0 NVIDIA L40S", type: "cuda", vram_total: 48305799168, vram_free: 47000000000 }] });
      if (req.method === "POST" && u.pathname === "/prompt") {
        const errors = this.validate(body?.prompt);
        if (errors) return json(400, { error: { type: "prompt_outputs_failed_validation", message: "Prompt outputs failed validation", details: "" }, node_errors: errors });
        const id = `p-${++this.n}-${Date.now()}`;
        this.queue.push({ id, client: body.client_id, prompt: body.prompt });
        json(200, { prompt_id: id, number: this.n, node_errors: {} });
        this.pump();
        return;
      }
      const hist = u.pathname.match(/^\/history\/(.+)$/);
      if (hist) return json(200, this.history.has(hist[1]!) ? { [hist[1]!]: this.history.get(hist[1]!) } : {});
      if (u.pathname === "/view") {
        if (!u.searchParams.get("filename")?.endsWith(".png")) return json(404, {});
        res.writeHead(200, { "content-type": "image/png" });
        return res.end(PNG);
      }
      if (req.method === "POST" && u.pathname === "/interrupt") {
        if (this.current) {
          clearTimeout(this.current.timer);
          this.send(this.current.client, "execution_interrupted", { prompt_id: this.current.id, node_id: "3", node_type: "KSampler", executed: [] });
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
      const accept = createHash("sha1").update(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest("base64");
      socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
      const client = u.searchParams.get("clientId") ?? "";
      this.sockets.set(client, socket);
      this.allSockets.add(socket);
      socket.on("data", () => {}); // client frames (pings, close) are not needed by this stand-in
      socket.on("error", () => {});
      socket.write(frame(JSON.stringify({ type: "status", data: { status: { exec_info: { queue_remaining: this.queue.length } }, sid: client } })));
    });
  }

  private validate(prompt: unknown): Record<string, unknown> | null {
    if (!prompt || typeof prompt !== "object") return { prompt: { errors: [{ message: "no prompt" }] } };
    const errors: Record<string, unknown> = {};
    for (const [id, node] of Object.entries(prompt as Record<string, { class_type?: string; inputs?: Record<string, unknown> }>)) {
      for (const [k, v] of Object.entries(node.inputs ?? {})) {
        if (typeof v === "string" && /\{\{\w+\}\}/.test(v)) errors[id] = { errors: [{ type: "value_not_valid", message: `unfilled ${k}` }], class_type: node.class_type };
        if (k === "steps" && (typeof v !== "number" || v < 1)) errors[id] = { errors: [{ type: "value_smaller_than_min", message: "steps" }], class_type: node.class_type };
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
        this.send(job.client, "execution_error", { prompt_id: job.id, node_id: "3", node_type: "KSampler", exception_message: "CUDA out of memory. Tried to allocate 4.00 GiB", exception_type: "torch.OutOfMemoryError", traceback: [] });
        this.current = null;
        return this.pump();
      }
      if (step < this.steps) {
        step++;
        this.send(job.client, "progress", { value: step, max: this.steps, prompt_id: job.id, node: "3" });
        this.current = { id: job.id, client: job.client, timer: setTimeout(tick, this.stepMs) };
        return;
      }
      const images = [{ filename: `sdxl_${this.n}_00001_.png`, subfolder: "", type: "output" }];
      this.send(job.client, "executed", { node: "9", output: { images }, prompt_id: job.id });
      this.history.set(job.id, { prompt: [0, job.id, job.prompt], outputs: { "9": { images } }, status: { status_str: "success", completed: true } });
      this.send(job.client, "executing", { node: null, prompt_id: job.id });
      this.current = null;
      this.pump();
    };
    this.current = { id: job.id, client: job.client, timer: setTimeout(tick, this.stepMs) };
  }

  async start(): Promise<string> {
    await new Promise<void>((r) => this.server.listen(0, "127.0.0.1", r));
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
