/**
 * Server-Sent Events of `GET /v2/requests/{id}/events`, read with fetch (EventSource cannot send the API key header).
 * The stream is resumed after a dropped connection or the server's periodic close by reconnecting with the last
 * event id seen (Last-Event-ID), so no event is lost or repeated; it ends after the terminal event.
 */
import { errorFrom } from "./errors.ts";
import type { RequestResult } from "./types.ts";

interface Lifecycle {
  request_id: string;
  attempt?: number;
  at: string;
}

export type RequestEvent =
  | { event: "queued" | "started" | "requeued"; id: string; data: Lifecycle }
  | {
      event: "queue";
      id?: undefined;
      data: { request_id: string; queue_position: number | null; capacity: "available" | "no_capacity" | null };
    }
  | {
      event: "progress";
      id: string;
      data: { request_id: string; step: number; total: number; percent: number; message?: string; at: string };
    }
  | { event: "completed" | "failed" | "cancelled"; id?: string; data: RequestResult };

export const TERMINAL_EVENTS = new Set(["completed", "failed", "cancelled"]);

/** Splits an SSE byte stream into events (the WHATWG event-stream format: fields, blank-line separated). */
export async function* parseSse(
  body: ReadableStream<Uint8Array>,
): AsyncGenerator<{ id?: string; event: string; data: string }> {
  const reader = body.getReader();
  const dec = new TextDecoder();
  let buf = "";
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buf += dec.decode(value, { stream: true }).replace(/\r\n?/g, "\n");
      let i: number;
      while ((i = buf.indexOf("\n\n")) >= 0) {
        const block = buf.slice(0, i);
        buf = buf.slice(i + 2);
        let id: string | undefined;
        let event = "message";
        const data: string[] = [];
        for (const line of block.split("\n")) {
          if (line === "" || line.startsWith(":")) continue;
          const c = line.indexOf(":");
          const field = c < 0 ? line : line.slice(0, c);
          const value = c < 0 ? "" : line.slice(c + 1).replace(/^ /, "");
          if (field === "id") id = value;
          else if (field === "event") event = value;
          else if (field === "data") data.push(value);
        }
        if (data.length) yield { ...(id !== undefined ? { id } : {}), event, data: data.join("\n") };
      }
    }
  } finally {
    reader.releaseLock();
  }
}

export interface EventsOptions {
  /** resume after this event id */
  lastEventId?: string;
  signal?: AbortSignal;
  /** reconnections allowed without receiving any event in between (default 5) */
  maxRetries?: number;
}

export async function* requestEvents(
  fetcher: typeof fetch,
  baseUrl: string,
  apiKey: string,
  id: string,
  opts: EventsOptions = {},
): AsyncGenerator<RequestEvent> {
  let last = opts.lastEventId;
  let failures = 0;
  for (;;) {
    let res: Response;
    try {
      res = await fetcher(`${baseUrl}/v2/requests/${encodeURIComponent(id)}/events`, {
        headers: { "x-api-key": apiKey, accept: "text/event-stream", ...(last ? { "last-event-id": last } : {}) },
        signal: opts.signal,
      });
    } catch (e) {
      if (opts.signal?.aborted || ++failures > (opts.maxRetries ?? 5)) throw e;
      await new Promise((r) => setTimeout(r, 250 * 2 ** failures));
      continue;
    }
    if (!res.ok || !res.body) throw await errorFrom(res);
    try {
      for await (const e of parseSse(res.body)) {
        failures = 0;
        if (e.id !== undefined) last = e.id;
        yield { ...(e.id !== undefined ? { id: e.id } : {}), event: e.event, data: JSON.parse(e.data) } as RequestEvent;
        if (TERMINAL_EVENTS.has(e.event)) return;
      }
    } catch (e) {
      if (opts.signal?.aborted) throw e;
    }
    // the server closed the stream before the end (it does every few minutes): resume after the last event
    if (++failures > (opts.maxRetries ?? 5))
      throw new Error(`event stream for ${id} closed ${failures} times without an event`);
  }
}
