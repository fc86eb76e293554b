import { describe, expect, it } from "vitest";
import { EdgeInference, EdgeInferenceError, parseSse, type RequestEvent } from "../src/index.ts";

/** A body that delivers `text` in the given chunk sizes, to exercise frames split across reads. */
function body(text: string, chunk = 7): ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  let i = 0;
  return new ReadableStream({
    pull(c) {
      if (i >= bytes.length) return c.close();
      c.enqueue(bytes.subarray(i, i + chunk));
      i += chunk;
    },
  });
}
const frame = (event: string, data: unknown, id?: number) =>
  `${id !== undefined ? `id: ${id}\n` : ""}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;

describe("Server-Sent Events", () => {
  it("parses frames split across reads, CRLF line ends, comments and multi-line data", async () => {
    const text =
      'retry: 1000\r\n\r\n: keep-alive\n\nid: 1\nevent: queued\ndata: {"a":\ndata: 1}\n\nevent: queue\ndata: {}\n\n';
    const out = [];
    for await (const e of parseSse(body(text, 3))) out.push(e);
    expect(out).toEqual([
      { id: "1", event: "queued", data: '{"a":\n1}' },
      { event: "queue", data: "{}" },
    ]);
  });

  it("events(): reconnects with Last-Event-ID when the server closes early; stops at the terminal event", async () => {
    const seenIds: (string | null)[] = [];
    const streams = [
      frame("queued", { request_id: "r" }, 1) +
        frame("queue", { request_id: "r", queue_position: 2, capacity: "available" }),
      frame("started", { request_id: "r", attempt: 1 }, 2) +
        frame("progress", { request_id: "r", step: 1, total: 4, percent: 25 }, 3),
      frame("completed", { request_id: "r", status: "COMPLETED", output_json: { ok: true } }, 4) +
        frame("never", {}, 5),
    ];
    const fetch = (async (_url: RequestInfo | URL, init?: RequestInit) => {
      seenIds.push(new Headers(init?.headers).get("last-event-id"));
      return new Response(body(streams.shift()!), { headers: { "content-type": "text/event-stream" } });
    }) as typeof globalThis.fetch;
    const client = new EdgeInference({ apiKey: "k", baseUrl: "http://p.test", fetch });
    const got: RequestEvent[] = [];
    for await (const e of client.events("r")) got.push(e);
    expect(got.map((e) => `${e.id ?? "-"}:${e.event}`)).toEqual([
      "1:queued",
      "-:queue",
      "2:started",
      "3:progress",
      "4:completed",
    ]);
    expect(seenIds).toEqual([null, "1", "3"]);
  });

  it("wait({ events: true }) returns the terminal event's result and passes every event to onEvent", async () => {
    const text =
      frame("queued", { request_id: "r" }, 1) +
      frame(
        "failed",
        { request_id: "r", status: "FAILED", error: { kind: "oom", code: "unprocessable", message: "x" } },
        2,
      );
    const fetch = (async () =>
      new Response(body(text), {
        headers: { "content-type": "text/event-stream" },
      })) as unknown as typeof globalThis.fetch;
    const client = new EdgeInference({ apiKey: "k", baseUrl: "http://p.test", fetch });
    const names: string[] = [];
    const r = await client.wait("r", { events: true, onEvent: (e) => names.push(e.event) });
    expect(r).toMatchObject({ status: "FAILED", error: { kind: "oom" } });
    expect(names).toEqual(["queued", "failed"]);
  });

  it("an error answer (404) is thrown as EdgeInferenceError, not retried", async () => {
    let calls = 0;
    const fetch = (async () => {
      calls++;
      return new Response(
        JSON.stringify({ error: { code: "not_found", message: "request not found", request_id: "h" } }),
        { status: 404 },
      );
    }) as unknown as typeof globalThis.fetch;
    const client = new EdgeInference({ apiKey: "k", baseUrl: "http://p.test", fetch });
    const it = client.events("nope");
    await expect(it.next()).rejects.toBeInstanceOf(EdgeInferenceError);
    expect(calls).toBe(1);
  });
});
