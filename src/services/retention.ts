import { and, eq, inArray, isNotNull, isNull, lt } from "drizzle-orm";
import { db } from "../db/client.ts";
import { models, requests } from "../db/schema.ts";
import { config, type Env } from "../env.ts";
import { broker } from "./broker.ts";

const DAY_MS = 24 * 3600_000;
/** Requests whose files one cron run deletes at most; the next run (5 minutes later) takes the rest. */
export const FILES_PER_RUN = 500;
const PAGE = 100;

/** Deletes a request's files from R2: its inputs only, or everything under the request. Idempotent. */
export async function deleteRequestFiles(env: Env, accountId: string, requestId: string, what: "inputs" | "all") {
  const prefix = `accounts/${accountId}/requests/${requestId}/${what === "inputs" ? "inputs/" : ""}`;
  let deleted = 0;
  let cursor: string | undefined;
  do {
    const page = await env.BLOBS.list({ prefix, cursor, limit: 1000 });
    if (page.objects.length) await env.BLOBS.delete(page.objects.map((o) => o.key));
    deleted += page.objects.length;
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
  return deleted;
}

export interface RetentionReport {
  requests_with_files_deleted: number;
  files_deleted: number;
  broker_jobs_pruned: number;
  request_rows_pruned: number;
}

/**
 * The cron's retention sweep. A finished request's files (inputs left over and outputs) are deleted from R2 after
 * OUTPUT_RETENTION_DAYS, and its broker row (inputs and outputs as JSON) with them; its D1 row (the usage history)
 * after REQUEST_RETENTION_DAYS. The ledger journal is never pruned: it is the account's money.
 */
export async function runRetention(env: Env, now = Date.now()): Promise<RetentionReport> {
  const cfg = config(env);
  const filesBefore = now - cfg.OUTPUT_RETENTION_DAYS * DAY_MS;
  const rowsBefore = now - cfg.REQUEST_RETENTION_DAYS * DAY_MS;
  const report: RetentionReport = {
    requests_with_files_deleted: 0,
    files_deleted: 0,
    broker_jobs_pruned: 0,
    request_rows_pruned: 0,
  };

  while (report.requests_with_files_deleted < FILES_PER_RUN) {
    const due = await db(env)
      .select({ id: requests.id, accountId: requests.accountId })
      .from(requests)
      .where(and(lt(requests.completedAt, filesBefore), isNull(requests.filesDeletedAt)))
      .limit(PAGE)
      .all();
    for (const r of due) {
      report.files_deleted += await deleteRequestFiles(env, r.accountId, r.id, "all");
      await db(env).update(requests).set({ filesDeletedAt: now }).where(eq(requests.id, r.id));
      report.requests_with_files_deleted++;
    }
    if (due.length < PAGE) break;
  }

  const pools = await db(env).selectDistinct({ pool: models.pool }).from(models).all();
  for (const { pool } of pools) report.broker_jobs_pruned += (await broker(env, pool).prune(filesBefore)).jobs;

  for (;;) {
    const old = await db(env)
      .select({ id: requests.id })
      .from(requests)
      .where(and(lt(requests.completedAt, rowsBefore), isNotNull(requests.filesDeletedAt)))
      .limit(PAGE)
      .all();
    if (old.length === 0) break;
    await db(env)
      .delete(requests)
      .where(
        inArray(
          requests.id,
          old.map((r) => r.id),
        ),
      );
    report.request_rows_pruned += old.length;
    if (old.length < PAGE) break;
  }
  return report;
}
