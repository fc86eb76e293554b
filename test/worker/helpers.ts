import { typedBroker } from "./support/stubs.ts";
import { env, exports } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { expect } from "vitest";
import type { LeasedJob } from "../../schemas/index.ts";

export const ADMIN = "test-admin-token-0123456789";
export const BASE = "http://platform.test";

export function call(path: string, init: RequestInit = {}): Promise<Response> {
  return exports.default.fetch(new Request(BASE + path, init));
}

export function json(
  method: string,
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<Response> {
  return call(path, {
    method,
    headers: { "content-type": "application/json", ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

export const adminHeaders = { authorization: `Bearer ${ADMIN}` };

export async function syncCatalog() {
  const r = await call("/admin/v1/models/sync", { method: "POST", headers: adminHeaders });
  expect(r.status).toBe(200);
}

let n = 0;
export async function newAccount(plan = "free"): Promise<{ id: string; key: string; keyId: string }> {
  const a = await json(
    "POST",
    "/admin/v1/accounts",
    { email: `user${Date.now()}-${n++}@example.com`, plan },
    adminHeaders,
  );
  expect(a.status).toBe(201);
  const { id } = (await a.json()) as { id: string };
  const k = await json("POST", `/admin/v1/accounts/${id}/keys`, {}, adminHeaders);
  expect(k.status).toBe(201);
  const { key, id: keyId } = (await k.json()) as { key: string; id: string };
  return { id, key, keyId };
}

export interface FakeAgent {
  id: string;
  token: string;
  headers: Record<string, string>;
  lease(body?: Record<string, unknown>): Promise<LeasedJob[]>;
  post(path: string, body: unknown): Promise<Response>;
}

/** Drives the agent API exactly as gpu-agent does, from inside the test. */
export async function newAgent(
  models = ["background-removal", "nsfw-detector"],
  gpuClass = "cpu",
  runtimes = ["builtin"],
): Promise<FakeAgent> {
  const p = await json("POST", "/admin/v1/providers", { name: "p", gpu_classes: [gpuClass] }, adminHeaders);
  const { id: providerId } = (await p.json()) as { id: string };
  const t = await call(`/admin/v1/providers/${providerId}/agent-tokens`, { method: "POST", headers: adminHeaders });
  const { token } = (await t.json()) as { token: string };
  const auth = { authorization: `Bearer ${token}` };
  const r = await json(
    "POST",
    "/agent/v1/register",
    { name: "t", version: "test", gpu_class: gpuClass, gpus: [], runtimes, models, slots: 4 },
    auth,
  );
  expect(r.status).toBe(200);
  const { agent_id } = (await r.json()) as { agent_id: string };
  const headers = { ...auth, "x-agent-id": agent_id };
  return {
    id: agent_id,
    token,
    headers,
    async lease(body = {}) {
      const res = await json("POST", "/agent/v1/lease", { agent_id, slots_free: 4, wait_ms: 0, ...body }, auth);
      if (res.status === 204) return [];
      expect(res.status).toBe(200);
      return ((await res.json()) as { jobs: LeasedJob[] }).jobs;
    },
    post: (path, body) => json("POST", path, body, headers),
  };
}

/** Each test starts with an empty queue in the shared pool. */
export async function resetBroker() {
  const stub = typedBroker("pool:public");
  await runInDurableObject(stub, async (_i, state) => {
    state.storage.sql.exec("DELETE FROM jobs");
    state.storage.sql.exec("DELETE FROM agents");
    state.storage.sql.exec("DELETE FROM outbox");
  });
}

export function brokerStub() {
  return typedBroker("pool:public");
}

export const PNG_1x1 =
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

/**
 * Waits until the events queue has projected a request's D1 row (an unkeyed submission writes none on its path).
 * `until` narrows it to a row in some state.
 */
export async function projected(id: string, until: (row: Record<string, unknown>) => boolean = () => true) {
  for (let i = 0; i < 200; i++) {
    const row = await env.DB.prepare("SELECT * FROM requests WHERE id = ?").bind(id).first<Record<string, unknown>>();
    if (row && until(row)) return row;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`request ${id} was never projected into D1`);
}
