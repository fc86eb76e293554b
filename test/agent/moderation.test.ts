import pino from "pino";
import sharp from "sharp";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { FailRequest, CompleteRequest, type ModerationReport } from "../../schemas/index.ts";
import { Agent } from "../../gpu-agent/src/agent.ts";
import { parseConfig } from "../../gpu-agent/src/config.ts";
import type { Classifier } from "../../gpu-agent/src/moderation.ts";
import { BuiltinRuntime } from "../../gpu-agent/src/runtimes/builtin/index.ts";
import type { RunOutput, RunRequest, RuntimeAdapter } from "../../gpu-agent/src/runtimes/types.ts";
import { FakePlatform, job } from "./fake-platform.ts";

const silent = pino({ level: "silent" });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Fixtures that are not explicit but that the MobileNetV2 classifier scores apart: a pink-to-brown radial gradient
 * (about 0.08 of its probability on the explicit classes) and two such discs on brown (about 0.01). A threshold of
 * 0.04 puts them on either side; the test checks the scores, so a model change that moved them would show here.
 */
const radial = `<radialGradient id="g"><stop offset="0" stop-color="#ffc0cb"/><stop offset="1" stop-color="#8b4513"/></radialGradient>`;
const HIGH =
  `<svg xmlns="http://www.w3.org/2000/svg" width="224" height="224"><defs>${radial}</defs>` +
  `<rect width="224" height="224" fill="url(#g)"/></svg>`;
const LOW =
  `<svg xmlns="http://www.w3.org/2000/svg" width="224" height="224"><defs>${radial}</defs>` +
  `<rect width="224" height="224" fill="#8b4513"/><circle cx="70" cy="112" r="60" fill="url(#g)"/>` +
  `<circle cx="154" cy="112" r="60" fill="url(#g)"/></svg>`;
const THRESHOLD = 0.04;

/** A GPU model stand-in whose output images are the fixtures named by the job's `outputs` parameter. */
class ImageModel implements RuntimeAdapter {
  readonly name = "fake";
  images: Record<string, Uint8Array> = {};
  async models() {
    return ["txt2img-fake"];
  }
  async warm() {}
  loaded() {
    return ["txt2img-fake"];
  }
  async run(req: RunRequest): Promise<RunOutput> {
    const names = req.params.outputs as string[];
    return {
      outputs: names.map((n, i) => ({ name: `out-${i}.png`, contentType: "image/png", bytes: this.images[n]! })),
      gpuMs: 40,
      loadMs: 0,
    };
  }
  async close() {}
}

let platform: FakePlatform | undefined;
let agent: Agent | null = null;
let running: Promise<void> | null = null;
const model = new ImageModel();
const builtin = new BuiltinRuntime();
// each test's agent closes its runtimes when it drains; the model thread is shared across the tests instead
const shared: RuntimeAdapter = {
  name: builtin.name,
  models: () => builtin.models(),
  warm: (m) => builtin.warm(m),
  loaded: () => builtin.loaded(),
  run: (req) => builtin.run(req),
  close: async () => {},
};

beforeAll(async () => {
  model.images.high = new Uint8Array(await sharp(Buffer.from(HIGH)).png().toBuffer());
  model.images.low = new Uint8Array(await sharp(Buffer.from(LOW)).png().toBuffer());
});
afterAll(() => builtin.close());
afterEach(async () => {
  await agent?.drain();
  await running?.catch(() => {});
  await platform?.stop();
  platform = undefined;
});

beforeEach(() => {
  agent = null;
  running = null;
});

async function runJob(
  outputs: string[],
  moderation?: { policy: "none" | "flag" | "block"; threshold: number },
  runtimes: RuntimeAdapter[] = [model, shared],
  classifier?: Classifier | null,
) {
  await platform?.stop();
  platform = new FakePlatform();
  await platform.start();
  platform.queue.push(job("m1", "txt2img-fake", { input: { outputs }, ...(moderation ? { moderation } : {}) }));
  const cfg = parseConfig(
    ["--platform-url", platform.url, "--token", "agt_testtoken", "--lease-wait-ms", "200", "--models", "txt2img-fake"],
    {},
  );
  agent = new Agent(cfg, runtimes, silent, classifier === undefined ? {} : { classifier });
  running = agent.start();
  const end = Date.now() + 30_000;
  while (platform.of("complete").length + platform.of("fail").length === 0) {
    if (Date.now() > end) throw new Error("job did not finish");
    await sleep(20);
  }
  return platform;
}

describe("output moderation inside the job", () => {
  it("block: an output over the threshold fails the job as content_moderated, not retryable, with the scores; nothing is uploaded", async () => {
    const p = await runJob(["low", "high"], { policy: "block", threshold: THRESHOLD });
    expect(p.of("complete")).toHaveLength(0);
    expect(p.calls.filter((c) => c.path.includes("/outputs/"))).toHaveLength(0);
    const fail = FailRequest.parse(p.of("fail")[0]!.body);
    expect(fail).toMatchObject({ kind: "content_moderated", retryable: false });
    expect(fail.message).toMatch(/out-1\.png scored 0\.\d+/);
    const report = fail.moderation!;
    expect(report).toMatchObject({ policy: "block", threshold: THRESHOLD, flagged: true });
    const [low, high] = report.outputs;
    expect(low).toMatchObject({ name: "out-0.png", flagged: false });
    expect(high).toMatchObject({ name: "out-1.png", flagged: true });
    expect(high!.nsfw_score).toBeGreaterThanOrEqual(THRESHOLD);
    expect(low!.nsfw_score).toBeLessThan(THRESHOLD);
    expect(high!.predictions).toHaveLength(5);
    // the run's compute travels with the failure: the platform pays the provider's share of it
    expect(fail.metrics).toMatchObject({ gpu_ms: 40, load_ms: 0, gpu_count: 1 });
    expect(fail.metrics!.moderation_ms).toBeGreaterThan(0);
  });

  it("block: outputs under the threshold complete, with the moderation time metered apart from gpu_ms", async () => {
    const p = await runJob(["low"], { policy: "block", threshold: THRESHOLD });
    expect(p.of("fail")).toHaveLength(0);
    const done = CompleteRequest.parse(p.of("complete")[0]!.body);
    expect(done.metrics.gpu_ms).toBe(40); // the model's own execution time, untouched
    expect(done.metrics.moderation_ms).toBeGreaterThan(0);
    expect(p.calls.filter((c) => c.path.includes("/outputs/"))).toHaveLength(1);
  });

  it("flag: completes with every output and the scores attached to the result", async () => {
    const p = await runJob(["high", "low"], { policy: "flag", threshold: THRESHOLD });
    const done = CompleteRequest.parse(p.of("complete")[0]!.body);
    expect(done.outputs.map((o) => o.name)).toEqual(["out-0.png", "out-1.png"]);
    const report = (done.output_json as { moderation: ModerationReport }).moderation;
    expect(report).toMatchObject({ policy: "flag", flagged: true });
    expect(report.outputs.map((o) => o.flagged)).toEqual([true, false]);
    expect(done.metrics.moderation_ms).toBeGreaterThan(0);
  });

  it("none, or no policy with the job: the classifier does not run", async () => {
    for (const policy of [undefined, { policy: "none" as const, threshold: 0 }]) {
      const p = await runJob(["high"], policy);
      const done = CompleteRequest.parse(p.of("complete")[0]!.body);
      expect(done.output_json).toBeUndefined();
      expect(done.metrics.moderation_ms).toBeUndefined();
      await agent!.drain();
      await running;
      agent = null;
    }
  });

  it("a GPU host without the built-in runtime moderates on a model thread of its own", async () => {
    const p = await runJob(["high"], { policy: "block", threshold: THRESHOLD }, [model]);
    expect(p.of("fail")[0]!.body).toMatchObject({ kind: "content_moderated", retryable: false });
  });

  it("an agent without a classifier gives a job that needs moderation back as retryable, never unmoderated", async () => {
    const p = await runJob(["high"], { policy: "block", threshold: THRESHOLD }, [model], null);
    expect(p.of("complete")).toHaveLength(0);
    expect(p.of("fail")[0]!.body).toMatchObject({ kind: "model_unavailable", retryable: true });
  });

  it("an output the classifier cannot read fails as the model's retryable error, not the caller's input", async () => {
    const unreadable: Classifier = async () => {
      throw new Error("image: could not decode image");
    };
    const p = await runJob(["high"], { policy: "flag", threshold: THRESHOLD }, [model], unreadable);
    expect(p.of("fail")[0]!.body).toMatchObject({ kind: "runtime_error", retryable: true });
  });
});
