/**
 * Starts the platform locally: D1 migrations, `wrangler dev` (workerd via Miniflare: D1, Durable Objects, Queues and
 * R2 embedded and persisted), the model catalog, a demo account with an API key, and a provider with an agent token.
 * Used by `npm start` and by the end-to-end tests and benchmarks.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createWriteStream, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { copyDocsAssets } from "./docs-assets.ts";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const BIN = path.join(ROOT, "node_modules", ".bin");

/**
 * The local start makes no request off the machine: no usage metrics, no Request.cf download from
 * workers.cloudflare.com (Miniflare uses its built-in stand-in object), and no banner with its npm update check.
 */
export const OFFLINE_ENV = {
  WRANGLER_SEND_METRICS: "false",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  WRANGLER_HIDE_BANNER: "true",
};

export interface PlatformOptions {
  port: number;
  adminToken: string;
  persistDir: string;
  /** extra `--var` values, e.g. a short LEASE_TTL_MS for tests */
  vars?: Record<string, string>;
  /** another entry module than wrangler.toml's `main` (the ledger benchmark's test/bench/worker.ts) */
  entry?: string;
  logDir: string;
}

export interface Demo {
  account_id: string;
  api_key: string;
  provider_id: string;
  agent_token: string;
}

export interface Platform {
  url: string;
  adminToken: string;
  wrangler: ChildProcess;
  demo: Demo;
  stop(): Promise<void>;
}

function run(cmd: string, args: string[], logFile: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, {
      cwd: ROOT,
      env: { ...process.env, ...OFFLINE_ENV, PATH: `${BIN}:${process.env.PATH}` },
    });
    const log = createWriteStream(logFile, { flags: "a" });
    p.stdout.pipe(log);
    p.stderr.pipe(log);
    p.on("exit", (code) =>
      code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(" ")} exited ${code}; see ${logFile}`)),
    );
  });
}

async function waitHealthy(url: string, proc: ChildProcess, timeoutMs: number, logFile: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`wrangler dev exited with ${proc.exitCode}; see ${logFile}`);
    try {
      const r = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) });
      if (r.ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`platform not healthy after ${timeoutMs} ms; see ${logFile}`);
}

export async function admin<T>(
  url: string,
  token: string,
  method: string,
  p: string,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  const r = await fetch(url + p, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body !== undefined ? { "content-type": "application/json" } : {}),
    },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  return { status: r.status, body: (await r.json()) as T };
}

/** Reuses the saved demo credentials when they still work, otherwise creates new ones. */
async function ensureDemo(url: string, token: string, file: string): Promise<Demo> {
  if (existsSync(file)) {
    const saved = JSON.parse(readFileSync(file, "utf8")) as Demo;
    const probe = await fetch(`${url}/v2/requests/req_probe/status`, { headers: { "x-api-key": saved.api_key } });
    const agentProbe = await fetch(`${url}/agent/v1/heartbeat`, {
      method: "POST",
      headers: { authorization: `Bearer ${saved.agent_token}`, "content-type": "application/json" },
      body: "{}",
    });
    if (probe.status !== 401 && agentProbe.status !== 401) return saved;
  }
  const email = `demo+${randomBytes(4).toString("hex")}@example.com`;
  // A pro demo account: its $39 monthly credit shows holds, charges and x-remaining-credits at work.
  const acct = await admin<{ id: string }>(url, token, "POST", "/admin/v1/accounts", { email, plan: "pro" });
  const key = await admin<{ key: string }>(url, token, "POST", `/admin/v1/accounts/${acct.body.id}/keys`, {
    name: "demo",
  });
  // The local provider is the operator's own machine: it may register whatever class its GPUs are.
  const prov = await admin<{ id: string }>(url, token, "POST", "/admin/v1/providers", {
    name: "local",
    gpu_classes: ["cpu", "A40", "L40S", "A100-40", "A100-80", "H100", "other"],
  });
  const tok = await admin<{ token: string }>(url, token, "POST", `/admin/v1/providers/${prov.body.id}/agent-tokens`);
  if (acct.status !== 201 || key.status !== 201 || prov.status !== 201 || tok.status !== 201)
    throw new Error("could not create the demo account");
  const demo = {
    account_id: acct.body.id,
    api_key: key.body.key,
    provider_id: prov.body.id,
    agent_token: tok.body.token,
  };
  writeFileSync(file, JSON.stringify(demo, null, 2), { mode: 0o600 });
  return demo;
}

export async function startPlatform(o: PlatformOptions): Promise<Platform> {
  mkdirSync(o.persistDir, { recursive: true });
  mkdirSync(o.logDir, { recursive: true });
  const wlog = path.join(o.logDir, "wrangler.log");
  copyDocsAssets();
  await run(
    path.join(BIN, "wrangler"),
    ["d1", "migrations", "apply", "DB", "--local", "--persist-to", o.persistDir],
    wlog,
  );
  // Webhook receivers and image URLs on this machine are the point of a local start; production ignores the setting.
  const vars = { ADMIN_TOKEN: o.adminToken, ALLOW_PRIVATE_OUTBOUND: "true", ...(o.vars ?? {}) };
  const args = [
    "dev",
    ...(o.entry ? [o.entry] : []),
    "--port",
    String(o.port),
    "--ip",
    "127.0.0.1",
    "--persist-to",
    o.persistDir,
    "--show-interactive-dev-session=false",
    ...Object.entries(vars).flatMap(([k, v]) => ["--var", `${k}:${v}`]),
  ];
  const wrangler = spawn(path.join(BIN, "wrangler"), args, {
    cwd: ROOT,
    env: { ...process.env, ...OFFLINE_ENV, PATH: `${BIN}:${process.env.PATH}`, CI: "1" },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  const log = createWriteStream(wlog, { flags: "a" });
  wrangler.stdout!.pipe(log);
  wrangler.stderr!.pipe(log);
  const url = `http://127.0.0.1:${o.port}`;
  const stop = async () => {
    if (wrangler.exitCode !== null) return;
    const exited = new Promise((r) => wrangler.once("exit", r));
    try {
      process.kill(-wrangler.pid!, "SIGTERM");
    } catch {}
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    try {
      process.kill(-wrangler.pid!, "SIGKILL");
    } catch {}
  };
  try {
    await waitHealthy(url, wrangler, 90_000, wlog);
    const synced = await admin<{ models: number }>(url, o.adminToken, "POST", "/admin/v1/models/sync");
    if (synced.status !== 200) throw new Error(`catalog sync failed: ${JSON.stringify(synced.body)}`);
    const demo = await ensureDemo(url, o.adminToken, path.join(o.persistDir, "demo.json"));
    return { url, adminToken: o.adminToken, wrangler, demo, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

export interface AgentProcess {
  proc: ChildProcess;
  lines: string[];
  /** resolves with the first log line matching */
  waitFor(re: RegExp, timeoutMs: number): Promise<string>;
}

export function startAgent(
  url: string,
  token: string,
  extra: string[] = [],
  logFile?: string,
  env: Record<string, string> = {},
): AgentProcess {
  const proc = spawn(
    process.execPath,
    [path.join(ROOT, "gpu-agent", "bin", "gpu-agent.js"), "run", "--platform-url", url, "--token", token, ...extra],
    {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, ...env },
    },
  );
  const lines: string[] = [];
  const listeners = new Set<(l: string) => void>();
  const log = logFile ? createWriteStream(logFile, { flags: "a" }) : null;
  let buf = "";
  const onData = (d: Buffer) => {
    log?.write(d);
    buf += d.toString();
    let i: number;
    while ((i = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      lines.push(line);
      for (const l of listeners) l(line);
    }
  };
  proc.stdout!.on("data", onData);
  proc.stderr!.on("data", onData);
  return {
    proc,
    lines,
    waitFor(re, timeoutMs) {
      const hit = lines.find((l) => re.test(l));
      if (hit) return Promise.resolve(hit);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(
            new Error(`agent did not log ${re} within ${timeoutMs} ms; last lines:\n${lines.slice(-10).join("\n")}`),
          );
        }, timeoutMs);
        const check = (l: string) => {
          if (re.test(l)) {
            clearTimeout(timer);
            listeners.delete(check);
            proc.off("exit", onExit);
            resolve(l);
          }
        };
        listeners.add(check);
        const onExit = (code: number | null) => {
          if (!listeners.has(check)) return;
          clearTimeout(timer);
          listeners.delete(check);
          reject(new Error(`agent exited (${code}) before logging ${re}; last lines:\n${lines.slice(-10).join("\n")}`));
        };
        proc.once("exit", onExit);
      });
    },
  };
}
