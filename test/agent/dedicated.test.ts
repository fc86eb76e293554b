import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { Agent } from "../../gpu-agent/src/agent.ts";
import { parseConfig } from "../../gpu-agent/src/config.ts";
import type { RunRequest, RuntimeAdapter } from "../../gpu-agent/src/runtimes/types.ts";
import { job } from "./fake-platform.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Records the order of what happens: model loads (warm), readiness reports, jobs run. */
const events: string[] = [];
class Runtime implements RuntimeAdapter {
  readonly name = "fake";
  async models() {
    return ["fake-model", "other-model"];
  }
  async warm(m: string) {
    await sleep(50);
    events.push(`warm:${m}`);
  }
  loaded() {
    return [];
  }
  async run(req: RunRequest) {
    events.push(`run:${req.jobId}`);
    return { outputs: [], json: { ok: true }, gpuMs: 3, loadMs: 0 };
  }
  async close() {}
}

/**
 * The platform's side of a dedicated reservation, as the Worker answers it: while the instance loads, a lease returns
 * at once with the assignment and no jobs; after the readiness report it carries the endpoint's jobs.
 */
function platform() {
  const bodies: { path: string; body: Record<string, unknown> }[] = [];
  let ready = false;
  let handed = false;
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString()) : {};
    const path = req.url ?? "";
    bodies.push({ path, body });
    const send = (status: number, data?: unknown) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(data === undefined ? undefined : JSON.stringify(data));
    };
    const assignment = { endpoint_id: "ep_1", model: "fake-model", epoch: 4 };
    if (path === "/agent/v1/register")
      return send(200, {
        agent_id: "agent_d",
        pool: "public",
        heartbeat_interval_ms: 100,
        lease_ttl_ms: 3000,
        max_lease_wait_ms: 25000,
      });
    if (path === "/agent/v1/lease") {
      if (!ready) return send(200, { jobs: [], assignment });
      if (!handed) {
        handed = true;
        return send(200, { jobs: [{ ...job("req_d1"), input: { steps: 1 } }], assignment });
      }
      await sleep(100);
      return send(200, { jobs: [], assignment });
    }
    if (path === "/agent/v1/dedicated/ready") {
      events.push(`ready:${body.endpoint_id}:${body.epoch}`);
      ready = true;
      return send(200, { ok: true });
    }
    if (path === "/agent/v1/heartbeat") return send(200, { extended: [], cancel: [], drain: false });
    if (path === "/agent/v1/deregister") return send(200, { released: 0 });
    if (path.endsWith("/complete")) return send(200, { job_id: "req_d1", status: "COMPLETED" });
    send(404, { error: { code: "not_found", message: path, request_id: "x" } });
  });
  return { server, bodies };
}

let stop: (() => Promise<void>) | null = null;
afterEach(async () => {
  await stop?.();
  stop = null;
  events.length = 0;
});

describe("gpu-agent --dedicated", () => {
  it("opts in on every lease, loads the assigned model before reporting ready, then runs the endpoint's jobs", async () => {
    const p = platform();
    await new Promise<void>((r) => p.server.listen(0, "127.0.0.1", r));
    const url = `http://127.0.0.1:${(p.server.address() as AddressInfo).port}`;
    const cfg = parseConfig(
      [
        "--platform-url",
        url,
        "--token",
        "agt_testtoken",
        "--lease-wait-ms",
        "100",
        "--preload",
        "false",
        "--dedicated",
      ],
      {},
    );
    expect(cfg.dedicated).toBe(true);
    const agent = new Agent(cfg, [new Runtime()], pino({ level: "silent" }), {
      inventory: { gpus: [], gpu_class: "cpu", driver: null, cuda: null },
    });
    const running = agent.start();
    stop = async () => {
      await agent.drain();
      await running;
      p.server.closeAllConnections();
      await new Promise((r) => p.server.close(() => r(null)));
    };
    for (let i = 0; i < 100 && !events.includes("run:req_d1"); i++) await sleep(20);
    // The model loads first, readiness is reported once, and only then does a job run.
    expect(events.slice(0, 3)).toEqual(["warm:fake-model", "ready:ep_1:4", "run:req_d1"]);
    expect(events.filter((e) => e.startsWith("ready:"))).toHaveLength(1);
    const leases = p.bodies.filter((b) => b.path === "/agent/v1/lease");
    expect(leases.length).toBeGreaterThan(1);
    expect(leases.every((b) => b.body.dedicated === true)).toBe(true);
  });

  it("is off unless the provider opts the agent in", () => {
    expect(parseConfig(["--platform-url", "http://x.test", "--token", "agt_testtoken"], {}).dedicated).toBe(false);
    expect(
      parseConfig(["--platform-url", "http://x.test", "--token", "agt_testtoken"], { AGENT_DEDICATED: "true" })
        .dedicated,
    ).toBe(true);
  });
});
