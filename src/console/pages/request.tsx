/** @jsxImportSource hono/jsx */
import { isTerminal, type RequestResult } from "../../../schemas/index.ts";
import { seconds, usd, when } from "../format.ts";
import { Layout } from "../layout.tsx";
import type { ConsoleSession } from "../services/session.ts";
import type { RequestRow } from "../services/usage.ts";
import { StatusText } from "./usage.tsx";

/** Done when the job is terminal and, if it completed, its charge is settled (so the cost shown is final). */
export function isFinal(r: RequestResult): boolean {
  return isTerminal(r.status) && (r.status !== "COMPLETED" || r.cost !== null);
}

function Output(p: { r: RequestResult }) {
  const files = p.r.output ?? [];
  return (
    <div class="preview">
      {files.map((o) => (
        <figure>
          {o.content_type.startsWith("image/") ? <img src={o.url} alt={`Output ${o.name}`} /> : null}
          {o.content_type.startsWith("video/") ? (
            <video src={o.url} controls aria-label={`Output ${o.name}`}></video>
          ) : null}
          {o.content_type.startsWith("audio/") ? (
            <audio src={o.url} controls aria-label={`Output ${o.name}`}></audio>
          ) : null}
          <figcaption>
            <a href={o.url} download={o.name}>
              {o.name}
            </a>{" "}
            ({o.content_type}, link valid until {o.expires_at})
          </figcaption>
        </figure>
      ))}
      {p.r.output_json !== null && p.r.output_json !== undefined ? (
        <pre id="output-json">{JSON.stringify(p.r.output_json, null, 2)}</pre>
      ) : null}
    </div>
  );
}

/**
 * The progress line fed by the request's event stream (live.js). It sits beside the card, not in it, so the card's
 * swaps do not reopen the stream.
 */
export function LiveProgress(p: { id: string }) {
  return (
    <div id="run-live" class="live" data-events={`/console/requests/${p.id}/events`}>
      <progress max={100} aria-label="Progress"></progress>{" "}
      <span data-phase role="status">
        Submitted
      </span>
    </div>
  );
}

/**
 * A request's live card: polled by htmx until final, then it stops (the final card has no trigger). Beside a live
 * stream it polls slowly, as the fallback, and refreshes at once when the stream says the request ended.
 */
export function RequestCard(p: { r: RequestResult; detail?: boolean; live?: boolean }) {
  const r = p.r;
  const final = isFinal(r);
  const m = r.metrics;
  const url = `/console/requests/${r.request_id}/card?${p.detail ? "detail=1&" : ""}${p.live ? "live=1" : ""}`;
  const trigger = p.live ? "every 3s, live-done from:body" : "every 1s";
  const poll = final ? {} : { "hx-get": url, "hx-trigger": trigger, "hx-swap": "outerHTML" };
  return (
    <section
      id="run-status"
      class="card"
      aria-live="polite"
      data-status={r.status}
      data-final={final ? "true" : "false"}
      {...poll}
    >
      <h2>
        {p.detail ? "Result of" : "Request"}{" "}
        <a href={`/console/requests/${r.request_id}`}>
          <code>{r.request_id}</code>
        </a>
      </h2>
      <dl class="meta">
        <dt>Status</dt>
        <dd>
          <StatusText status={r.status} />
          {!final && isTerminal(r.status) ? " (settling the charge)" : null}
        </dd>
        {r.queue_position !== null ? (
          <>
            <dt>Queue position</dt>
            <dd>{r.queue_position}</dd>
          </>
        ) : null}
        {r.capacity === "no_capacity" ? (
          <>
            <dt>Capacity</dt>
            <dd>No connected agent serves this model yet; the request waits in the queue.</dd>
          </>
        ) : null}
        <dt>Cost</dt>
        <dd id="run-cost" data-cost={r.cost ?? ""}>
          {usd(r.cost)}
        </dd>
        <dt>GPU time</dt>
        <dd>
          {seconds(m.gpu_ms)}
          {m.gpu_class ? ` on ${m.gpu_class}` : ""}
        </dd>
        <dt>Queued for</dt>
        <dd>{seconds(m.queue_ms)}</dd>
        <dt>Model load</dt>
        <dd>{seconds(m.load_ms)} (not billed)</dd>
        <dt>Attempts</dt>
        <dd>{m.attempts}</dd>
      </dl>
      {r.error ? (
        <p class="error" role="alert">
          <strong>{r.error.code}</strong> ({r.error.kind}): {r.error.message}
        </p>
      ) : null}
      {r.status === "COMPLETED" ? <Output r={r} /> : null}
    </section>
  );
}

export function RequestPage(p: {
  session: ConsoleSession;
  r: RequestResult;
  row: RequestRow;
  inputs: { field: string; type: string }[];
}) {
  const r = p.r;
  return (
    <Layout title={`Request ${r.request_id}`} active="usage" session={p.session}>
      <p>
        <a href="/console/usage">← Usage</a>
      </p>
      <h1>
        Request <code>{r.request_id}</code>
      </h1>
      <div class="grid2">
        <div>
          <h2>Details</h2>
          <dl class="meta">
            <dt>Model</dt>
            <dd>
              <a href={`/console/models/${r.model}`}>{r.model}</a>
            </dd>
            <dt>Mode</dt>
            <dd>{p.row.mode}</dd>
            <dt>Created</dt>
            <dd>{when(p.row.createdAt)}</dd>
            <dt>Started</dt>
            <dd>{r.started_at ?? "—"}</dd>
            <dt>Completed</dt>
            <dd>{r.completed_at ?? "—"}</dd>
            <dt>Webhook</dt>
            <dd>{p.row.webhookUrl ?? "none"}</dd>
          </dl>
          <h2>Inputs</h2>
          {p.inputs.length === 0 ? (
            <p>No stored file inputs (other parameters are not kept after the job runs).</p>
          ) : null}
          <div class="preview">
            {p.inputs.map((i) => (
              <figure>
                {i.type.startsWith("image/") ? (
                  <img src={`/console/requests/${r.request_id}/inputs/${i.field}`} alt={`Input ${i.field}`} />
                ) : null}
                <figcaption>
                  {i.field} ({i.type})
                </figcaption>
              </figure>
            ))}
          </div>
        </div>
        <div>
          <RequestCard r={r} detail />
        </div>
      </div>
    </Layout>
  );
}
