import { env } from "cloudflare:workers";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { buildApp } from "../../src/index.ts";
import { config, signingSecret, type Env } from "../../src/env.ts";
import { matchesMagic } from "../../src/services/files.ts";
import { r2Keys, signOutputUrl } from "../../src/services/urls.ts";
import {
  BASE,
  PNG_1x1,
  call,
  json,
  newAccount,
  newAgent,
  resetBroker,
  syncCatalog,
  type FakeAgent,
  projected,
} from "./helpers.ts";

beforeAll(syncCatalog);
beforeEach(resetBroker);

const PNG = Uint8Array.from(atob(PNG_1x1), (c) => c.charCodeAt(0));
const bytes = (...parts: (string | number[])[]) =>
  new Uint8Array(parts.flatMap((p) => (typeof p === "string" ? [...p].map((c) => c.charCodeAt(0)) : p)));
const JPEG = bytes([0xff, 0xd8, 0xff, 0xe0], "\0\x10JFIF");
const WEBP = bytes("RIFF", [0x24, 0, 0, 0], "WEBPVP8 ");
const GIF = bytes("GIF89a", [1, 0, 1, 0]);
const MP4 = bytes([0, 0, 0, 0x20], "ftypisom");
const WEBM = bytes([0x1a, 0x45, 0xdf, 0xa3, 0x9f]);
const HTML = bytes("<html><script>alert(document.cookie)</script></html>");
const SVG = bytes('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>');

async function leased(model: "background-removal" | "nsfw-detector") {
  const { key } = await newAccount("pro");
  const agent = await newAgent();
  const sub = await json("POST", `/v2/${model}`, { image: PNG_1x1 }, { "x-api-key": key });
  expect(sub.status).toBe(202);
  let jobs = await agent.lease();
  for (let i = 0; jobs.length === 0 && i < 50; i++) jobs = await agent.lease({ wait_ms: 100 });
  return { key, agent, job: jobs[0]! };
}

function upload(agent: FakeAgent, jobId: string, leaseId: string, name: string, type: string | null, body: Uint8Array) {
  const headers: Record<string, string> = { ...agent.headers, "x-lease-id": leaseId };
  if (type !== null) headers["content-type"] = type;
  return call(`/agent/v1/jobs/${jobId}/outputs/${name}`, { method: "PUT", headers, body });
}

describe("agent uploads are held to the model's output type", () => {
  it("an image model takes png, jpeg, webp and gif whose bytes match; anything else is 415 with a stable reason", async () => {
    const { agent, job } = await leased("background-removal");
    const ok: [string, Uint8Array][] = [
      ["image/png", PNG],
      ["image/jpeg", JPEG],
      ["image/webp", WEBP],
      ["image/gif", GIF],
      ["IMAGE/PNG; charset=binary", PNG],
    ];
    for (const [i, [type, body]] of ok.entries()) {
      const r = await upload(agent, job.job_id, job.lease_id, `ok-${i}.bin`, type, body);
      expect(r.status, type).toBe(200);
      expect(((await r.json()) as { content_type: string }).content_type).toBe(type.split(";")[0]!.toLowerCase());
    }
    const notAllowed: [string | null, Uint8Array][] = [
      ["text/html", HTML],
      ["image/svg+xml", SVG],
      ["application/javascript", bytes("alert(1)")],
      ["text/plain", bytes("hi")],
      ["application/octet-stream", PNG],
      [null, PNG],
      ["video/mp4", MP4],
      ["application/json", bytes("{}")],
      ["text/html; charset=utf-8", PNG],
      ["image/x-icon", PNG],
      ["application/xhtml+xml", HTML],
      ["image/pngx", PNG],
    ];
    for (const [type, body] of notAllowed) {
      const r = await upload(agent, job.job_id, job.lease_id, "bad.bin", type, body);
      expect(r.status, String(type)).toBe(415);
      expect((await r.json()) as object, String(type)).toMatchObject({
        error: { code: "unsupported_media_type", details: { reason: "type_not_allowed" } },
      });
    }
    const mismatch: [string, Uint8Array][] = [
      ["image/png", HTML],
      ["image/png", JPEG],
      ["image/jpeg", PNG],
      ["image/webp", bytes("RIFF\0\0\0\0WAVE")],
      ["image/gif", SVG],
      ["image/png", new Uint8Array()],
      ["image/jpeg", bytes([0xff, 0xd8])],
    ];
    for (const [type, body] of mismatch) {
      const r = await upload(agent, job.job_id, job.lease_id, "bad.bin", type, body);
      expect(r.status, type).toBe(415);
      expect((await r.json()) as object, type).toMatchObject({
        error: { code: "unsupported_media_type", details: { reason: "content_mismatch" } },
      });
    }
    // nothing refused was stored
    const listed = await env.BLOBS.list({ prefix: `accounts/` });
    expect(listed.objects.filter((o) => o.key.includes(job.job_id) && o.key.endsWith("bad.bin"))).toHaveLength(0);
  });

  it("a JSON model takes only well-formed JSON", async () => {
    const { agent, job } = await leased("nsfw-detector");
    expect(
      (await upload(agent, job.job_id, job.lease_id, "out.json", "application/json", bytes('{"a":1}'))).status,
    ).toBe(200);
    expect((await upload(agent, job.job_id, job.lease_id, "x.json", "application/json", bytes("{nope"))).status).toBe(
      415,
    );
    expect(
      (await upload(agent, job.job_id, job.lease_id, "x.json", "application/json", bytes([0xff, 0xfe, 0x7b]))).status,
    ).toBe(415);
    expect((await upload(agent, job.job_id, job.lease_id, "x.png", "image/png", PNG)).status).toBe(415);
  });

  it("recognises the video containers", () => {
    expect(matchesMagic("video/mp4", MP4)).toBe(true);
    expect(matchesMagic("video/webm", WEBM)).toBe(true);
    expect(matchesMagic("video/mp4", WEBM)).toBe(false);
    expect(matchesMagic("video/webm", MP4)).toBe(false);
  });
});

async function completed(outputs: { name: string; type: string; body: Uint8Array }[]) {
  const { key, agent, job } = await leased("background-removal");
  for (const o of outputs)
    expect((await upload(agent, job.job_id, job.lease_id, o.name, o.type, o.body)).status).toBe(200);
  const done = await agent.post(`/agent/v1/jobs/${job.job_id}/complete`, {
    lease_id: job.lease_id,
    epoch: job.epoch,
    outputs: outputs.map((o) => ({ name: o.name, content_type: o.type, size: o.body.byteLength })),
    metrics: { gpu_ms: 1, load_ms: 0, gpu_class: "cpu" },
  });
  expect(done.status).toBe(200);
  const result = (await (await call(`/v2/requests/${job.job_id}`, { headers: { "x-api-key": key } })).json()) as {
    output: { name: string; url: string }[];
  };
  return { job, key, urls: Object.fromEntries(result.output.map((o) => [o.name, new URL(o.url)])) };
}

describe("serving outputs", () => {
  it("images are inline, never sniffed, never active", async () => {
    const { urls } = await completed([{ name: "output.png", type: "image/png", body: PNG }]);
    const u = urls["output.png"]!;
    const r = await call(u.pathname + u.search);
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toBe("image/png");
    expect(r.headers.get("x-content-type-options")).toBe("nosniff");
    expect(r.headers.get("content-security-policy")).toBe("default-src 'none'; sandbox");
    expect(r.headers.get("content-disposition")).toBe('inline; filename="output.png"');
    expect(new Uint8Array(await r.arrayBuffer())).toEqual(PNG);
  });

  it("an object stored with any other type (written before the checks) is served as an attachment of octet-stream", async () => {
    const { job, urls } = await completed([{ name: "output.png", type: "image/png", body: PNG }]);
    const row = { a: (await projected(job.job_id)).account_id as string };
    for (const type of ["text/html", "image/svg+xml", "application/json"]) {
      await env.BLOBS.put(r2Keys.output(row.a, job.job_id, "legacy.html"), HTML, {
        httpMetadata: { contentType: type },
      });
      const signed = new URL(
        (await signOutputUrl(signingSecret(config(env)), BASE, job.job_id, "legacy.html", Date.now())).url,
      );
      const r = await call(signed.pathname + signed.search);
      expect(r.status).toBe(200);
      expect(r.headers.get("content-type"), type).toBe(
        type === "application/json" ? "application/json" : "application/octet-stream",
      );
      expect(r.headers.get("content-disposition")).toBe('attachment; filename="legacy.html"');
      expect(r.headers.get("content-security-policy")).toBe("default-src 'none'; sandbox");
    }
    expect(urls["output.png"]).toBeDefined();
  });
});

const NAMES = [
  "%25",
  "%2F",
  "a%2Fb",
  "%252F",
  "%25252F",
  "%2e%2e",
  "%2E%2E%2Fsecret",
  "..%2F..%2Fsecret",
  "%2e",
  ".",
  "..",
  "...",
  ".hidden",
  "%00",
  "a%00.png",
  "%zz",
  "%",
  "%%",
  "%E2%80%AE",
  "%C3%A9.png",
  "%C3",
  "%FF%FE",
  "\u00e9.png",
  "%F0%9F%92%A9",
  "a%5Cb",
  "a%20b",
  "a+b",
  "%u002e",
  "output.png%3F",
  "output.png%23x",
  `${"a".repeat(101)}`,
  "a..b",
  "%2e%2e%2f%2e%2e%2f",
  "%252e%252e%252f",
  "%c0%ae%c0%ae",
  "con%3A",
  "a;b",
  "a%0Ab",
  "%0D%0AX-Injected:1",
];
const IDS = ["%2F", "..", "%2e%2e", "req_%00", "%zz", "%25", "req%2Fx", "%E2%80%AE", "a".repeat(101), "%252F"];

describe("names and ids in paths are decoded once and validated", () => {
  it(`${NAMES.length} odd file names and ${IDS.length} odd ids on 6 routes: 400, 403 or 404 with the envelope, never 5xx`, async () => {
    const { job, agent, key } = await leased("background-removal");
    const reqs: [string, RequestInit][] = [];
    for (const n of NAMES) {
      reqs.push([`/v2/requests/${job.job_id}/outputs/${n}?expires=${Math.floor(Date.now() / 1000) + 60}&sig=x`, {}]);
      reqs.push([
        `/agent/v1/jobs/${job.job_id}/inputs/${n}`,
        { headers: { ...agent.headers, "x-lease-id": job.lease_id } },
      ]);
      reqs.push([
        `/agent/v1/jobs/${job.job_id}/outputs/${n}`,
        {
          method: "PUT",
          headers: { ...agent.headers, "x-lease-id": job.lease_id, "content-type": "image/png" },
          body: PNG,
        },
      ]);
    }
    for (const id of IDS) {
      reqs.push([`/v2/requests/${id}/outputs/output.png?expires=1&sig=x`, {}]);
      reqs.push([`/agent/v1/jobs/${id}/inputs/image`, { headers: { ...agent.headers, "x-lease-id": job.lease_id } }]);
      reqs.push([`/v2/requests/${id}/status`, { headers: { "x-api-key": key } }]);
      reqs.push([`/v2/requests/${id}`, { headers: { "x-api-key": key } }]);
      reqs.push([`/v2/requests/${id}/cancel`, { method: "POST", headers: { "x-api-key": key } }]);
    }
    for (const [path, init] of reqs) {
      const r = await call(path, init);
      expect([400, 403, 404], path).toContain(r.status);
      const b = (await r.json()) as { error: { code: string } };
      expect(["invalid_input", "forbidden", "not_found"], path).toContain(b.error.code);
    }
    // an output name that decodes to a path is refused even when correctly signed for that decoded name
    for (const n of ["a/b", "../x", "%2F"]) {
      const s = await signOutputUrl(signingSecret(config(env)), BASE, job.job_id, n, Date.now());
      const u = new URL(s.url);
      expect((await call(u.pathname + u.search)).status, n).toBe(404);
    }
    // nothing odd was written to R2
    const listed = await env.BLOBS.list({ prefix: "accounts/" });
    expect(listed.objects.filter((o) => o.key.includes(`${job.job_id}/outputs/`))).toHaveLength(0);
  });
});

describe("security headers and public URLs", () => {
  const app = buildApp();
  const prodEnv = {
    ...env,
    ENVIRONMENT: "production",
    PUBLIC_BASE_URL: "https://api.example.com",
    URL_SIGNING_SECRET: "prod-signing-secret-0123456789",
  } as unknown as Env;
  const ctx = { waitUntil() {}, passThroughOnException() {}, props: {} } as unknown as ExecutionContext;

  it("every response carries nosniff, no-referrer and frame denial; HSTS only in production", async () => {
    for (const [path, status] of [
      ["/health", 200],
      ["/v1/models", 200],
      ["/nope", 404],
      ["/v1/account", 401],
      ["/openapi.json", 200],
    ] as const) {
      const r = await call(path);
      expect(r.status, path).toBe(status);
      expect(r.headers.get("x-content-type-options"), path).toBe("nosniff");
      expect(r.headers.get("referrer-policy"), path).toBe("no-referrer");
      expect(r.headers.get("x-frame-options"), path).toBe("DENY");
      expect(r.headers.get("content-security-policy"), path).toContain("frame-ancestors 'none'");
      expect(r.headers.get("strict-transport-security"), path).toBeNull();
      const p = await app.fetch(new Request(`https://api.example.com${path}`), prodEnv, ctx);
      expect(p.headers.get("strict-transport-security"), path).toBe("max-age=31536000; includeSubDomains");
      expect(p.headers.get("referrer-policy"), path).toBe("no-referrer");
    }
  });

  it("in production public URLs come from PUBLIC_BASE_URL, never the Host header", async () => {
    const { key } = await newAccount("pro");
    for (const host of ["evil.example", "attacker.test:8443", "127.0.0.1"]) {
      const r = await app.fetch(
        new Request(`https://${host}/v2/nsfw-detector`, {
          method: "POST",
          headers: { "x-api-key": key, "content-type": "application/json", host },
          body: JSON.stringify({ image: PNG_1x1 }),
        }),
        prodEnv,
        ctx,
      );
      expect(r.status, host).toBe(202);
      const b = (await r.json()) as {
        request_id: string;
        status_url: string;
        response_url: string;
        cancel_url: string;
      };
      for (const u of [b.status_url, b.response_url, b.cancel_url])
        expect(u.startsWith(`https://api.example.com/v2/requests/${b.request_id}`), u).toBe(true);
      const row = await projected(b.request_id);
      expect(row.base_url).toBe("https://api.example.com");
      const doc = (await (
        await app.fetch(new Request(`https://${host}/openapi.json`, { headers: { host } }), prodEnv, ctx)
      ).json()) as { servers: { url: string }[] };
      expect(doc.servers[0]!.url).toBe("https://api.example.com");
    }
  });

  it("production without PUBLIC_BASE_URL is a configuration error, not a Host-derived URL", async () => {
    const bad = {
      ...env,
      ENVIRONMENT: "production",
      URL_SIGNING_SECRET: "prod-signing-secret-0123456789",
    } as unknown as Env;
    expect(() => config(bad)).toThrow(/PUBLIC_BASE_URL is required/);
    const r = await app.fetch(new Request("https://evil.example/health"), bad, ctx);
    expect(r.status).toBe(500);
    expect(await r.text()).not.toContain("evil.example");
  });
});
