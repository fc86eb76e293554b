import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A stand-in for a Cog HTTP server (replicate/cog docs/reference/http.md), message for message:
 *  GET  /health-check               {status: STARTING → READY | BUSY, setup:{…}}
 *  PUT  /predictions/{id}           with `Prefer: respond-async`: 202 {id, status:"starting"}; 409 when every slot is
 *                                   busy; 422 {detail:[…]} on invalid input; the same id again is idempotent
 *  POST /predictions/{id}/cancel    200; the prediction ends as `canceled`
 *  webhook                          POSTs the prediction object on completion (events filter ["completed"])
 * Predictions take `runMs`; prompt "oom" fails with CUDA's out-of-memory message.
 */
export class CogStandIn {
  private server: Server;
  url = "";
  status: "STARTING" | "READY" | "SETUP_FAILED" = "STARTING";
  running = new Map<string, { timer: NodeJS.Timeout; webhook: string; input: Record<string, unknown> }>();
  received: { method: string; path: string; body: unknown; prefer?: string }[] = [];
  slots = 1;
  runMs = 150;

  constructor(readyAfterMs = 100) {
    setTimeout(() => {
      if (this.status === "STARTING") this.status = "READY";
    }, readyAfterMs);
    this.server = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString()) : undefined;
      const path = req.url ?? "";
      this.received.push({ method: req.method ?? "", path, body, prefer: req.headers.prefer as string | undefined });
      const json = (status: number, data: unknown) => {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify(data));
      };
      if (req.method === "GET" && path === "/health-check") {
        return json(200, {
          status: this.running.size >= this.slots && this.status === "READY" ? "BUSY" : this.status,
          setup: {
            started_at: "2026-11-22T10:00:00Z",
            completed_at: this.status === "READY" ? "2026-11-22T10:00:05Z" : null,
            logs: "",
          },
        });
      }
      const put = path.match(/^\/predictions\/([^/]+)$/);
      if (req.method === "PUT" && put) {
        const id = decodeURIComponent(put[1]!);
        if (this.running.has(id)) return json(202, { id, status: "processing" });
        if (typeof body?.input?.prompt !== "string")
          return json(422, {
            detail: [{ loc: ["body", "input", "prompt"], msg: "field required", type: "value_error.missing" }],
          });
        if (this.running.size >= this.slots) return json(409, { detail: "Already running a prediction" });
        const prediction = { id, input: body.input, webhook: body.webhook as string };
        const timer = setTimeout(() => this.finish(id), this.runMs);
        this.running.set(id, { timer, webhook: prediction.webhook, input: body.input });
        return json(202, { id, status: "starting", input: body.input });
      }
      const cancel = path.match(/^\/predictions\/([^/]+)\/cancel$/);
      if (req.method === "POST" && cancel) {
        const id = decodeURIComponent(cancel[1]!);
        const r = this.running.get(id);
        if (!r) return json(404, { detail: "Not found" });
        clearTimeout(r.timer);
        this.running.delete(id);
        await this.hook(r.webhook, { id, status: "canceled", output: null, error: null });
        return json(200, {});
      }
      json(404, { detail: "Not found" });
    });
  }

  private async finish(id: string) {
    const r = this.running.get(id);
    if (!r) return;
    this.running.delete(id);
    if (r.input.prompt === "oom") {
      await this.hook(r.webhook, {
        id,
        status: "failed",
        output: null,
        error: "CUDA out of memory. Tried to allocate 2.00 GiB",
        metrics: {},
      });
      return;
    }
    // a 1×1 PNG, as Cog returns files without an output_file_prefix: a data URL
    const png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";
    await this.hook(r.webhook, {
      id,
      status: "succeeded",
      output: [`data:image/png;base64,${png}`],
      error: null,
      metrics: { predict_time: this.runMs / 1000 },
    });
  }

  private async hook(url: string, prediction: unknown) {
    await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(prediction),
    }).catch(() => undefined);
  }

  async start(port = 0): Promise<string> {
    await new Promise<void>((r) => this.server.listen(port, "127.0.0.1", r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  stop(): Promise<void> {
    for (const r of this.running.values()) clearTimeout(r.timer);
    this.server.closeAllConnections();
    return new Promise((r) => this.server.close(() => r()));
  }
}
