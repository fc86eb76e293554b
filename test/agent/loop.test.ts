import { afterEach, beforeEach, describe, expect, it } from "vitest";
import pino from "pino";
import { Agent } from "../../gpu-agent/src/agent.ts";
import { parseConfig } from "../../gpu-agent/src/config.ts";
import { JobError } from "../../gpu-agent/src/errors.ts";
import type { RunOutput, RunRequest, RuntimeAdapter } from "../../gpu-agent/src/runtimes/types.ts";
import { FakePlatform, job } from "./fake-platform.ts";
import { doctor } from "../../gpu-agent/src/doctor.ts";
import { readFileSync } from "node:fs";
import { parseInventory } from "../../gpu-agent/src/gpu/inventory.ts";
import { ReplayMeter } from "../../gpu-agent/src/gpu/meter.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const silent = pino({ level: "silent" });

/** A runtime whose behaviour each test scripts: how long a job takes and how it ends. */
class ScriptedRuntime implements RuntimeAdapter {
  readonly name = "fake";
  runs: RunRequest[] = [];
  behaviour: (req: RunRequest) => Promise<RunOutput> = async () => ({
    outputs: [{ name: "out.png", contentType: "image/png", bytes: new Uint8Array([1]) }],
    gpuMs: 5,
    loadMs: 0,
  });
  warmed: string[] = [];
  async models() {
    return ["fake-model"];
  }
  async warm(m: string) {
    this.warmed.push(m);
  }
  loaded() {
    return this.warmed;
  }
  async run(req: RunRequest) {
    this.runs.push(req);
    return this.behaviour(req);
  }
  cancel?: (jobId: string) => Promise<void>;
  free?: () => Promise<void>;
  async close() {}
}

let platform: FakePlatform;
let runtime: ScriptedRuntime;
let agent: Agent;
let running: Promise<void>;

function makeAgent(extra: string[] = [], opts: ConstructorParameters<typeof Agent>[3] = {}) {
  const cfg = parseConfig(
    [
      "--platform-url",
      platform.url,
      "--token",
      "agt_testtoken",
      "--lease-wait-ms",
      "200",
      "--drain-grace-ms",
      "1000",
      ...extra,
    ],
    {},
  );
  agent = new Agent(cfg, [runtime], silent, opts);
  running = agent.start();
}

async function until(cond: () => boolean, ms = 5000) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await sleep(20);
  }
}

beforeEach(async () => {
  platform = new FakePlatform();
  await platform.start();
  runtime = new ScriptedRuntime();
});
afterEach(async () => {
  await agent?.drain();
  await running?.catch(() => {});
  await platform.stop();
});

describe("config", () => {
  it("takes flags over env and rejects invalid values with the field named", () => {
    const cfg = parseConfig(["--slots", "3", "--platform-url", "http://x.test"], {
      PLATFORM_URL: "http://env.test",
      AGENT_TOKEN: "agt_0123456789",
      AGENT_SLOTS: "9",
    });
    expect(cfg).toMatchObject({ platformUrl: "http://x.test", slots: 3, token: "agt_0123456789", gpuClass: "auto" });
    expect(() =>
      parseConfig(["--slots", "0"], { PLATFORM_URL: "http://x.test", AGENT_TOKEN: "agt_0123456789" }),
    ).toThrow(/slots/);
    expect(() => parseConfig([], {})).toThrow(/platformUrl/);
  });

  it("reads a JSON config file under env and flags", async () => {
    const { writeFileSync, mkdtempSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const file = `${mkdtempSync(`${tmpdir()}/agent-cfg-`)}/agent.json`;
    writeFileSync(
      file,
      JSON.stringify({
        "platform-url": "http://file.test",
        token: "agt_fromfile0",
        slots: 4,
        models: ["nsfw-detector"],
        "gpu-class": "L40S",
      }),
    );
    const cfg = parseConfig(["--config", file, "--slots", "2"], { AGENT_GPU_CLASS: "A40" });
    expect(cfg).toMatchObject({
      platformUrl: "http://file.test",
      token: "agt_fromfile0",
      slots: 2,
      models: ["nsfw-detector"],
      gpuClass: "A40",
    });
    expect(() => parseConfig(["--config", `${file}.missing`], {})).toThrow(/cannot read/);
  });
});

describe("doctor", () => {
  it("checks GPU, disk, platform reachability and a test inference per runtime", async () => {
    const cfg = parseConfig(["--platform-url", platform.url, "--token", "agt_testtoken"], {});
    const checks = await doctor({ ...cfg, platformUrl: "http://127.0.0.1:9" }, [runtime], 0);
    expect(checks.map((c) => c.name)).toEqual(["gpu", "disk", "platform", "runtime fake"]);
    expect(checks.find((c) => c.name === "platform")!.ok).toBe(false);
    expect(checks.find((c) => c.name === "runtime fake")).toMatchObject({ ok: true });
    expect(runtime.runs).toHaveLength(1);
    runtime.behaviour = async () => {
      throw new Error("CUDA driver version is insufficient");
    };
    const bad = await doctor(cfg, [runtime], 0);
    expect(bad.find((c) => c.name === "runtime fake")).toMatchObject({
      ok: false,
      detail: expect.stringContaining("insufficient"),
    });
  });
});

describe("lease loop", () => {
  it("warms models before registering, downloads inputs, uploads outputs and completes with measured metrics", async () => {
    platform.queue.push(job("j1"));
    makeAgent();
    await until(() => platform.of("complete").length === 1);
    expect(runtime.warmed).toEqual(["fake-model"]);
    const lease = platform.of("lease")[0]!.body as { loaded_models: string[] };
    expect(lease.loaded_models).toEqual(["fake-model"]);
    expect(runtime.runs[0]!.files.image!.bytes).toEqual(new Uint8Array([1, 2, 3]));
    expect(runtime.runs[0]!.params).toEqual({ steps: 2 });
    expect(platform.of("outputs/out.png")).toHaveLength(1);
    expect(platform.of("complete")[0]!.body).toMatchObject({
      lease_id: "lease-j1",
      epoch: 1,
      metrics: { gpu_ms: 5, load_ms: 0, gpu_class: "cpu" },
    });
  });

  it("takes a small input from the lease reply without downloading it", async () => {
    const bytes = new Uint8Array([9, 8, 7, 6]);
    platform.queue.push(
      job("j-inline", "fake-model", {
        inline_inputs: { image: { content_type: "image/png", data: Buffer.from(bytes).toString("base64") } },
      }),
    );
    makeAgent();
    await until(() => platform.of("complete").length === 1);
    expect(runtime.runs[0]!.files.image).toEqual({ bytes, contentType: "image/png" });
    expect(runtime.runs[0]!.params).toEqual({ steps: 2 });
    expect(platform.calls.some((c) => c.path.includes("/inputs/"))).toBe(false);
  });

  it("on a GPU host: registers its inventory and class, and completes with the meter's evidence for the job window", async () => {
    const fx = (n: string) => readFileSync(new URL(`../fixtures/nvidia-smi/${n}`, import.meta.url), "utf8");
    const { gpus, driver } = parseInventory(fx("h100x2.csv"));
    // play the recording from 1.9 s: the scripted job then runs inside the recorded busy stretch (2.0 s to 4.8 s)
    const meter = new ReplayMeter(fx("sampler-h100x2.csv"), Date.UTC(2026, 10, 22, 10, 0, 1, 900));
    runtime.behaviour = async () => {
      await sleep(500);
      return { outputs: [], json: {}, gpuMs: 500, loadMs: 0 };
    };
    platform.queue.push(job("g1"));
    makeAgent([], { inventory: { gpus, driver, cuda: "12.4", gpu_class: "H100" }, meter });
    await until(() => platform.of("complete").length === 1);
    expect(platform.of("register")[0]!.body).toMatchObject({
      gpu_class: "H100",
      driver: "550.54.15",
      cuda: "12.4",
      gpus: [{ name: "NVIDIA H100 80GB HBM3" }, { index: 1 }],
    });
    const metrics = (
      platform.of("complete")[0]!.body as {
        metrics: { gpu_class: string; evidence: { busy_gpu_ms: number; peak_memory_mib: number; window_ms: number } };
      }
    ).metrics;
    expect(metrics.gpu_class).toBe("H100");
    expect(metrics.evidence.peak_memory_mib).toBe(31450);
    expect(metrics.evidence.busy_gpu_ms).toBeGreaterThan(0.9 * 0.98 * metrics.evidence.window_ms - 200);
  });

  it("exposes Prometheus metrics: jobs by outcome, failures by kind, execution time, slots", async () => {
    runtime.behaviour = async (req) => {
      if (req.jobId === "m2") throw new JobError("invalid_input", "bad");
      return { outputs: [], gpuMs: 250, loadMs: 0 };
    };
    platform.queue.push(job("m1"), job("m2"));
    makeAgent();
    await until(() => platform.of("complete").length === 1 && platform.of("fail").length === 1);
    const server = await agent.metrics.serve(0);
    const port = (server.address() as { port: number }).port;
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    server.close();
    expect(text).toContain('gpu_agent_jobs_total{outcome="completed"} 1');
    expect(text).toContain('gpu_agent_failures_total{kind="invalid_input"} 1');
    expect(text).toContain("gpu_agent_job_execution_seconds_count 1");
    expect(text).toContain("gpu_agent_slots_total 1");
  });

  it("fails a job with its error kind and keeps serving the next one", async () => {
    runtime.behaviour = async (req) => {
      if (req.jobId === "bad") throw new JobError("invalid_input", "could not decode image");
      return { outputs: [], json: { ok: 1 }, gpuMs: 1, loadMs: 0 };
    };
    platform.queue.push(job("bad"), job("good"));
    makeAgent();
    await until(() => platform.of("complete").length === 1 && platform.of("fail").length === 1);
    expect(platform.of("fail")[0]!.body).toMatchObject({ kind: "invalid_input", retryable: false });
    expect(platform.of("complete")[0]!.path).toContain("/good/");
  });

  it("out of memory is retried once on the agent, then failed as the caller's, not retried elsewhere", async () => {
    let calls = 0;
    let freed = 0;
    runtime.free = async () => void freed++;
    runtime.behaviour = async () => {
      calls++;
      throw new JobError("oom", "CUDA out of memory", true);
    };
    platform.queue.push(job("o1"));
    makeAgent();
    await until(() => platform.of("fail").length === 1);
    expect(calls).toBe(2);
    expect(freed).toBe(1);
    expect(platform.of("fail")[0]!.body).toMatchObject({ kind: "oom", retryable: false });
  });

  it("a cancel from the platform reaches a backend that can stop the job", async () => {
    const cancelled: string[] = [];
    runtime.cancel = async (id: string) => void cancelled.push(id);
    runtime.behaviour = async () => {
      await sleep(600);
      return { outputs: [], gpuMs: 600, loadMs: 0 };
    };
    platform.queue.push(job("k1"));
    makeAgent();
    await until(() => runtime.runs.length === 1);
    platform.cancel.add("k1");
    await until(() => cancelled.length === 1);
    expect(cancelled).toEqual(["k1"]);
  });

  it("keeps the result through network loss and re-sends the completion until it lands", async () => {
    platform.dropCompletes = 2;
    platform.queue.push(job("j1"));
    makeAgent();
    await until(() => agent.stats.completed === 1);
    expect(platform.calls.filter((c) => c.path.endsWith("/complete"))).toHaveLength(3);
    expect(runtime.runs).toHaveLength(1);
  });

  it("stops a job the platform cancels on heartbeat and reports nothing for it", async () => {
    runtime.behaviour = async () => {
      await sleep(600);
      return { outputs: [], gpuMs: 600, loadMs: 0 };
    };
    platform.queue.push(job("c1"));
    makeAgent();
    await until(() => runtime.runs.length === 1);
    platform.cancel.add("c1");
    await until(() => agent.stats.dropped === 1);
    expect(platform.of("complete")).toHaveLength(0);
    expect(platform.of("fail")).toHaveLength(0);
  });

  it("never runs more jobs than it has slots, and leases at most slots + prefetch", async () => {
    let concurrent = 0;
    let peak = 0;
    runtime.behaviour = async () => {
      peak = Math.max(peak, ++concurrent);
      await sleep(100);
      concurrent--;
      return { outputs: [], gpuMs: 100, loadMs: 0 };
    };
    for (let i = 0; i < 6; i++) platform.queue.push(job(`s${i}`));
    makeAgent(["--slots", "2"]);
    await until(() => platform.of("complete").length === 6);
    expect(peak).toBe(2);
    for (const c of platform.of("lease")) expect((c.body as { slots_free: number }).slots_free).toBeLessThanOrEqual(3);
    expect(platform.of("lease").some((c) => (c.body as { prefetch: boolean }).prefetch)).toBe(true);
  });

  it("prefetch: the next job is leased and its inputs fetched while the current one runs", async () => {
    const starts: number[] = [];
    const ends: number[] = [];
    runtime.behaviour = async () => {
      starts.push(performance.now());
      await sleep(300);
      ends.push(performance.now());
      return { outputs: [], gpuMs: 300, loadMs: 0 };
    };
    platform.queue.push(job("p1"));
    makeAgent(["--prefetch", "1"]);
    await until(() => runtime.runs.length === 1);
    platform.queue.push(job("p2"));
    // p2 is leased (as a prefetch) and its input downloaded while p1 still runs
    await until(() => platform.calls.some((c) => c.path === "/agent/v1/jobs/p2/inputs/image"));
    expect(runtime.runs).toHaveLength(1);
    await until(() => platform.of("complete").length === 2);
    const at = (path: string) => platform.calls.findIndex((c) => c.path === path);
    expect(at("/agent/v1/jobs/p2/inputs/image")).toBeLessThan(at("/agent/v1/jobs/p1/complete"));
    // one device slot: p2 ran only after p1's run ended
    expect(starts[1]!).toBeGreaterThanOrEqual(ends[0]!);
  });

  it("drains: lets a running job finish within the grace period, then returns", async () => {
    runtime.behaviour = async () => {
      await sleep(300);
      return { outputs: [], gpuMs: 300, loadMs: 0 };
    };
    platform.queue.push(job("d1"));
    makeAgent();
    await until(() => runtime.runs.length === 1);
    await agent.drain();
    expect(platform.of("complete")).toHaveLength(1);
    expect(platform.of("release")).toHaveLength(0);
  });

  it("drains: releases a job that outlives the grace period", async () => {
    runtime.behaviour = async () => {
      await sleep(3000);
      return { outputs: [], gpuMs: 3000, loadMs: 0 };
    };
    platform.queue.push(job("d2"));
    makeAgent();
    await until(() => runtime.runs.length === 1);
    await agent.drain();
    expect(platform.of("release")).toHaveLength(1);
    expect(platform.of("release")[0]!.body).toMatchObject({ lease_id: "lease-d2", reason: "draining" });
  });
});
