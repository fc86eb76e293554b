/** @jsxImportSource hono/jsx */
import { when } from "../format.ts";
import { Csrf, Layout } from "../layout.tsx";
import type { KeyRow } from "../services/keys.ts";
import type { ConsoleSession } from "../services/session.ts";

export function KeysPage(p: {
  session: ConsoleSession;
  keys: KeyRow[];
  created?: { key: string; name: string | null };
  message?: string;
}) {
  return (
    <Layout title="API keys" active="keys" session={p.session}>
      <h1>API keys</h1>
      {p.created ? (
        <div class="notice" role="status" id="new-key">
          <p>
            <strong>Your new key{p.created.name ? ` “${p.created.name}”` : ""}.</strong>
            {" Copy it now: it is not shown again."}
          </p>
          <div class="secret">
            <code id="new-key-value">{p.created.key}</code>
            <button type="button" class="secondary" data-copy="new-key-value">
              Copy
            </button>
          </div>
        </div>
      ) : null}
      {p.message ? (
        <p class="notice" role="status">
          {p.message}
        </p>
      ) : null}
      <form method="post" action="/console/keys" class="inline">
        <Csrf session={p.session} />
        <div>
          <label for="key-name">Name</label>
          <input id="key-name" name="name" type="text" maxlength={100} placeholder="e.g. production" />
        </div>
        <button type="submit">Create key</button>
      </form>
      <h2>Your keys</h2>
      <div class="table-wrap" tabindex={0} role="region" aria-label="API keys table">
        <table>
          <thead>
            <tr>
              <th>Name</th>
              <th>Key</th>
              <th>Created</th>
              <th>Last used</th>
              <th>State</th>
              <th>
                <span class="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {p.keys.length === 0 ? (
              <tr>
                <td colspan={6}>No keys yet.</td>
              </tr>
            ) : null}
            {p.keys.map((k) => (
              <tr data-key={k.id}>
                <td>{k.name ?? "—"}</td>
                <td>
                  <code>{k.prefix}…</code>
                </td>
                <td>{when(k.createdAt)}</td>
                <td>{k.lastUsedAt ? when(k.lastUsedAt) : "never"}</td>
                <td>{k.revokedAt ? `revoked ${when(k.revokedAt)}` : "active"}</td>
                <td>
                  {k.revokedAt ? null : (
                    <form
                      method="post"
                      action={`/console/keys/${k.id}/revoke`}
                      data-confirm={`Revoke ${k.name ?? k.prefix}? Requests with it will get 401.`}
                    >
                      <Csrf session={p.session} />
                      <button type="submit" class="danger" aria-label={`Revoke ${k.name ?? k.prefix}`}>
                        Revoke
                      </button>
                    </form>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <h2>Sessions</h2>
      <form
        method="post"
        action="/console/sign-out-everywhere"
        data-confirm="Sign out of the console in every browser?"
      >
        <Csrf session={p.session} />
        <p>
          Signed-in browsers keep a session for 30 days.{" "}
          <button type="submit" class="danger">
            Sign out everywhere
          </button>
        </p>
      </form>
    </Layout>
  );
}
