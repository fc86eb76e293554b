import { route } from "./api.ts";
import { authenticate, payWithCard, type PageResult } from "./checkout.ts";
import { list, parseForm, str } from "./form.ts";
import { StripeError, Store, API_VERSION, type Obj, type StandInOptions } from "./store.ts";

export { stripeSignature } from "./sign.ts";
export type { Obj, StandInOptions } from "./store.ts";

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);

/**
 * A local stand-in for the part of Stripe's API the platform calls, answering with Stripe's object and error shapes
 * over Stripe's wire format (form-encoded bodies, bearer secret key, Idempotency-Key, expand), a hosted checkout
 * page that takes Stripe's test cards, and events signed as Stripe signs webhooks. Web-standard Request/Response
 * only, so the same core runs in the Node server and inside a test Worker.
 */
export class StripeStandIn {
  readonly store: Store;
  constructor(opts: StandInOptions) {
    this.store = new Store(opts);
  }

  /** A fetch function for `Stripe.createFetchHttpClient(...)`. */
  readonly fetch = (input: RequestInfo | URL, init?: RequestInit): Promise<Response> =>
    this.handle(new Request(input, init));

  async handle(req: Request): Promise<Response> {
    const url = new URL(req.url);
    if (url.pathname.startsWith("/checkout/")) return this.page(req, url);
    const requestId = this.store.id("req");
    const headers = { "content-type": "application/json", "request-id": requestId, "stripe-version": API_VERSION };
    const auth = req.headers.get("authorization") ?? "";
    // Stripe takes the secret key as a bearer token or as the Basic user (`curl -u sk_test_…:`)
    const basic = auth.startsWith("Basic ") ? atob(auth.slice(6)).replace(/:.*$/, "") : null;
    if (auth !== `Bearer ${this.store.opts.secretKey}` && basic !== this.store.opts.secretKey) {
      return Response.json(
        {
          error: {
            type: "invalid_request_error",
            message: `Invalid API Key provided: ${auth.replace(/^Bearer\s+/, "").slice(0, 8)}***`,
          },
        },
        { status: 401, headers },
      );
    }
    const body =
      req.method === "GET" || req.method === "DELETE"
        ? url.search.slice(1)
        : new TextDecoder().decode(await req.arrayBuffer());
    const key = req.headers.get("idempotency-key");
    const fingerprint = `${req.method} ${url.pathname} ${body}`;
    if (key && req.method === "POST") {
      const prior = this.store.idempotency.get(key);
      if (prior && prior.fingerprint !== fingerprint) {
        return Response.json(
          {
            error: {
              type: "idempotency_error",
              message: `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`,
            },
          },
          { status: 400, headers },
        );
      }
      if (prior)
        return new Response(prior.body, {
          status: prior.status,
          headers: { ...headers, "idempotent-replayed": "true", "idempotency-key": key },
        });
    }
    const { status, json } = this.api(req.method, url.pathname, body);
    if (key && req.method === "POST") this.store.idempotency.set(key, { fingerprint, status, body: json });
    return new Response(json, { status, headers: key ? { ...headers, "idempotency-key": key } : headers });
  }

  private api(method: string, path: string, body: string): { status: number; json: string } {
    const hit = route(method, path);
    if (!hit)
      return {
        status: 404,
        json: JSON.stringify({
          error: { type: "invalid_request_error", message: `Unrecognized request URL (${method}: ${path}).` },
        }),
      };
    try {
      const params = parseForm(body);
      const o = hit.handler(this.store, params, hit.id);
      const expand = list(params.expand).filter((x): x is string => typeof x === "string");
      return { status: 200, json: JSON.stringify(expand.length ? this.store.expand(o, expand) : o) };
    } catch (e) {
      if (e instanceof StripeError) return { status: e.status, json: JSON.stringify({ error: e.body }) };
      return { status: 500, json: JSON.stringify({ error: { type: "api_error", message: String(e) } }) };
    }
  }

  // ---- the hosted checkout page ---------------------------------------------------------------------------------

  private async page(req: Request, url: URL): Promise<Response> {
    const [, , id, step] = url.pathname.split("/");
    const cs = this.store.objects.get(id ?? "");
    if (cs?.object !== "checkout.session") return new Response("Checkout session not found", { status: 404 });
    let result: PageResult = { status: cs.status === "complete" ? "complete" : "open" };
    if (req.method === "POST") {
      const form = parseForm(new TextDecoder().decode(await req.arrayBuffer()));
      result =
        step === "authenticate"
          ? authenticate(this.store, cs, str(form.action) === "complete")
          : payWithCard(this.store, cs, str(form.card_number) ?? "");
    }
    if (result.status === "paid" || result.status === "complete") {
      return new Response(null, {
        status: 303,
        headers: { location: String(cs.success_url).replace("{CHECKOUT_SESSION_ID}", cs.id) },
      });
    }
    return new Response(this.html(cs, result), {
      status: 200,
      headers: { "content-type": "text/html; charset=utf-8", "x-checkout-status": result.status },
    });
  }

  private html(cs: Obj, r: PageResult): string {
    const amount = `$${((cs.amount_total as number) / 100).toFixed(2)}${cs.mode === "subscription" ? " per month" : ""}`;
    const form =
      r.status === "authenticate"
        ? `<p>Your bank asks you to confirm this payment (3-D Secure test).</p>
         <form method="post" action="/checkout/${cs.id}/authenticate"><button name="action" value="complete">Complete authentication</button>
         <button name="action" value="fail">Fail authentication</button></form>`
        : `<form method="post" action="/checkout/${cs.id}">
         <label>Card number <input name="card_number" inputmode="numeric" autocomplete="cc-number" placeholder="4242 4242 4242 4242" required></label>
         <label>Expiry <input name="exp" placeholder="12 / 34"></label> <label>CVC <input name="cvc" placeholder="123"></label>
         <button type="submit">Pay ${esc(amount)}</button></form>`;
    return `<!doctype html><html><head><meta charset="utf-8"><title>Checkout (test mode)</title></head><body>
      <p><strong>TEST MODE</strong>: local Stripe stand-in. 4242 4242 4242 4242 pays, 4000 0000 0000 0002 is declined,
      4000 0027 6000 3155 asks for authentication.</p>
      <h1>Pay ${esc(amount)}</h1>
      ${cs.mode === "payment" ? "<p>Your card is saved for future automatic top-ups you turn on.</p>" : ""}
      ${r.message ? `<p role="alert" class="error">${esc(r.message)}</p>` : ""}
      ${form}</body></html>`;
  }
}
