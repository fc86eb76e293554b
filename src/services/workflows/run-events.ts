import type { EventRow } from "../../durable-objects/workflow-run-sql.ts";

const POLL_MS = 250;
const STREAM_MS = 10 * 60_000;

/**
 * A run's event log as Server-Sent Events, from the event after `after`. Polls the log; ends after the run's final
 * event, or after STREAM_MS (the client resumes with Last-Event-ID), or when the client goes away.
 */
export function runEventStream(run: { events(after: number): Promise<EventRow[]> }, after: number): ReadableStream {
  const enc = new TextEncoder();
  const until = Date.now() + STREAM_MS;
  let closed = false;
  return new ReadableStream<Uint8Array>({
    cancel() {
      closed = true;
    },
    async pull(ctrl) {
      for (;;) {
        if (closed) return;
        if (Date.now() > until) return ctrl.close();
        const evs = await run.events(after);
        for (const e of evs) {
          const data = { ...JSON.parse(e.data), type: e.type, node: e.node, at: new Date(e.at).toISOString() };
          ctrl.enqueue(enc.encode(`id: ${e.seq}\nevent: ${e.type}\ndata: ${JSON.stringify(data)}\n\n`));
          after = e.seq;
          if (e.type.startsWith("run.") && e.type !== "run.created") return ctrl.close();
        }
        if (evs.length) return;
        await new Promise((r) => setTimeout(r, POLL_MS));
      }
    },
  });
}
