/** @jsxImportSource hono/jsx */
import { Layout } from "../layout.tsx";

export function SignInPage(p: { next?: string; error?: string; email?: string }) {
  return (
    <Layout title="Sign in">
      <section class="signin">
        <h1>Sign in</h1>
        <p>We email you a link that signs you in; no password. A new address gets a free account.</p>
        {p.error ? (
          <p class="error" role="alert">
            {p.error}
          </p>
        ) : null}
        <form method="post" action="/console/sign-in">
          <div class="field">
            <label for="email">Email</label>
            <input
              id="email"
              name="email"
              type="email"
              autocomplete="email"
              required
              maxlength={254}
              value={p.email ?? ""}
            />
          </div>
          <input type="hidden" name="next" value={p.next ?? ""} />
          <button type="submit">Email me a sign-in link</button>
        </form>
      </section>
    </Layout>
  );
}

export function CheckEmailPage(p: { email: string }) {
  return (
    <Layout title="Check your email">
      <section class="signin">
        <h1>Check your email</h1>
        <p class="notice" role="status">
          If <strong>{p.email}</strong> can receive mail, a sign-in link is on its way. It works once, within 15
          minutes.
        </p>
        <p>
          <a href="/console/sign-in">Use another address</a>
        </p>
      </section>
    </Layout>
  );
}

/** What a link opens: a button, so that mail scanners which fetch links cannot use them up. */
export function ConfirmPage(p: { email: string | null; token: string; next: string }) {
  return (
    <Layout title="Confirm sign-in">
      <section class="signin">
        {p.email ? (
          <>
            <h1>Sign in as {p.email}</h1>
            <form method="post" action="/console/auth/verify">
              <input type="hidden" name="t" value={p.token} />
              <input type="hidden" name="next" value={p.next} />
              <button type="submit">Sign in</button>
            </form>
          </>
        ) : (
          <>
            <h1>This link no longer works</h1>
            <p class="error" role="alert">
              Sign-in links work once and expire after 15 minutes.
            </p>
            <p>
              <a href="/console/sign-in">Get a new link</a>
            </p>
          </>
        )}
      </section>
    </Layout>
  );
}
