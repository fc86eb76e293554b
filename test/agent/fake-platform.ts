import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { LeasedJob } from "../../schemas/index.ts";

export interface Call {
  method: string;
  path: string;
  body: unknown;
}

/**
 * A stand-in for the platform's agent API, speaking the same shapes (schemas/agent.ts), with hooks to inject faults:
 * queued jobs, refused connections for completion, cancellations on heartbeat.
 */
export class FakePlatform {
  calls: Call[] = [];
  queue: LeasedJob[] = [];
  cancel = new Set<string>();
  /** complete calls answered by dropping the connection, to simulate network loss */
  dropCompletes = 0;
  private server: Server;
  url = "";

  constructor() {
    this.server = createServer(async (req, res) => {
      const body = await read(req);
      const path = req.url ?? "";
      this.calls.push({ method: req.method ?? "", path, body });
      const send = (status: number, data?: unknown) => {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(data === undefined ? undefined : JSON.stringify(data));
      };
      if (path === "/agent/v1/register")
        return send(200, {
          agent_id: "agent_test",
          pool: "public",
          heartbeat_interval_ms: 100,
          lease_ttl_ms: 3000,
          max_lease_wait_ms: 25000,
        });
      if (path === "/agent/v1/lease") {
        const jobs = this.queue.splice(0, (body as { slots_free: number }).slots_free);
        if (jobs.length === 0) {
          await new Promise((r) => setTimeout(r, Math.min(200, (body as { wait_ms: number }).wait_ms)));
          return send(204);
        }
        return send(200, { jobs });
      }
      if (path === "/agent/v1/deregister") return send(200, { released: 0 });
      if (path === "/agent/v1/heartbeat") {
        const leases = (body as { leases: { job_id: string }[] }).leases;
        return send(200, {
          extended: leases
            .filter((l) => !this.cancel.has(l.job_id))
            .map((l) => ({ job_id: l.job_id, lease_expires_at: Date.now() + 3000 })),
          cancel: leases
            .filter((l) => this.cancel.has(l.job_id))
            .map((l) => ({ job_id: l.job_id, reason: "cancelled" })),
          drain: false,
        });
      }
      const m = path.match(/^\/agent\/v1\/jobs\/([^/]+)\/(complete|fail|release|outputs\/.+|inputs\/.+)$/);
      if (m) {
        if (m[2] === "complete" && this.dropCompletes > 0) {
          this.dropCompletes--;
          req.socket.destroy();
          return;
        }
        if (m[2]!.startsWith("inputs/")) {
          res.writeHead(200, { "content-type": "image/png" });
          return res.end(Buffer.from([1, 2, 3]));
        }
        if (m[2]!.startsWith("outputs/"))
          return send(200, { name: m[2]!.slice(8), content_type: "image/png", size: 3 });
        return send(200, {
          job_id: m[1],
          status: m[2] === "complete" ? "COMPLETED" : m[2] === "fail" ? "FAILED" : "QUEUED",
        });
      }
      send(404, { error: { code: "not_found", message: path, request_id: "x" } });
    });
  }

  async start(): Promise<string> {
    await new Promise<void>((r) => this.server.listen(0, "127.0.0.1", r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((r) => this.server.close(() => r()));
  }

  of(kind: string): Call[] {
    return this.calls.filter((c) => c.path.endsWith(kind) || c.path.includes(`/${kind}`));
  }
}

async function read(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const buf = Buffer.concat(chunks);
  if ((req.headers["content-type"] ?? "").includes("json") && buf.length) return JSON.parse(buf.toString());
  return buf.length;
}

export function job(id: string, model = "fake-model", extra: Partial<LeasedJob> = {}): LeasedJob {
  return {
    job_id: id,
    lease_id: `lease-${id}`,
    epoch: 1,
    attempt: 1,
    model,
    runtime: "fake",
    input: { image: `/agent/v1/jobs/${id}/inputs/image`, steps: 2 },
    lease_expires_at: Date.now() + 3000,
    execution_timeout_ms: 60_000,
    ...extra,
  };
}
