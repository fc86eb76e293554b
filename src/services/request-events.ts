import { isTerminal, isTerminalEvent, type RequestResult } from "../../schemas/index.ts";
import type { JobBroker, JobView } from "../durable-objects/job-broker.ts";
import type { JobEvent } from "../durable-objects/job-events.ts";
import type { Config, Env } from "../env.ts";
import type { AuthedAccount } from "./auth.ts";
import { broker } from "./broker.ts";
import { RequestService } from "./requests.ts";

/** How long one long-poll of the broker waits for an event before the stream sends a keep-alive comment. */
const POLL_MS = 10_000;
/** A stream ends after this long; EventSource and the client reconnect with Last-Event-ID and lose nothing. */
const STREAM_MS = 5 * 60_000;

type EventsApi = Pick<JobBroker, "events">;

const enc = new TextEncoder();
const frame = (type: string, data: unknown, id?: number) =>
  enc.encode(`${id !== undefined ? `id: ${id}\n` : ""}event: ${type}\ndata: ${JSON.stringify(data)}\n\n`);

/**
 * `GET /v2/requests/{id}/events`: the broker's per-job event list as Server-Sent Events. The stream long-polls the
 * broker in a loop, sends each event after `lastEventId` with its sequence number as the SSE id, a `queue` event when
 * the queue position changes, and the terminal event with the full result, then ends.
 */
export class RequestEvents {
  constructor(
    private env: Env,
    private cfg: Config,
    private opts: { pollMs?: number; streamMs?: number } = {},
  ) {}

  /** Checks ownership first (404 before any byte is streamed), then returns the stream. */
  async open(
    account: AuthedAccount,
    id: string,
    lastEventId: number,
    base: string,
  ): Promise<ReadableStream<Uint8Array>> {
    const requests = new RequestService(this.env, this.cfg);
    const { pool } = await requests.owned(account, id);
    const stub = broker(this.env, pool) as unknown as EventsApi;
    const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
    const writer = writable.getWriter();
    void this.pump(stub, requests, id, lastEventId, base, writer).finally(() => writer.close().catch(() => undefined));
    return readable;
  }

  private async pump(
    stub: EventsApi,
    requests: RequestService,
    id: string,
    after: number,
    base: string,
    w: WritableStreamDefaultWriter<Uint8Array>,
  ) {
    const end = Date.now() + (this.opts.streamMs ?? STREAM_MS);
    let position: number | null | undefined;
    try {
      await w.write(enc.encode("retry: 1000\n\n"));
      while (Date.now() < end) {
        const r = await stub.events(id, after, Math.max(0, Math.min(this.opts.pollMs ?? POLL_MS, end - Date.now())));
        if (!r) return;
        let sent = false;
        for (const e of r.events) {
          after = e.seq;
          if (isTerminalEvent(e.type)) {
            await w.write(frame(e.type, await this.result(requests, r.job, base), e.seq));
            return;
          }
          await w.write(frame(e.type, this.payload(id, e), e.seq));
          sent = true;
        }
        const job = r.job;
        if (isTerminal(job.status)) {
          // finished before its event list existed (or after it was pruned): the result, without an id
          await w.write(frame(job.status.toLowerCase(), await this.result(requests, job, base)));
          return;
        }
        if (job.status === "QUEUED" && job.queue_position !== position) {
          position = job.queue_position;
          await w.write(frame("queue", { request_id: id, queue_position: job.queue_position, capacity: job.capacity }));
          sent = true;
        }
        if (!sent) await w.write(enc.encode(": keep-alive\n\n"));
      }
    } catch {
      // the client went away (the write failed) or the broker was unreachable: the client resumes with Last-Event-ID
    }
  }

  private payload(id: string, e: JobEvent): Record<string, unknown> {
    const at = new Date(e.at).toISOString();
    if (e.type === "progress") {
      const step = Number(e.data.step);
      const total = Number(e.data.total);
      return {
        request_id: id,
        step,
        total,
        percent: Math.round((1000 * step) / total) / 10,
        ...(e.data.message ? { message: e.data.message } : {}),
        at,
      };
    }
    return { request_id: id, ...e.data, at };
  }

  /** Resolves the hold first (idempotent; the events queue does the same), so the result carries its cost. */
  private async result(requests: RequestService, job: JobView, base: string): Promise<RequestResult> {
    await requests.settle(job);
    return requests.resultView(job, base);
  }
}
