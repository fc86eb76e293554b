import { describe, expect, it } from "vitest";
import { EdgeInference, WaitTimeoutError, WorkflowRunFailedError, type WorkflowRun } from "../src/index.ts";

/** A scripted platform: each call gets the next answer; the calls are kept for assertions. */
function platform(answers: (() => Response)[]) {
  const calls: { method: string; url: string; headers: Headers; body: unknown }[] = [];
  const fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const req = new Request(input, init);
    const body = req.body ? await req.json() : undefined;
    calls.push({ method: req.method, url: req.url, headers: req.headers, body });
    const next = answers.shift();
    if (!next) throw new Error(`unexpected call ${req.method} ${req.url}`);
    return next();
  }) as typeof globalThis.fetch;
  return { client: new EdgeInference({ apiKey: "sk_test", baseUrl: "http://p.test", fetch }), calls };
}
const json = (status: number, body: unknown) => () =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
const run = (status: string, extra: Partial<WorkflowRun> = {}) =>
  ({
    run_id: "wfr_1",
    workflow: "cutout",
    version: 2,
    status,
    cost: null,
    held: 252_200,
    outputs: null,
    error: null,
    ...extra,
  }) as WorkflowRun;
const paths = (calls: { method: string; url: string }[]) => calls.map((c) => `${c.method} ${new URL(c.url).pathname}`);

describe("workflow helpers", () => {
  it("runWorkflow: the sync answer is the run; bytes go as base64, the @ stays, wait and JSON asked for", async () => {
    const outputs = { safety: { type: "json" as const, value: { Neutral: 0.97 } } };
    const done = run("COMPLETED", { cost: 1_060, held: 0, outputs });
    const { client, calls } = platform([json(200, done)]);
    const bytes = new Uint8Array([1, 2, 3]);
    const r = await client.runWorkflow("cutout@production", { image: bytes }, { syncWaitSeconds: 20 });
    expect(r.outputs).toEqual(done.outputs);
    expect(calls[0]).toMatchObject({ url: "http://p.test/v1/workflows/cutout@production", body: { image: "AQID" } });
    expect(calls[0]!.headers.get("prefer")).toBe("wait=20");
    expect(calls[0]!.headers.get("accept")).toBe("application/json");
  });

  it("runWorkflow: a 202 falls back to polling the run until it ended and its cost is final", async () => {
    const { client, calls } = platform([
      json(202, run("PROCESSING")),
      json(200, run("PROCESSING")),
      json(200, run("COMPLETED")), // ended, but its charge is not settled yet: keep polling
      json(200, run("COMPLETED", { cost: 1_060, held: 0 })),
    ]);
    const r = await client.runWorkflow("cutout", { image: "https://example.com/a.jpg" }, { syncWaitSeconds: 1 });
    expect(r).toMatchObject({ status: "COMPLETED", cost: 1_060 });
    expect(paths(calls)).toEqual([
      "POST /v1/workflows/cutout",
      "GET /v2/workflow-runs/wfr_1",
      "GET /v2/workflow-runs/wfr_1",
      "GET /v2/workflow-runs/wfr_1",
    ]);
  });

  it("runWorkflow: a failed run throws WorkflowRunFailedError naming the node, sync or after fallback", async () => {
    const sync = platform([
      json(422, {
        error: {
          code: "unprocessable",
          message: "image does not decode",
          request_id: "req_h1",
          details: {
            run_id: "wfr_1",
            error: { node: "cutout", kind: "invalid_input", message: "image does not decode" },
          },
        },
      }),
    ]);
    const e1 = await sync.client.runWorkflow("cutout", { image: "x" }).catch((e) => e);
    expect(e1).toBeInstanceOf(WorkflowRunFailedError);
    expect(e1).toMatchObject({
      code: "unprocessable",
      status: 422,
      runId: "wfr_1",
      node: "cutout",
      kind: "invalid_input",
      run: null,
    });

    const timeout = { node: "check", kind: "timeout", message: "execution exceeded 60000 ms" };
    const failed = run("FAILED", { cost: 736, held: 0, error: timeout });
    const fallback = platform([json(202, run("QUEUED")), json(200, failed)]);
    const e2 = await fallback.client.runWorkflow("cutout", { image: "x" }).catch((e) => e);
    expect(e2).toBeInstanceOf(WorkflowRunFailedError);
    expect(e2).toMatchObject({ code: "timeout", status: 504, node: "check", kind: "timeout", run: failed });

    const byCaller = { node: null, kind: "cancelled", message: "cancelled by the caller" };
    const cancelled = platform([json(200, run("CANCELLED", { cost: 0, held: 0, error: byCaller }))]);
    const e3 = await cancelled.client.runWorkflow("cutout", { image: "x" }).catch((e) => e);
    expect(e3).toMatchObject({ code: "conflict", status: 409, node: null, kind: "cancelled" });
  });

  it("submitWorkflow: POST /v2/workflows/{ref}, the webhook in the body, the Idempotency-Key header", async () => {
    const submitted = { run_id: "wfr_1", status: "QUEUED", workflow: "cutout", version: 2, held: 252_200 };
    const { client, calls } = platform([json(202, submitted)]);
    const opts = { webhook: "https://example.com/h", idempotencyKey: "k-1" };
    const s = await client.submitWorkflow("cutout@2", { image: "x" }, opts);
    expect(s).toEqual(submitted);
    expect(calls[0]).toMatchObject({
      method: "POST",
      url: "http://p.test/v2/workflows/cutout@2",
      body: { image: "x", webhook: "https://example.com/h" },
    });
    expect(calls[0]!.headers.get("idempotency-key")).toBe("k-1");
  });

  it("waitRun: gives up with WaitTimeoutError carrying the last status; the run is left alone", async () => {
    const { client, calls } = platform([json(200, run("PROCESSING"))]);
    const e = await client.waitRun("wfr_1", { timeoutMs: 0 }).catch((x) => x);
    expect(e).toBeInstanceOf(WaitTimeoutError);
    expect(e.last.status).toBe("PROCESSING");
    expect(paths(calls)).toEqual(["GET /v2/workflow-runs/wfr_1"]);
  });
});
