import { env } from "cloudflare:workers";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  PNG_1x1,
  brokerStub,
  call,
  json,
  newAccount,
  newAgent,
  resetBroker,
  syncCatalog,
  type FakeAgent,
} from "./helpers.ts";
import { runInDurableObject } from "cloudflare:test";

beforeAll(syncCatalog);
beforeEach(resetBroker);

async function counts() {
  const requests = (await env.DB.prepare("SELECT COUNT(*) AS n FROM requests").first<{ n: number }>())!.n;
  const jobs = await runInDurableObject(
    brokerStub(),
    (_i, s) => s.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM jobs").one().n,
  );
  const blobs = (await env.BLOBS.list()).objects.length;
  return { requests, jobs, blobs };
}

/** Runs one leased job to completion the way gpu-agent does: upload, then complete with metrics. */
async function serve(agent: FakeAgent, output = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]), gpuMs = 20) {
  let jobs = await agent.lease();
  for (let i = 0; jobs.length === 0 && i < 50; i++) jobs = await agent.lease({ wait_ms: 100 });
  const job = jobs[0]!;
  const put = await call(`/agent/v1/jobs/${job.job_id}/outputs/output.png`, {
    method: "PUT",
    headers: { ...agent.headers, "x-lease-id": job.lease_id, "content-type": "image/png" },
    body: output,
  });
  expect(put.status).toBe(200);
  await new Promise((r) => setTimeout(r, 40)); // the "execution": reported time must fit inside the lease window
  const done = await agent.post(`/agent/v1/jobs/${job.job_id}/complete`, {
    lease_id: job.lease_id,
    epoch: job.epoch,
    outputs: [{ name: "output.png", content_type: "image/png", size: output.byteLength }],
    metrics: { gpu_ms: gpuMs, load_ms: 0, gpu_class: "cpu" },
  });
  expect(done.status).toBe(200);
  return job;
}

describe("bad input loses nothing", () => {
  it("unknown model → 404, invalid input → 400 with fields, bad JSON → 400, oversize → 413; no request, job or blob is left", async () => {
    const { key } = await newAccount();
    const h = { "x-api-key": key };
    const before = await counts();

    const unknown = await json("POST", "/v1/not-a-model", { image: PNG_1x1 }, h);
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { error: { code: string } }).error.code).toBe("not_found");

    const invalid = await json("POST", "/v2/background-removal", { image: 42, model: "huge", extra: true }, h);
    expect(invalid.status).toBe(400);
    const body = (await invalid.json()) as { error: { code: string; details: { fields: { path: string }[] } } };
    expect(body.error.code).toBe("invalid_input");
    expect(body.error.details.fields.map((f) => f.path)).toEqual(expect.arrayContaining(["image", "model"]));

    const badJson = await call("/v2/background-removal", {
      method: "POST",
      headers: { ...h, "content-type": "application/json" },
      body: "{nope",
    });
    expect(badJson.status).toBe(400);

    const huge = await call("/v2/background-removal", {
      method: "POST",
      headers: { ...h, "content-type": "application/json" },
      body: JSON.stringify({ image: "A".repeat(21 * 1024 * 1024) }),
    });
    expect(huge.status).toBe(413);
    expect(((await huge.json()) as { error: { code: string } }).error.code).toBe("payload_too_large");

    const notImage = await json("POST", "/v2/background-removal", { image: "%%% not base64" }, h);
    expect(notImage.status).toBe(400);

    expect(await counts()).toEqual(before);
  });

  it("a free account cannot call a paid model (403) and nothing is queued", async () => {
    const { key } = await newAccount("free");
    const before = await counts();
    const r = await json("POST", "/v2/sdxl1.0-txt2img", { prompt: "a cat" }, { "x-api-key": key });
    expect(r.status).toBe(403);
    expect(await counts()).toEqual(before);
  });
});

describe("async requests", () => {
  it("queues, reports queue position, runs, and serves outputs through signed URLs", async () => {
    const { key } = await newAccount("pro"); // a free account may have only one request in flight
    const h = { "x-api-key": key };
    const sub = await json("POST", "/v2/background-removal", { image: PNG_1x1 }, h);
    expect(sub.status).toBe(202);
    const s = (await sub.json()) as {
      request_id: string;
      status: string;
      queue_position: number;
      status_url: string;
      response_url: string;
      cancel_url: string;
    };
    expect(s.status).toBe("QUEUED");
    expect(s.queue_position).toBe(0);
    expect(s.status_url).toBe(`http://platform.test/v2/requests/${s.request_id}/status`);

    const second = (await (await json("POST", "/v2/nsfw-detector", { image: PNG_1x1 }, h)).json()) as {
      queue_position: number;
    };
    expect(second.queue_position).toBe(1);

    const agent = await newAgent();
    const job = await serve(agent);
    expect(job.job_id).toBe(s.request_id);
    // the agent gets a platform URL for the image, never the customer's input or identity
    expect(job.input.image).toBe(`/agent/v1/jobs/${s.request_id}/inputs/image`);
    expect(JSON.stringify(job)).not.toContain("acct_");

    const status = (await (await call(`/v2/requests/${s.request_id}/status`, { headers: h })).json()) as {
      status: string;
      metrics: { gpu_ms: number; gpu_class: string };
    };
    expect(status.status).toBe("COMPLETED");
    expect(status.metrics).toMatchObject({ gpu_ms: 20, gpu_class: "cpu" });

    const result = (await (await call(`/v2/requests/${s.request_id}`, { headers: h })).json()) as {
      output: { url: string; size: number }[];
    };
    const url = new URL(result.output[0]!.url);
    const file = await call(url.pathname + url.search);
    expect(file.status).toBe(200);
    expect(new Uint8Array(await file.arrayBuffer())).toEqual(new Uint8Array([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]));

    url.searchParams.set(
      "sig",
      url.searchParams.get("sig")!.replace(/^./, (ch) => (ch === "A" ? "B" : "A")),
    );
    expect((await call(url.pathname + url.search)).status).toBe(403);
    expect((await call(`/v2/requests/${s.request_id}/outputs/output.png`)).status).toBe(403);
  });

  it("only the owning account can read or cancel a request", async () => {
    const owner = await newAccount();
    const other = await newAccount();
    const s = (await (
      await json("POST", "/v2/background-removal", { image: PNG_1x1 }, { "x-api-key": owner.key })
    ).json()) as { request_id: string };
    for (const p of [`/v2/requests/${s.request_id}/status`, `/v2/requests/${s.request_id}`]) {
      expect((await call(p, { headers: { "x-api-key": other.key } })).status).toBe(404);
    }
    expect(
      (await call(`/v2/requests/${s.request_id}/cancel`, { method: "POST", headers: { "x-api-key": other.key } }))
        .status,
    ).toBe(404);
    expect((await call(`/v2/requests/${s.request_id}/status`, { headers: { "x-api-key": owner.key } })).status).toBe(
      200,
    );
  });

  it("cancel ends a queued job at once and a second cancel reports it already finished", async () => {
    const { key } = await newAccount();
    const h = { "x-api-key": key };
    const s = (await (await json("POST", "/v2/background-removal", { image: PNG_1x1 }, h)).json()) as {
      request_id: string;
    };
    const c1 = (await (await call(`/v2/requests/${s.request_id}/cancel`, { method: "POST", headers: h })).json()) as {
      outcome: string;
      status: string;
    };
    expect(c1).toMatchObject({ outcome: "cancelled", status: "CANCELLED" });
    const c2 = (await (await call(`/v2/requests/${s.request_id}/cancel`, { method: "POST", headers: h })).json()) as {
      outcome: string;
    };
    expect(c2.outcome).toBe("already_completed");
    expect(await (await newAgent()).lease()).toEqual([]);
  });

  it("Idempotency-Key replays the same request, and a different body under the same key is a 409", async () => {
    const { key } = await newAccount();
    const h = { "x-api-key": key, "idempotency-key": "order-42" };
    const a = (await (await json("POST", "/v2/background-removal", { image: PNG_1x1 }, h)).json()) as {
      request_id: string;
    };
    const b = (await (await json("POST", "/v2/background-removal", { image: PNG_1x1 }, h)).json()) as {
      request_id: string;
    };
    expect(b.request_id).toBe(a.request_id);
    const c = await json("POST", "/v2/background-removal", { image: PNG_1x1, model: "small" }, h);
    expect(c.status).toBe(409);
    expect(((await c.json()) as { error: { code: string } }).error.code).toBe("idempotency_conflict");
  });

  it("Idempotency-Key on a raw image body: the same bytes replay, other bytes conflict", async () => {
    const { key } = await newAccount("pro");
    const bytes = Uint8Array.from(atob(PNG_1x1), (ch) => ch.charCodeAt(0));
    const send = (body: Uint8Array) =>
      call("/v2/background-removal", {
        method: "POST",
        headers: { "x-api-key": key, "idempotency-key": "raw-1", "content-type": "image/png" },
        body,
      });
    const a = (await (await send(bytes)).json()) as { request_id: string };
    const b = (await (await send(bytes)).json()) as { request_id: string };
    expect(b.request_id).toBe(a.request_id);
    expect((await send(new Uint8Array([...bytes, 0]))).status).toBe(409);
  });
});

describe("sync requests", () => {
  it("returns the image bytes when the job finishes within the wait", async () => {
    const { key } = await newAccount();
    const agent = await newAgent();
    const pending = json("POST", "/v1/background-removal", { image: PNG_1x1 }, { "x-api-key": key });
    await serve(agent, new Uint8Array([0x89, 0x50, 0x4e, 0x47, 9, 8, 7])); // uploads must start as their type says
    const r = await pending;
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toBe("image/png");
    expect(r.headers.get("x-gpu-ms")).toBe("20");
    expect(new Uint8Array(await r.arrayBuffer())).toEqual(new Uint8Array([0x89, 0x50, 0x4e, 0x47, 9, 8, 7]));
  });

  it("clamps a reported gpu_ms longer than the lease window the broker saw", async () => {
    const { key } = await newAccount();
    const agent = await newAgent();
    const t0 = Date.now();
    const pending = json("POST", "/v1/background-removal", { image: PNG_1x1 }, { "x-api-key": key });
    await serve(agent, undefined, 24 * 3600 * 1000);
    const r = await pending;
    expect(r.status).toBe(200);
    const gpuMs = Number(r.headers.get("x-gpu-ms"));
    expect(gpuMs).toBeGreaterThanOrEqual(40);
    expect(gpuMs).toBeLessThanOrEqual(Date.now() - t0);
  });

  it("accepts a raw image body", async () => {
    const { key } = await newAccount();
    const agent = await newAgent();
    const bytes = Uint8Array.from(atob(PNG_1x1), (c) => c.charCodeAt(0));
    const pending = call("/v1/background-removal", {
      method: "POST",
      headers: { "x-api-key": key, "content-type": "image/png" },
      body: bytes,
    });
    const job = await serve(agent);
    const input = await call(job.input.image as string, { headers: { ...agent.headers, "x-lease-id": job.lease_id } });
    expect(input.status).toBe(409); // the lease ended with the completion: inputs are only readable under a live lease
    expect((await pending).status).toBe(200);
  });

  it("returns JSON with signed URLs and base64 when asked", async () => {
    const { key } = await newAccount();
    const agent = await newAgent();
    const pending = json("POST", "/v1/background-removal", { image: PNG_1x1, base64: true }, { "x-api-key": key });
    await serve(agent, new Uint8Array([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]));
    const body = (await (await pending).json()) as {
      status: string;
      output: { url: string }[];
      output_base64: { data: string }[];
    };
    expect(body.status).toBe("COMPLETED");
    expect(body.output_base64[0]!.data).toBe(btoa("\x89PNG\x01\x02\x03"));
    expect(body.output[0]!.url).toContain("sig=");
  });

  it("answers 202 with the request object when the wait runs out, and the job is not lost", async () => {
    const { key } = await newAccount();
    const r = await json("POST", "/v1/background-removal", { image: PNG_1x1 }, { "x-api-key": key, prefer: "wait=0" });
    expect(r.status).toBe(202);
    const s = (await r.json()) as { request_id: string; status: string };
    expect(s.status).toBe("QUEUED");
    const job = await serve(await newAgent());
    expect(job.job_id).toBe(s.request_id);
  });

  it("an input the model cannot decode fails the job cleanly with 422", async () => {
    const { key } = await newAccount();
    const agent = await newAgent();
    const pending = json(
      "POST",
      "/v1/background-removal",
      { image: btoa("definitely not an image") },
      { "x-api-key": key },
    );
    let jobs = await agent.lease({ wait_ms: 5000 });
    const job = jobs[0]!;
    const f = await agent.post(`/agent/v1/jobs/${job.job_id}/fail`, {
      lease_id: job.lease_id,
      epoch: job.epoch,
      kind: "invalid_input",
      message: "image: could not decode image",
      retryable: true,
    });
    expect(f.status).toBe(200);
    // One agent's word is not enough (the platform accepted the input): a second agent tries it and agrees.
    const other = await newAgent();
    const [again] = await other.lease({ wait_ms: 5000 });
    expect(again!.job_id).toBe(job.job_id);
    const f2 = await other.post(`/agent/v1/jobs/${job.job_id}/fail`, {
      lease_id: again!.lease_id,
      epoch: again!.epoch,
      kind: "invalid_input",
      message: "image: could not decode image",
      retryable: true,
    });
    expect(f2.status).toBe(200);
    const r = await pending;
    expect(r.status).toBe(422);
    const body = (await r.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("unprocessable");
    expect(body.error.message).toContain("decode");
    // caller errors are never retried, even when the agent marks them retryable
    jobs = await agent.lease();
    expect(jobs).toEqual([]);
  });
});
