import { createServer, type Server } from "node:http";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT, startAgent, startPlatform, type AgentProcess, type Platform } from "../../scripts/platform.ts";

/**
 * Workflows end to end: wrangler dev (D1, Durable Objects incl. WorkflowRun, Queues, R2) and a real gpu-agent running
 * the real models (ISNet background removal, NSFW MobileNetV2, the sharp utilities), driven through the public API,
 * with a real HTTP server receiving the signed webhooks. Every template runs here, as the README says.
 */
const photo = readFileSync(path.join(ROOT, "examples", "photo.jpg"));
/** the real CPU models the templates use: ISNet, the NSFW classifier and the sharp utilities */
const MODELS = [
  "background-removal",
  "nsfw-detector",
  "image-resize",
  "image-crop",
  "image-composite",
  "image-convert",
  "text-overlay",
];
const dir = mkdtempSync(path.join(tmpdir(), "edge-wf-e2e-"));
const port = 20_000 + Math.floor(Math.random() * 2000);
let platform: Platform;
let agent: AgentProcess;
let hooks: Server;
let hookUrl = "";
const received: {
  headers: Record<string, string | string[] | undefined>;
  body: { type: string; data: { run_id: string; status: string; cost: number } };
}[] = [];

const api = (p: string, init: RequestInit = {}) =>
  fetch(platform.url + p, {
    ...init,
    headers: { "x-api-key": platform.demo.api_key, "content-type": "application/json", ...(init.headers ?? {}) },
  });
type Run = {
  run_id: string;
  status: string;
  cost: number | null;
  outputs: Record<string, { type: string; url?: string; value?: unknown }> | null;
  nodes: Record<string, { status: string; cost: number | null; gpu_ms: number | null }>;
  error: { node: string; kind: string } | null;
};

async function waitRun(id: string, ms = 120_000): Promise<Run> {
  const end = Date.now() + ms;
  for (;;) {
    const v = (await (await api(`/v2/workflow-runs/${id}`)).json()) as Run;
    if ((["COMPLETED", "FAILED", "CANCELLED"].includes(v.status) && v.cost !== null) || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 250));
  }
}
const account = async () =>
  (await (await api("/v1/account")).json()) as { spent: number; held: number; available: number; balance: number };

beforeAll(async () => {
  hooks = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      received.push({ headers: req.headers, body: JSON.parse(body) });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => hooks.listen(0, "127.0.0.1", r));
  hookUrl = `http://127.0.0.1:${(hooks.address() as { port: number }).port}/hook`;
  platform = await startPlatform({
    port,
    adminToken: "e2e-admin-token-0123456789",
    persistDir: path.join(dir, "state"),
    logDir: dir,
    vars: { LEASE_TTL_MS: "5000" },
  });
  agent = startAgent(
    platform.url,
    platform.demo.agent_token,
    ["--name", "wf", "--models", MODELS.join(","), "--lease-wait-ms", "5000"],
    path.join(dir, "agent.log"),
  );
  await agent.waitFor(/"msg":"registered"/, 180_000);
});

afterAll(async () => {
  if (agent?.proc.exitCode === null) agent.proc.kill("SIGKILL");
  await platform?.stop();
  hooks?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("workflows end to end", () => {
  it("the safe-for-work gate template: copy, publish, run with a webhook; real cut-out and real verdict; charge == Σ nodes", async () => {
    expect(
      (
        await api("/v1/workflow-templates/safe-for-work-gate/copy", {
          method: "POST",
          body: JSON.stringify({ slug: "gate" }),
        })
      ).status,
    ).toBe(201);
    expect((await api("/v1/workflows/gate/versions", { method: "POST" })).status).toBe(201);
    const before = await account();
    const sub = await api("/v2/workflows/gate", {
      method: "POST",
      body: JSON.stringify({ image: photo.toString("base64"), webhook: hookUrl }),
    });
    expect(sub.status).toBe(202);
    const { run_id } = (await sub.json()) as { run_id: string };
    const v = await waitRun(run_id);
    expect(v.status).toBe("COMPLETED");
    expect(v.cost).toBe(Object.values(v.nodes).reduce((a, n) => a + n.cost!, 0));
    expect(v.nodes.cutout!.gpu_ms).toBeGreaterThan(0);
    const safety = v.outputs!.safety!.value as { nsfw: boolean; top: string; predictions: { className: string }[] };
    expect(safety.nsfw).toBe(false);
    expect(safety.predictions.map((p) => p.className).sort()).toEqual(["Drawing", "Hentai", "Neutral", "Porn", "Sexy"]);
    const png = await fetch(v.outputs!.image!.url!);
    expect(png.headers.get("content-type")).toBe("image/png");
    const { data, info } = await sharp(Buffer.from(await png.arrayBuffer()))
      .ensureAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    expect(data[3]).toBeLessThan(32); // the top-left corner is sky: cut away
    expect(data[(220 * info.width + 256) * 4 + 3]).toBeGreaterThan(224); // the ball is kept
    const after = await account();
    expect(after.spent - before.spent).toBe(v.cost);
    expect(after.held).toBe(before.held);

    for (let i = 0; i < 40 && !received.some((h) => h.body.data.run_id === run_id); i++)
      await new Promise((r) => setTimeout(r, 250));
    const hook = received.find((h) => h.body.data.run_id === run_id)!;
    expect(hook.body.type).toBe("run.completed");
    expect(hook.body.data.cost).toBe(v.cost);
    expect(hook.headers["webhook-id"]).toBe(`wh_${run_id}_completed`);
    expect(String(hook.headers["webhook-signature"])).toMatch(/^v1,/);
  });

  it("a chain run synchronously with a raw image body; a failing node refunds the run and sends run.failed", async () => {
    const chain = {
      inputs: { image: { type: "image" } },
      nodes: {
        check: { model: "nsfw-detector", input: { image: { $ref: "inputs.image" } } },
        // the verdict's top class is no model variant: the node fails when it is reached, after `check` was captured
        cut: {
          model: "background-removal",
          input: { image: { $ref: "inputs.image" }, model: { $ref: "nodes.check.json.top" } },
        },
      },
      outputs: { image: { $ref: "nodes.cut.output" } },
    };
    expect(
      (
        await api("/v1/workflows", {
          method: "POST",
          body: JSON.stringify({ slug: "bad-chain", name: "bad chain", definition: chain }),
        })
      ).status,
    ).toBe(201);
    expect((await api("/v1/workflows/bad-chain/versions", { method: "POST" })).status).toBe(201);
    const before = await account();
    const r = await api("/v1/workflows/bad-chain", {
      method: "POST",
      headers: { "content-type": "image/jpeg", prefer: "wait=60" },
      body: photo,
    });
    expect(r.status).toBe(422);
    const id = r.headers.get("x-workflow-run-id")!;
    const v = await waitRun(id);
    expect(v.status).toBe("FAILED");
    expect(v.error).toMatchObject({ node: "cut", kind: "invalid_input" });
    expect(v.nodes.check!.status).toBe("COMPLETED");
    expect(v.cost).toBe(0);
    const after = await account();
    expect([after.spent, after.held]).toEqual([before.spent, before.held]);

    // the same graph with a valid literal runs, synchronously, and answers with the cut-out's bytes
    chain.nodes.cut.input.model = "small" as never;
    const w = await api("/v1/workflows/bad-chain");
    expect(
      (
        await api("/v1/workflows/bad-chain/draft", {
          method: "PUT",
          headers: { "if-match": w.headers.get("etag")! },
          body: JSON.stringify({ definition: chain }),
        })
      ).status,
    ).toBe(200);
    expect((await api("/v1/workflows/bad-chain/versions", { method: "POST" })).status).toBe(201);
    const ok = await api("/v1/workflows/bad-chain", {
      method: "POST",
      headers: { "content-type": "image/jpeg", prefer: "wait=120" },
      body: photo,
    });
    expect(ok.status).toBe(200);
    expect(ok.headers.get("content-type")).toBe("image/png");
    expect((await sharp(Buffer.from(await ok.arrayBuffer())).metadata()).hasAlpha).toBe(true);
  });

  it("the failure webhook arrives, signed", async () => {
    const sub = await api("/v2/workflows/bad-chain@1", {
      method: "POST",
      body: JSON.stringify({ image: photo.toString("base64"), webhook: hookUrl }),
    });
    expect(sub.status).toBe(202);
    const { run_id } = (await sub.json()) as { run_id: string };
    expect((await waitRun(run_id)).status).toBe("FAILED");
    for (let i = 0; i < 40 && !received.some((h) => h.body.data.run_id === run_id); i++)
      await new Promise((r) => setTimeout(r, 250));
    const hook = received.find((h) => h.body.data.run_id === run_id)!;
    expect(hook.body.type).toBe("run.failed");
    expect(hook.body.data.cost).toBe(0);
    expect(String(hook.headers["webhook-signature"])).toMatch(/^v1,/);
  });

  /** Copies a template, publishes it and runs it with `body`; the run must complete and its charge be Σ nodes. */
  async function runTemplate(id: string, body: Record<string, unknown>): Promise<Run> {
    const slug = `t-${id}`;
    const copy = await api(`/v1/workflow-templates/${id}/copy`, { method: "POST", body: JSON.stringify({ slug }) });
    expect(copy.status, await copy.clone().text()).toBe(201);
    expect((await api(`/v1/workflows/${slug}/versions`, { method: "POST" })).status).toBe(201);
    const sub = await api(`/v2/workflows/${slug}`, { method: "POST", body: JSON.stringify(body) });
    expect(sub.status, await sub.clone().text()).toBe(202);
    const v = await waitRun(((await sub.json()) as { run_id: string }).run_id);
    expect([v.status, v.error]).toEqual(["COMPLETED", null]);
    expect(v.cost).toBe(Object.values(v.nodes).reduce((a, n) => a + n.cost!, 0));
    return v;
  }
  const image = async (v: Run) => {
    const r = await fetch(v.outputs!.image!.url!);
    expect(r.status).toBe(200);
    const bytes = Buffer.from(await r.arrayBuffer());
    const { data, info } = await sharp(bytes).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
    const px = (x: number, y: number) => [...data.subarray((y * info.width + x) * 4, (y * info.width + x) * 4 + 4)];
    return { type: r.headers.get("content-type"), width: info.width, height: info.height, px };
  };
  const b64 = photo.toString("base64");
  /** the matte's edge may leave a few levels of the subject's colour in a pixel */
  const near = (got: number[], want: number[]) => got.every((c, i) => Math.abs(c - want[i]!) <= 12);

  it("product-photo-on-white: the real cut-out on the caller's colour", async () => {
    const out = await image(await runTemplate("product-photo-on-white", { image: b64, background: "#336699" }));
    expect([out.type, out.width, out.height]).toEqual(["image/png", 512, 384]);
    expect(near(out.px(0, 0), [0x33, 0x66, 0x99, 255])).toBe(true); // sky cut away, the colour shows
    // a colour image-composite cannot read is the caller's 400 before anything runs
    const bad = await api("/v2/workflows/t-product-photo-on-white", {
      method: "POST",
      body: JSON.stringify({ image: b64, background: "red" }),
    });
    expect(bad.status).toBe(400);
    expect(
      ((await bad.json()) as { error: { details: { fields: { path: string }[] } } }).error.details.fields[0]!.path,
    ).toBe("background");
  });

  it("background-swap: the cut-out over another image, whose size the result takes", async () => {
    const bg = await sharp({ create: { width: 300, height: 200, channels: 3, background: "#cc2200" } })
      .png()
      .toBuffer();
    const out = await image(await runTemplate("background-swap", { image: b64, background: bg.toString("base64") }));
    expect([out.type, out.width, out.height]).toEqual(["image/png", 300, 200]);
    expect(near(out.px(0, 0), [0xcc, 0x22, 0x00, 255])).toBe(true);
  });

  it("web-thumbnail: a square WebP of the requested size", async () => {
    const out = await image(await runTemplate("web-thumbnail", { image: b64, size: 128, quality: 70 }));
    expect([out.type, out.width, out.height]).toEqual(["image/webp", 128, 128]);
  });

  it("watermarked-listing: five nodes, a JPEG with the watermark, and the safety verdict", async () => {
    const v = await runTemplate("watermarked-listing", { image: b64, text: "© e2e shop" });
    expect(Object.keys(v.nodes).sort()).toEqual(["check", "cutout", "encode", "flat", "mark"]);
    const out = await image(v);
    expect([out.type, out.width, out.height]).toEqual(["image/jpeg", 512, 384]);
    expect((v.outputs!.safety!.value as { nsfw: boolean }).nsfw).toBe(false);
    // the watermark sits bottom-right on white: some pixels there are no longer white
    const corner = [];
    for (let y = 330; y < 384; y += 2) for (let x = 380; x < 512; x += 2) corner.push(out.px(x, y));
    expect(corner.some(([r, g, b]) => r! < 240 || g! < 240 || b! < 240)).toBe(true);
  });

  it("square-crop: the largest centred square, resized", async () => {
    const out = await image(await runTemplate("square-crop", { image: b64, side: 100 }));
    expect([out.type, out.width, out.height]).toEqual(["image/png", 100, 100]);
  });
});
