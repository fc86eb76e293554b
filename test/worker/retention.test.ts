import { typedLedger } from "./support/stubs.ts";
import { env } from "cloudflare:workers";
import {
  createExecutionContext,
  createScheduledController,
  runInDurableObject,
  waitOnExecutionContext,
} from "cloudflare:test";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import worker from "../../src/index.ts";
import { runRetention } from "../../src/services/retention.ts";
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

beforeAll(syncCatalog);
beforeEach(resetBroker);

const DAY = 24 * 3600_000;
const PNG = Uint8Array.from(atob(PNG_1x1), (c) => c.charCodeAt(0));
/** An image over the 256 KB inline limit: it is stored in R2 (a small one lives only inside its job). */
const LARGE = (() => {
  const b = new Uint8Array(300 * 1024);
  b.set(PNG);
  return btoa(Array.from(b, (x) => String.fromCharCode(x)).join(""));
})();

async function keys(prefix: string) {
  return (await env.BLOBS.list({ prefix })).objects.map((o) => o.key);
}

async function until<T>(f: () => Promise<T>, ok: (v: T) => boolean): Promise<T> {
  let v = await f();
  for (let i = 0; i < 200 && !ok(v); i++) {
    await new Promise((r) => setTimeout(r, 25));
    v = await f();
  }
  return v;
}

const row = (id: string) =>
  env.DB.prepare("SELECT status, completed_at, files_deleted_at FROM requests WHERE id = ?")
    .bind(id)
    .first<{ status: string; completed_at: number | null; files_deleted_at: number | null }>();

/** A finished request with one input and one output in R2, projected to D1 by the events queue. */
async function finished(agent: FakeAgent, key: string, accountId: string) {
  const sub = (await (await json("POST", "/v2/background-removal", { image: LARGE }, { "x-api-key": key })).json()) as {
    request_id: string;
  };
  const id = sub.request_id;
  const prefix = `accounts/${accountId}/requests/${id}/`;
  // a large input is stored in R2 before the answer
  expect(
    await until(
      () => keys(prefix),
      (k) => k.length === 1,
    ),
  ).toEqual([`${prefix}inputs/image`]);
  let jobs = await agent.lease();
  for (let i = 0; jobs.length === 0 && i < 50; i++) jobs = await agent.lease({ wait_ms: 100 });
  const job = jobs[0]!;
  const put = await call(`/agent/v1/jobs/${id}/outputs/output.png`, {
    method: "PUT",
    headers: { ...agent.headers, "x-lease-id": job.lease_id, "content-type": "image/png" },
    body: PNG,
  });
  expect(put.status).toBe(200);
  const done = await agent.post(`/agent/v1/jobs/${id}/complete`, {
    lease_id: job.lease_id,
    epoch: job.epoch,
    outputs: [{ name: "output.png", content_type: "image/png", size: PNG.byteLength }],
    metrics: { gpu_ms: 1, load_ms: 0, gpu_class: "cpu" },
  });
  expect(done.status).toBe(200);
  expect(
    (
      await until(
        () => row(id),
        (r) => r?.status === "COMPLETED",
      )
    )?.status,
  ).toBe("COMPLETED");
  return { id, prefix };
}

describe("inputs are deleted when their job ends", () => {
  it("completed, cancelled and failed jobs all lose their inputs; outputs stay", async () => {
    const { id: accountId, key } = await newAccount("pro");
    const agent = await newAgent();
    const done = await finished(agent, key, accountId);
    expect(
      await until(
        () => keys(done.prefix),
        (k) => k.length === 1,
      ),
    ).toEqual([`${done.prefix}outputs/output.png`]);

    const c = (await (await json("POST", "/v2/background-removal", { image: LARGE }, { "x-api-key": key })).json()) as {
      request_id: string;
    };
    const cPrefix = `accounts/${accountId}/requests/${c.request_id}/`;
    expect(await keys(cPrefix)).toHaveLength(1);
    expect(
      (await call(`/v2/requests/${c.request_id}/cancel`, { method: "POST", headers: { "x-api-key": key } })).status,
    ).toBe(200);
    expect(
      await until(
        () => keys(cPrefix),
        (k) => k.length === 0,
      ),
    ).toEqual([]);

    const f = (await (await json("POST", "/v2/background-removal", { image: LARGE }, { "x-api-key": key })).json()) as {
      request_id: string;
    };
    const fPrefix = `accounts/${accountId}/requests/${f.request_id}/`;
    const [job] = await agent.lease();
    expect(job!.job_id).toBe(f.request_id);
    const fail = await agent.post(`/agent/v1/jobs/${f.request_id}/fail`, {
      lease_id: job!.lease_id,
      epoch: job!.epoch,
      kind: "oom",
      message: "out of memory",
      retryable: false,
    });
    expect(fail.status).toBe(200);
    expect(
      await until(
        () => keys(fPrefix),
        (k) => k.length === 0,
      ),
    ).toEqual([]);
  });
});

describe("a small input lives only inside its job", () => {
  it("nothing in R2; served from the broker while the job runs, and no longer once it has ended", async () => {
    const { id: accountId, key } = await newAccount("pro");
    const agent = await newAgent();
    const sub = (await (
      await json("POST", "/v2/background-removal", { image: PNG_1x1 }, { "x-api-key": key })
    ).json()) as { request_id: string };
    const id = sub.request_id;
    const [job] = await agent.lease();
    expect(job!.job_id).toBe(id);
    expect(job!.inline_inputs?.image?.data).toBe(PNG_1x1);
    expect(await keys(`accounts/${accountId}/requests/${id}/`)).toEqual([]);
    // an agent that downloads it anyway gets the same bytes
    const got = await call(`/agent/v1/jobs/${id}/inputs/image`, {
      headers: { ...agent.headers, "x-lease-id": job!.lease_id },
    });
    expect(got.status).toBe(200);
    expect(got.headers.get("content-type")).toBe("image/png");
    expect(new Uint8Array(await got.arrayBuffer())).toEqual(PNG);
    const inline = () =>
      runInDurableObject(brokerStub(), (b: { inlineInputs(id: string): Promise<unknown> }) => b.inlineInputs(id));
    expect(await inline()).toEqual({ image: { content_type: "image/png", data: PNG_1x1 } });
    expect((await call(`/v2/requests/${id}/cancel`, { method: "POST", headers: { "x-api-key": key } })).status).toBe(
      200,
    );
    expect(await inline()).toBeNull();
  });
});

describe("retention sweep", () => {
  it("outputs and broker rows go after OUTPUT_RETENTION_DAYS, request rows after REQUEST_RETENTION_DAYS; the ledger journal stays", async () => {
    const { id: accountId, key } = await newAccount("pro");
    const agent = await newAgent();
    const { id, prefix } = await finished(agent, key, accountId);
    await until(
      () => keys(prefix),
      (k) => k.length === 1,
    );
    const now = Date.now();
    const journal = () =>
      runInDurableObject(typedLedger(accountId), (_i, s) =>
        s.storage.sql
          .exec<{ op_id: string }>("SELECT op_id FROM journal WHERE op_id LIKE ? ORDER BY op_id", `${id}%`)
          .toArray()
          .map((r) => r.op_id),
      );
    const entries = await journal();
    expect(entries.length).toBeGreaterThanOrEqual(2); // the hold and its settlement

    // Day 6: nothing is due (default 7 days).
    await runRetention(env, now + 6 * DAY);
    expect(await keys(prefix)).toEqual([`${prefix}outputs/output.png`]);
    expect((await call(`/v2/requests/${id}/status`, { headers: { "x-api-key": key } })).status).toBe(200);

    // Day 8: the output and the broker row are gone; the usage row stays and says so.
    const r8 = await runRetention(env, now + 8 * DAY);
    expect(r8.requests_with_files_deleted).toBeGreaterThanOrEqual(1);
    expect(await keys(prefix)).toEqual([]);
    expect((await row(id))!.files_deleted_at).toBe(now + 8 * DAY);
    expect((await call(`/v2/requests/${id}/status`, { headers: { "x-api-key": key } })).status).toBe(404);
    const inBroker = await runInDurableObject(
      brokerStub(),
      (_i, s) => s.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM jobs WHERE id = ?", id).one().n,
    );
    expect(inBroker).toBe(0);
    const usage = (await (await call("/v1/usage", { headers: { "x-api-key": key } })).json()) as {
      data: { request_id: string }[];
    };
    expect(usage.data.map((u) => u.request_id)).toContain(id);

    // A second run the same day finds nothing more to do for this request.
    await runRetention(env, now + 8 * DAY + 1000);
    expect((await row(id))!.files_deleted_at).toBe(now + 8 * DAY);

    // Day 91: the request row is pruned (default 90 days); the ledger journal is untouched.
    const r91 = await runRetention(env, now + 91 * DAY);
    expect(r91.request_rows_pruned).toBeGreaterThanOrEqual(1);
    expect(await row(id)).toBeNull();
    expect(await journal()).toEqual(entries);
  });

  it("the cron trigger runs the sweep: a request finished 8 days ago loses its files and broker row", async () => {
    const { id: accountId, key } = await newAccount("pro");
    const agent = await newAgent();
    const old = await finished(agent, key, accountId);
    const fresh = await finished(agent, key, accountId);
    await until(
      () => keys(old.prefix),
      (k) => k.length === 1,
    );
    const past = Date.now() - 8 * DAY;
    await env.DB.prepare("UPDATE requests SET completed_at = ? WHERE id = ?").bind(past, old.id).run();
    await runInDurableObject(brokerStub(), (_i, s) =>
      s.storage.sql.exec("UPDATE jobs SET finished_at = ? WHERE id = ?", past, old.id),
    );

    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ scheduledTime: Date.now(), cron: "*/5 * * * *" }), env, ctx);
    await waitOnExecutionContext(ctx);

    expect(await keys(old.prefix)).toEqual([]);
    expect((await row(old.id))!.files_deleted_at).not.toBeNull();
    const jobs = await runInDurableObject(brokerStub(), (_i, s) =>
      s.storage.sql
        .exec<{ id: string }>("SELECT id FROM jobs")
        .toArray()
        .map((r) => r.id),
    );
    expect(jobs).not.toContain(old.id);
    expect(jobs).toContain(fresh.id);
    expect(await keys(fresh.prefix)).toEqual([`${fresh.prefix}outputs/output.png`]);
  });
});
