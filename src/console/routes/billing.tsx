/** @jsxImportSource hono/jsx */
import { AutoRechargeRequest, CheckoutRequest, SubscriptionRequest } from "../../../schemas/index.ts";
import { ApiError } from "../../errors.ts";
import { baseUrl } from "../../services/urls.ts";
import type { CCtx, ConsoleApp } from "../app.ts";
import { BillingPage, BillingSummary, type BillingNotice } from "../pages/billing.tsx";
import { actor } from "./pages.tsx";

const base = (c: CCtx) => baseUrl(c.var.services.cfg.PUBLIC_BASE_URL, c.req.url);
const testMode = (c: CCtx) => !c.var.services.cfg.STRIPE_SECRET_KEY;
const payments = (c: CCtx) => c.var.services.payments;

/** "12.5" dollars → 1250 cents; NaN for anything that is not a plain amount, so the schema refuses it. */
export function cents(v: unknown): number {
  const s = typeof v === "string" ? v.trim() : "";
  if (!/^\d{1,7}(\.\d{1,2})?$/.test(s)) return Number.NaN;
  const [whole, frac = ""] = s.split(".");
  return Number(whole) * 100 + Number(frac.padEnd(2, "0"));
}

const firstIssue = (e: { issues: { message: string }[] }) => e.issues[0]?.message ?? "invalid input";

async function page(c: CCtx, notice?: BillingNotice, status: 200 | 400 | 404 | 409 = 200) {
  const data = await payments(c).view(actor(c));
  const returned = c.req.query("session_id");
  const cancelled = c.req.query("cancelled");
  notice ??= returned
    ? { kind: "ok", text: "Payment received. Your balance updates as soon as Stripe confirms it (usually seconds)." }
    : cancelled
      ? { kind: "ok", text: "Checkout cancelled: nothing was charged." }
      : undefined;
  return c.html(
    <BillingPage
      session={c.get("session")}
      data={data}
      testMode={testMode(c)}
      notice={notice}
      poll={returned ? 0 : undefined}
    />,
    status,
  );
}

/** Stripe errors and ledger refusals become a message on the page, never a lost form. */
async function attempt(c: CCtx, fn: () => Promise<Response>): Promise<Response> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof ApiError && e.status < 500) return page(c, { kind: "error", text: e.message }, 409);
    throw e;
  }
}

export function registerBilling(app: ConsoleApp) {
  app.get("/billing", (c) => page(c));

  app.get("/billing/summary", async (c) => {
    const poll = Number(c.req.query("poll") ?? "20");
    const data = await payments(c).view(actor(c));
    return c.html(<BillingSummary data={data} poll={Number.isInteger(poll) ? poll : 20} />);
  });

  app.post("/billing/recharge", async (c) => {
    const body = await c.req.parseBody();
    const amount = body.preset === "custom" || !body.preset ? cents(body.custom) : cents(body.preset);
    const parsed = CheckoutRequest.safeParse({ amount });
    if (!parsed.success) {
      const why = Number.isNaN(amount) ? "enter an amount in dollars" : firstIssue(parsed.error);
      return page(c, { kind: "error", text: `Amount: ${why}` }, 400);
    }
    return attempt(c, async () => {
      const cs = await payments(c).checkout(actor(c), parsed.data.amount, base(c), undefined, "/console/billing");
      return c.redirect(cs.url, 303);
    });
  });

  app.post("/billing/subscribe", async (c) => {
    const parsed = SubscriptionRequest.safeParse({ plan: (await c.req.parseBody()).plan });
    if (!parsed.success) return page(c, { kind: "error", text: "Choose Pro or Business." }, 400);
    return attempt(c, async () => {
      const cs = await payments(c).subscribe(actor(c), parsed.data.plan, base(c), undefined, "/console/billing");
      return c.redirect(cs.url, 303);
    });
  });

  app.post("/billing/cancel", (c) =>
    attempt(c, async () => {
      await payments(c).cancel(actor(c));
      return page(c, { kind: "ok", text: "Your subscription ends at the end of its period; your credit stays." });
    }),
  );

  app.post("/billing/auto-recharge", async (c) => {
    const body = await c.req.parseBody();
    const parsed = AutoRechargeRequest.safeParse({
      enabled: body.enabled === "on",
      threshold: cents(body.threshold),
      amount: cents(body.amount),
    });
    if (!parsed.success) return page(c, { kind: "error", text: `Auto-recharge: ${firstIssue(parsed.error)}` }, 400);
    return attempt(c, async () => {
      await payments(c).configureAutoRecharge(actor(c), parsed.data);
      return page(c, { kind: "ok", text: parsed.data.enabled ? "Auto-recharge is on." : "Auto-recharge is off." });
    });
  });
}
