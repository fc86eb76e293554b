import { exports } from "cloudflare:workers";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { EdgeInference, WorkflowRunFailedError } from "../../clients/typescript/src/index.ts";
import { BASE, PNG_1x1, newAccount, newAgent, resetBroker, syncCatalog, type FakeAgent } from "./helpers.ts";
import { ALL_MODELS, CHAIN, complete, fail, leaseN, publish } from "./workflow-helpers.ts";

beforeAll(syncCatalog);
beforeEach(resetBroker);

/** The published client, talking to this Worker. */
const clientFor = (apiKey: string) =>
  new EdgeInference({ apiKey, baseUrl: BASE, fetch: (i, init) => exports.default.fetch(new Request(i, init)) });
const image = Uint8Array.from(atob(PNG_1x1), (c) => c.charCodeAt(0));

/** Runs the chain's three nodes as gpu-agent would, one after another. */
async function drive(agent: FakeAgent) {
  for (let i = 0; i < 3; i++) {
    const [job] = await leaseN(agent, 1);
    expect((await complete(agent, job!, 30)).status).toBe(200);
  }
}

describe("the TypeScript client's workflow helpers against the platform", () => {
  it("submitWorkflow then waitRun: the completed run with its outputs, charged the sum of its nodes", async () => {
    const a = await newAccount("pro");
    const agent = await newAgent(ALL_MODELS);
    const slug = await publish(a.key, CHAIN);
    const client = clientFor(a.key);
    const s = await client.submitWorkflow(slug, { image }, { idempotencyKey: `k-${slug}` });
    expect(s).toMatchObject({ status: "QUEUED", workflow: slug, version: 1 });
    expect(s.held).toBeGreaterThan(0);
    await drive(agent);
    const run = await client.waitRun(s.run_id, { timeoutMs: 10_000, pollIntervalMs: 20 });
    expect(run.status).toBe("COMPLETED");
    const nodeCosts = Object.values(run.nodes).map((n) => n.cost!);
    expect(run.cost).toBe(nodeCosts.reduce((x, y) => x + y, 0));
    expect(run.outputs!.safety).toEqual({ type: "json", value: { Neutral: 0.97, Porn: 0.01 } });
    // the same key answers with the same run, not a second one
    expect((await client.submitWorkflow(slug, { image }, { idempotencyKey: `k-${slug}` })).run_id).toBe(s.run_id);
  });

  it("runWorkflow: returns the completed run; a failed node throws WorkflowRunFailedError naming it", async () => {
    const a = await newAccount("pro");
    const agent = await newAgent(ALL_MODELS);
    const slug = await publish(a.key, CHAIN);
    const client = clientFor(a.key);
    const ran = client.runWorkflow(`${slug}@latest`, { image }, { syncWaitSeconds: 5 });
    const [run] = await Promise.all([ran, drive(agent)]);
    expect(run.status).toBe("COMPLETED");
    expect(Object.values(run.nodes).every((n) => n.status === "COMPLETED")).toBe(true);

    const failing = client.runWorkflow(slug, { image }, { syncWaitSeconds: 5 }).catch((e: unknown) => e);
    const [job] = await leaseN(agent, 1);
    expect((await fail(agent, job!, "runtime_error", false)).status).toBe(200);
    const e = await failing;
    expect(e).toBeInstanceOf(WorkflowRunFailedError);
    expect(e).toMatchObject({ node: "cutout", kind: "runtime_error", code: "internal" });
  });
});
