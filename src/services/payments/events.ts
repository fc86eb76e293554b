import type Stripe from "stripe";
import { Plan } from "../../../schemas/index.ts";
import type { Card, StripeEffect } from "../../durable-objects/account-ledger-money.ts";
import { MICRO_PER_CENT, type StripeSetup } from "./stripe.ts";

/** Whose account an event concerns: our metadata when the object carries it, else the Stripe customer. */
export interface Routed {
  account: string | null;
  customer: string | null;
  effect: StripeEffect;
}

const idOf = (v: string | { id: string } | null | undefined): string | null =>
  typeof v === "string" ? v : (v?.id ?? null);
const planOf = (v: string | undefined): Plan | null => {
  const p = Plan.safeParse(v);
  return p.success && (p.data === "pro" || p.data === "business") ? p.data : null;
};

/** The PaymentIntent as Stripe has it now (the event is a snapshot), with its card and charge. */
export async function creditFromIntent(s: StripeSetup, piId: string): Promise<Routed | null> {
  const pi = await s.client.paymentIntents.retrieve(piId, { expand: ["payment_method", "latest_charge"] });
  const kind = pi.metadata?.kind;
  // Subscription invoices are paid by intents too; those are granted per invoice, not credited here.
  if (pi.status !== "succeeded" || (kind !== "recharge" && kind !== "auto_recharge")) return null;
  const pm = typeof pi.payment_method === "object" ? pi.payment_method : null;
  const charge = typeof pi.latest_charge === "object" ? pi.latest_charge : null;
  const card: Card | undefined = pm?.card
    ? { payment_method: pm.id, brand: pm.card.brand, last4: pm.card.last4 }
    : undefined;
  const seq = Number(pi.metadata.seq);
  return {
    account: pi.metadata.account ?? null,
    customer: idOf(pi.customer),
    effect: {
      type: "credit",
      object_id: pi.id,
      amount: pi.amount_received * MICRO_PER_CENT,
      kind: kind === "auto_recharge" ? "auto_recharge" : "card",
      receipt_url: charge?.receipt_url ?? null,
      ...(card ? { card } : {}),
      ...(Number.isSafeInteger(seq) && kind === "auto_recharge" ? { seq } : {}),
      ...(idOf(pi.customer) ? { customer_id: idOf(pi.customer)! } : {}),
    },
  };
}

/**
 * Reduces a verified event to its effect on one account. Amounts come from Stripe's objects (fetched again where the
 * event's snapshot could be stale), never from our own requests. Unknown event types have no effect.
 */
export async function route(s: StripeSetup, event: Stripe.Event): Promise<Routed | null> {
  switch (event.type) {
    case "checkout.session.completed":
    case "checkout.session.async_payment_succeeded": {
      const cs = event.data.object;
      if (cs.mode !== "payment" || cs.payment_status !== "paid" || !cs.payment_intent) return null;
      return creditFromIntent(s, idOf(cs.payment_intent)!);
    }
    case "payment_intent.succeeded":
      return creditFromIntent(s, event.data.object.id);
    case "payment_intent.payment_failed": {
      const pi = event.data.object;
      const seq = Number(pi.metadata?.seq);
      if (pi.metadata?.kind !== "auto_recharge" || !Number.isSafeInteger(seq)) return null;
      const err = pi.last_payment_error;
      return {
        account: pi.metadata.account ?? null,
        customer: idOf(pi.customer),
        effect: {
          type: "payment_failed",
          object_id: pi.id,
          seq,
          code: err?.code ?? "card_declined",
          message: err?.message ?? "payment failed",
        },
      };
    }
    case "invoice.paid": {
      const inv = event.data.object;
      const sd = inv.parent?.subscription_details;
      const plan = planOf(sd?.metadata?.plan);
      if (!sd?.subscription || !plan || inv.amount_paid <= 0) return null;
      const end = inv.lines?.data?.[0]?.period?.end ?? inv.period_end;
      return {
        account: sd.metadata?.account ?? null,
        customer: idOf(inv.customer),
        effect: {
          type: "grant",
          object_id: inv.id!,
          plan,
          subscription_id: idOf(sd.subscription)!,
          period_end: end ? end * 1000 : null,
          receipt_url: inv.hosted_invoice_url ?? null,
        },
      };
    }
    case "customer.subscription.created":
    case "customer.subscription.updated":
    case "customer.subscription.deleted": {
      const sub = event.data.object;
      const plan = planOf(sub.metadata?.plan) ?? "pro";
      const end = sub.items?.data?.[0]?.current_period_end;
      return {
        account: sub.metadata?.account ?? null,
        customer: idOf(sub.customer),
        effect: {
          type: "subscription",
          subscription: {
            id: sub.id,
            plan,
            status: sub.status,
            period_end: end ? end * 1000 : null,
            cancel_at_period_end: sub.cancel_at_period_end,
          },
        },
      };
    }
    case "charge.refunded": {
      const ch = event.data.object;
      return {
        account: ch.metadata?.account ?? null,
        customer: idOf(ch.customer),
        effect: { type: "refund", charge_id: ch.id, amount_refunded: ch.amount_refunded * MICRO_PER_CENT },
      };
    }
    case "charge.dispute.created": {
      const dp = event.data.object;
      // Early fraud warnings ("warning_*") move no money.
      if (dp.status.startsWith("warning_")) return null;
      const ch = await s.client.charges.retrieve(idOf(dp.charge)!);
      return {
        account: ch.metadata?.account ?? null,
        customer: idOf(ch.customer),
        effect: { type: "dispute", object_id: dp.id, amount: dp.amount * MICRO_PER_CENT },
      };
    }
    default:
      return null;
  }
}
