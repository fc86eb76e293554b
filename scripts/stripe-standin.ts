/**
 * The local Stripe stand-in as a Node HTTP server: the same core the worker tests run (stripe-standin/), on a port,
 * with its hosted checkout pages, and webhooks POSTed to the platform signed as Stripe signs them (retried with
 * backoff, in order). `npm start` runs it unless STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET are set. Run alone:
 * `node scripts/stripe-standin.ts --port 12111 --webhook http://127.0.0.1:8787/v1/billing/stripe-webhook`.
 */
import { createServer, type Server } from "node:http";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { StripeStandIn, stripeSignature, type Obj } from "../stripe-standin/index.ts";
import { LOCAL_SECRET_KEY, LOCAL_WEBHOOK_SECRET } from "../src/services/payments/stripe.ts";

export interface StandInServer {
  url: string;
  core: StripeStandIn;
  /** every delivery attempt: event id, type, HTTP status (0 = no answer) */
  deliveries: { id: string; type: string; status: number }[];
  /** resolves when every event made so far was delivered (or given up on) */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

export async function startStripeStandIn(o: {
  port: number;
  webhookUrl: string;
  stateFile?: string;
  retries?: number;
}): Promise<StandInServer> {
  const url = `http://127.0.0.1:${o.port}`;
  const queue: Obj[] = [];
  const deliveries: StandInServer["deliveries"] = [];
  let sending: Promise<void> | null = null;
  const save = () => o.stateFile && writeFileSync(o.stateFile, core.store.snapshot());

  // Stripe retries failed deliveries with backoff; events go out one at a time, oldest first.
  const send = async () => {
    while (queue.length) {
      const e = queue[0]!;
      const payload = JSON.stringify(e, null, 2);
      for (let attempt = 0; attempt <= (o.retries ?? 5); attempt++) {
        let status = 0;
        try {
          const r = await fetch(o.webhookUrl, {
            method: "POST",
            headers: {
              "content-type": "application/json",
              "stripe-signature": await stripeSignature(LOCAL_WEBHOOK_SECRET, payload),
            },
            body: payload,
            signal: AbortSignal.timeout(10_000),
          });
          status = r.status;
          await r.body?.cancel();
        } catch {}
        deliveries.push({ id: e.id, type: String(e.type), status });
        if (status >= 200 && status < 300) break;
        await new Promise((r) => setTimeout(r, 500 * 2 ** attempt));
      }
      queue.shift();
    }
    sending = null;
  };

  const core = new StripeStandIn({
    secretKey: LOCAL_SECRET_KEY,
    webhookSecret: LOCAL_WEBHOOK_SECRET,
    baseUrl: url,
    onEvent: (e) => {
      queue.push(e);
      sending ??= send();
    },
  });
  if (o.stateFile && existsSync(o.stateFile)) core.store.restore(readFileSync(o.stateFile, "utf8"));

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", async () => {
      try {
        const body = req.method === "GET" || req.method === "HEAD" ? undefined : Buffer.concat(chunks);
        const headers = new Headers();
        for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") headers.set(k, v);
        const r = await core.handle(new Request(url + req.url, { method: req.method, headers, body }));
        res.writeHead(r.status, Object.fromEntries(r.headers));
        res.end(Buffer.from(await r.arrayBuffer()));
        if (req.method !== "GET") save();
      } catch (e) {
        res.writeHead(500, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: { type: "api_error", message: String(e) } }));
      }
    });
  });
  await new Promise<void>((resolve, reject) =>
    server.once("error", reject).listen(o.port, "127.0.0.1", () => resolve()),
  );
  return {
    url,
    core,
    deliveries,
    async idle() {
      while (sending) await sending;
    },
    stop: () => new Promise((r) => server.close(() => r())),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: {
      port: { type: "string", default: "12111" },
      webhook: { type: "string", default: "http://127.0.0.1:8787/v1/billing/stripe-webhook" },
      state: { type: "string" },
    },
  });
  const s = await startStripeStandIn({
    port: Number(values.port),
    webhookUrl: values.webhook!,
    ...(values.state ? { stateFile: values.state } : {}),
  });
  console.log(`Stripe stand-in on ${s.url}; webhooks to ${values.webhook}`);
}
