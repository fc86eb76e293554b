import type { Config } from "../../env.ts";

export interface SignInMail {
  to: string;
  link: string;
}

export interface Mailer {
  /** false when the mail could not be handed to the provider; the caller still answers as if it was */
  send(mail: SignInMail): Promise<boolean>;
}

const NOTE = "The link works once, within 15 minutes. If you did not ask for it, ignore this mail.";

function text(link: string): string {
  return `Sign in to the Edge Inference console:\n\n${link}\n\n${NOTE}\n`;
}

const esc = (s: string) =>
  s.replace(/[&<>"]/g, (ch) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[ch]!);

/**
 * Resend's HTTP API (POST /emails with a bearer key; JSON {from, to, subject, text, html}; 200 {id}). The fetch
 * function and base URL are parameters so tests can point it at a local stand-in.
 */
export class ResendMailer implements Mailer {
  constructor(
    private apiKey: string,
    private from: string,
    private fetchFn: typeof fetch = fetch,
    private baseUrl = "https://api.resend.com",
  ) {}

  async send(mail: SignInMail): Promise<boolean> {
    const res = await this.fetchFn(`${this.baseUrl}/emails`, {
      method: "POST",
      headers: { authorization: `Bearer ${this.apiKey}`, "content-type": "application/json" },
      body: JSON.stringify({
        from: this.from,
        to: [mail.to],
        subject: "Your sign-in link",
        text: text(mail.link),
        html:
          `<p>Sign in to the Edge Inference console:</p><p><a href="${esc(mail.link)}">Sign in</a></p>` +
          `<p>${NOTE}</p>`,
      }),
    });
    if (!res.ok) {
      // The provider's message helps the operator; the address is not logged.
      console.error(
        JSON.stringify({
          level: "error",
          msg: "sign-in mail refused",
          provider: "resend",
          status: res.status,
          body: (await res.text()).slice(0, 500),
        }),
      );
      return false;
    }
    return true;
  }
}

/** Outside production with no provider configured, the link goes to the log (wrangler dev's output). */
export class LogMailer implements Mailer {
  async send(mail: SignInMail): Promise<boolean> {
    console.log(`[magic-link] ${mail.to} ${mail.link}`);
    return true;
  }
}

export function mailer(cfg: Config): Mailer | null {
  if (cfg.MAIL_PROVIDER === "resend" && cfg.MAIL_API_KEY && cfg.MAIL_FROM)
    return new ResendMailer(cfg.MAIL_API_KEY, cfg.MAIL_FROM);
  // In production a link must never be written to a log someone else can read.
  return cfg.ENVIRONMENT === "production" ? null : new LogMailer();
}
