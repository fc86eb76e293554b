import { createHash } from "node:crypto";
import { existsSync, mkdtempSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ModelCache, progressPrinter } from "../../gpu-agent/src/cache.ts";

const files: Record<string, Buffer> = { a: Buffer.alloc(4000, 1), b: Buffer.alloc(4000, 2), c: Buffer.alloc(4000, 3) };
const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");
let server: Server;
let base = "";
let downloads = 0;

beforeAll(async () => {
  server = createServer((req, res) => {
    const f = files[(req.url ?? "").slice(1)];
    if (!f) return res.writeHead(404).end();
    downloads++;
    res.writeHead(200, { "content-length": String(f.length) });
    res.end(f);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe("model cache on local disk", () => {
  it("downloads once, verifies SHA-256, and evicts the least recently used entry over budget", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "cache-"));
    const cache = new ModelCache(dir, 9000);
    const seen: number[] = [];
    const p = await cache.ensure("a", { url: `${base}/a`, sha256: sha(files.a!) }, ({ received }) =>
      seen.push(received),
    );
    expect(existsSync(p)).toBe(true);
    expect(seen.at(-1)).toBe(4000);
    await cache.ensure("b", { url: `${base}/b`, sha256: sha(files.b!) });
    downloads = 0;
    await cache.ensure("a", { url: `${base}/a`, sha256: sha(files.a!) }); // a hit: a is now more recent than b
    expect(downloads).toBe(0);
    await cache.ensure("c", { url: `${base}/c`, sha256: sha(files.c!) }); // over budget: b goes
    expect((await cache.models()).sort()).toEqual(["a", "c"]);
    expect(existsSync(cache.fileOf(sha(files.b!)))).toBe(false);
    expect(await cache.usedBytes()).toBe(8000);
    // the index survives a restart of the agent
    expect((await new ModelCache(dir, 9000).models()).sort()).toEqual(["a", "c"]);
  });

  it("rejects a corrupt download and keeps nothing of it", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "cache-"));
    const cache = new ModelCache(dir, 1e9);
    await expect(cache.ensure("a", { url: `${base}/a`, sha256: "0".repeat(64) })).rejects.toThrow(/corrupt/);
    expect(await cache.models()).toEqual([]);
  });

  it("prints progress every 10% when not on a terminal", () => {
    const lines: string[] = [];
    const p = progressPrinter((m) => lines.push(m), false);
    for (let r = 0; r <= 1000; r += 50) p({ model: "m", received: r, total: 1000 });
    expect(lines).toHaveLength(11);
    expect(lines.at(-1)).toContain("100%");
  });
});
