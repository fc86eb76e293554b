import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";

export interface ModelSource {
  url: string;
  sha256: string;
}

interface Entry {
  model: string;
  sha256: string;
  size: number;
  last_used: number;
}

export type Progress = (p: { model: string; received: number; total: number | null }) => void;

/**
 * Model files on local disk, content-addressed by SHA-256, within a size budget: least recently used first out.
 * The agent reports what is here on every lease request, so the broker can route to hosts that need no download.
 */
export class ModelCache {
  private dir: string;
  private budget: number;
  private index: Map<string, Entry> | null = null;

  constructor(dir: string, budgetBytes: number) {
    this.dir = dir;
    this.budget = budgetBytes;
  }

  private async load(): Promise<Map<string, Entry>> {
    if (this.index) return this.index;
    await mkdir(this.dir, { recursive: true });
    try {
      const list = JSON.parse(await readFile(path.join(this.dir, "index.json"), "utf8")) as Entry[];
      this.index = new Map(list.map((e) => [e.model, e]));
    } catch {
      this.index = new Map();
    }
    return this.index;
  }

  private async save(): Promise<void> {
    const tmp = path.join(this.dir, "index.json.tmp");
    await writeFile(tmp, JSON.stringify([...this.index!.values()]));
    await rename(tmp, path.join(this.dir, "index.json"));
  }

  fileOf(sha256: string): string {
    return path.join(this.dir, `${sha256}.bin`);
  }

  async models(): Promise<string[]> {
    return [...(await this.load()).keys()];
  }

  async usedBytes(): Promise<number> {
    return [...(await this.load()).values()].reduce((s, e) => s + e.size, 0);
  }

  /** The model's file on disk: from the cache (touched as used), or downloaded, verified and admitted. */
  async ensure(model: string, src: ModelSource, progress?: Progress): Promise<string> {
    const index = await this.load();
    const hit = index.get(model);
    if (hit && hit.sha256 === src.sha256 && (await stat(this.fileOf(hit.sha256)).catch(() => null))) {
      hit.last_used = this.tick(index);
      await this.save();
      return this.fileOf(hit.sha256);
    }
    const res = await fetch(src.url);
    if (!res.ok || !res.body) throw new Error(`download of ${model} failed: HTTP ${res.status}`);
    const total = Number(res.headers.get("content-length")) || null;
    const tmp = path.join(this.dir, `${src.sha256}.part`);
    const hash = createHash("sha256");
    const out = createWriteStream(tmp);
    let received = 0;
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      hash.update(chunk);
      received += chunk.byteLength;
      if (!out.write(chunk)) await new Promise<void>((r) => out.once("drain", () => r()));
      progress?.({ model, received, total });
    }
    await new Promise<void>((resolve, reject) => out.end((e?: Error | null) => (e ? reject(e) : resolve())));
    const digest = hash.digest("hex");
    if (digest !== src.sha256) {
      await rm(tmp, { force: true });
      throw new Error(`download of ${model} is corrupt: sha256 ${digest}, expected ${src.sha256}`);
    }
    await rename(tmp, this.fileOf(src.sha256));
    index.set(model, { model, sha256: src.sha256, size: received, last_used: this.tick(index) });
    await this.evict(model);
    await this.save();
    return this.fileOf(src.sha256);
  }

  /** A use time later than every recorded one: two uses within one millisecond must still be ordered. */
  private tick(index: Map<string, { last_used: number }>): number {
    return Math.max(Date.now(), ...[...index.values()].map((e) => e.last_used + 1));
  }

  /** Evicts least recently used entries until the cache fits its budget; `keep` (just admitted) stays. */
  private async evict(keep: string): Promise<void> {
    const index = this.index!;
    const byAge = [...index.values()].filter((e) => e.model !== keep).sort((a, b) => a.last_used - b.last_used);
    let used = [...index.values()].reduce((s, e) => s + e.size, 0);
    for (const e of byAge) {
      if (used <= this.budget) break;
      index.delete(e.model);
      used -= e.size;
      if (![...index.values()].some((x) => x.sha256 === e.sha256)) await rm(this.fileOf(e.sha256), { force: true });
    }
  }
}

/** A progress line for a download: a bar on a terminal, a log line every 10% otherwise. */
export function progressPrinter(log: (msg: string) => void, tty = process.stderr.isTTY): Progress {
  let lastDecile = -1;
  return ({ model, received, total }) => {
    const pct = total ? Math.floor((received / total) * 100) : null;
    if (tty && pct !== null) {
      const bar = "#".repeat(Math.floor(pct / 4)).padEnd(25, ".");
      process.stderr.write(`\r${model} [${bar}] ${pct}% ${(received / 2 ** 20).toFixed(1)} MiB`);
      if (pct === 100) process.stderr.write("\n");
      return;
    }
    const decile = pct === null ? Math.floor(received / (100 * 2 ** 20)) : Math.floor(pct / 10);
    if (decile !== lastDecile) {
      lastDecile = decile;
      log(`${model}: ${pct === null ? "" : `${pct}% `}${(received / 2 ** 20).toFixed(1)} MiB`);
    }
  };
}
