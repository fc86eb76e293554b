import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { prng } from "./prng.ts";
import { typedBroker } from "./support/stubs.ts";

const job = (id: string, priority: number) => ({
  id,
  account_id: "acct_counts",
  model: "no-such-model",
  runtime: "builtin",
  gpu_classes: ["CPU"],
  input: {},
  priority,
  exec_timeout_ms: 60_000,
  ttl_ms: 600_000,
});

describe("queue positions from the trigger-kept counts", () => {
  it("match a COUNT of the jobs ahead after every enqueue, cancel and direct delete, at any priority", async () => {
    const b = typedBroker(`pool:counts-${Date.now()}`);
    const rand = prng(7);
    const ids: string[] = [];
    for (let i = 0; i < 120; i++) {
      const op = rand();
      if (op < 0.65 || ids.length === 0) {
        const id = `job_${i}`;
        const v = (await b.enqueue(job(id, Math.floor(rand() * 3)))) as { queue_position: number | null };
        ids.push(id);
        // what a scan of the queue says this job has ahead of it
        const scanned = await runInDurableObject(b, (_o, state) => {
          const sql = state.storage.sql;
          const r = sql
            .exec<{ priority: number; seq: number }>(`SELECT priority, seq FROM jobs WHERE id = ?`, id)
            .one();
          return sql
            .exec<{ n: number }>(
              `SELECT COUNT(*) AS n FROM jobs WHERE status = 'QUEUED' AND (priority > ? OR (priority = ? AND seq < ?))`,
              r.priority,
              r.priority,
              r.seq,
            )
            .one().n;
        });
        expect(v.queue_position, `position of ${id}`).toBe(scanned);
      } else if (op < 0.9) {
        await b.cancel(ids.splice(Math.floor(rand() * ids.length), 1)[0] as string);
      } else {
        const gone = ids.splice(Math.floor(rand() * ids.length), 1)[0] as string;
        await runInDurableObject(b, (_o, state) => void state.storage.sql.exec(`DELETE FROM jobs WHERE id = ?`, gone));
      }
    }
    const [counts, truth] = await runInDurableObject(b, (_o, state) => {
      const sql = state.storage.sql;
      return [
        sql.exec(`SELECT priority, n FROM queue_counts WHERE n > 0 ORDER BY priority`).toArray(),
        sql
          .exec(`SELECT priority, COUNT(*) AS n FROM jobs WHERE status = 'QUEUED' GROUP BY priority ORDER BY priority`)
          .toArray(),
      ];
    });
    expect(counts).toEqual(truth);
    expect((await b.poolStats()).queued).toBe(ids.length);
  });
});
