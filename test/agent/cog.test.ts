import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { JobAborted, JobError } from "../../gpu-agent/src/errors.ts";
import { CogRuntime } from "../../gpu-agent/src/runtimes/cog.ts";
import { CogStandIn } from "./stand-ins/cog-server.ts";

let cog: CogStandIn;
let rt: CogRuntime;

beforeEach(async () => {
  cog = new CogStandIn(150);
  await cog.start();
  rt = new CogRuntime({ url: cog.url, model: "flux-schnell", setupTimeoutMs: 5000 });
});
afterEach(async () => {
  await rt.close();
  await cog.stop();
});

const job = (id: string, prompt: unknown = "a red fox") => ({
  jobId: id,
  model: "flux-schnell",
  params: { prompt, num_inference_steps: 4 },
  files: {},
});

describe("Cog adapter against a protocol stand-in", () => {
  it("waits for READY before reporting the model loaded", async () => {
    expect(rt.loaded()).toEqual([]);
    expect(await rt.health()).toBe("STARTING");
    await rt.warm("flux-schnell");
    expect(rt.loaded()).toEqual(["flux-schnell"]);
  });

  it("a backend whose setup failed is refused", async () => {
    cog.status = "SETUP_FAILED";
    await expect(rt.warm("flux-schnell")).rejects.toMatchObject({ kind: "backend_crash" });
  });

  it("runs an async prediction with a webhook and decodes the data-URL output", async () => {
    await rt.warm("flux-schnell");
    const out = await rt.run(job("req_1"));
    expect(out.outputs).toHaveLength(1);
    expect(out.outputs[0]).toMatchObject({ name: "output-0.png", contentType: "image/png" });
    expect(out.outputs[0]!.bytes.subarray(0, 4)).toEqual(new Uint8Array([0x89, 0x50, 0x4e, 0x47]));
    expect(out.gpuMs).toBeGreaterThanOrEqual(100);
    const put = cog.received.find((r) => r.method === "PUT")!;
    expect(put.path).toBe("/predictions/req_1");
    expect(put.prefer).toBe("respond-async");
    expect(put.body).toMatchObject({
      id: "req_1",
      input: { prompt: "a red fox" },
      webhook_events_filter: ["completed"],
    });
  });

  it("maps 422 to the caller's invalid input, and 409 (all slots busy) to a retryable error", async () => {
    await rt.warm("flux-schnell");
    await expect(rt.run(job("req_bad", 42))).rejects.toMatchObject({ kind: "invalid_input", retryable: false });
    cog.runMs = 1000;
    const first = rt.run(job("req_a"));
    await new Promise((r) => setTimeout(r, 50));
    const busy = await rt.run(job("req_b")).catch((e) => e);
    expect(busy).toBeInstanceOf(JobError);
    expect(busy).toMatchObject({ kind: "runtime_error", retryable: true });
    expect((await first).outputs).toHaveLength(1);
  });

  it("maps CUDA out-of-memory to oom", async () => {
    await rt.warm("flux-schnell");
    await expect(rt.run(job("req_oom", "oom"))).rejects.toMatchObject({ kind: "oom" });
  });

  it("cancel stops the prediction on the backend", async () => {
    await rt.warm("flux-schnell");
    cog.runMs = 5000;
    const running = rt.run(job("req_c")).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 100));
    await rt.cancel("req_c");
    expect(await running).toBeInstanceOf(JobAborted);
    expect(cog.received.some((r) => r.method === "POST" && r.path === "/predictions/req_c/cancel")).toBe(true);
    expect(cog.running.size).toBe(0);
  });

  it("an unreachable backend is a backend crash, retryable", async () => {
    await cog.stop();
    await expect(rt.run(job("req_x"))).rejects.toMatchObject({ kind: "backend_crash", retryable: true });
  });
});

describe("Cog backend supervised as a process", () => {
  it("kill -9 of the backend mid-job: the job fails as a retryable crash, the backend restarts, the next job runs", async () => {
    const { createServer } = await import("node:net");
    const port = await new Promise<number>((r) => {
      const s = createServer().listen(0, "127.0.0.1", () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => r(p));
      });
    });
    const supervised = new CogRuntime({
      url: `http://127.0.0.1:${port}`,
      model: "flux-schnell",
      setupTimeoutMs: 20_000,
      process: {
        command: process.execPath,
        args: [new URL("./stand-ins/cog-main.ts", import.meta.url).pathname],
        env: { PORT: String(port), RUN_MS: "3000" },
        backoffMs: 100,
      },
    });
    try {
      await supervised.warm("flux-schnell");
      const running = supervised.run(job("req_k9")).catch((e: unknown) => e);
      await new Promise((r) => setTimeout(r, 300));
      process.kill(supervised.backend!.pid!, "SIGKILL");
      expect(await running).toMatchObject({ kind: "backend_crash", retryable: true });
      // the broker would requeue it; here the next run waits for the restarted backend to be READY
      const again = await supervised.run(job("req_k9b"));
      expect(again.outputs).toHaveLength(1);
      expect(supervised.backend!.restarts).toBe(1);
    } finally {
      await supervised.close();
    }
  });
});
