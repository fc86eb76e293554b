/** @jsxImportSource hono/jsx */
import { Layout } from "../layout.tsx";
import type { ConsoleSession } from "../services/session.ts";

export function ErrorPage(p: { status: number; title: string; message: string; session?: ConsoleSession | null }) {
  return (
    <Layout title={p.title} session={p.session}>
      <h1>{p.title}</h1>
      <p class="error" role="alert">
        {p.message}
      </p>
      <p>
        <a href="/console/usage">Back to the console</a>
      </p>
    </Layout>
  );
}

/** Pages whose API is not in this version yet (none now: each one listed here gets a placeholder). */
const COMING: Record<string, { title: string; issue: number; what: string; today: string }> = {};

export const COMING_IDS = Object.keys(COMING);

/** An honest placeholder for a page whose API is not in this version: no made-up data. */
export function ComingPage(p: { id: string; session: ConsoleSession }) {
  const c = COMING[p.id]!;
  return (
    <Layout title={c.title} active={p.id} session={p.session}>
      <h1>{c.title}</h1>
      <div class="notice">
        <p>
          <strong>Coming with issue {c.issue}.</strong> {c.what}.
        </p>
        <p>{c.today}</p>
      </div>
    </Layout>
  );
}
