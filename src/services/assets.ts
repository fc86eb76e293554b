import type { Env } from "../env.ts";

/** The Worker's static assets (public/: the docs' Redoc bundle), for requests that reach the Worker first. */
export class StaticAssets {
  constructor(private env: Env) {}

  /** The asset at `path`, answered as the asset router would (404 for a missing file). */
  get(path: string, requestUrl: string): Promise<Response> {
    return this.env.ASSETS.fetch(new Request(new URL(path, requestUrl)));
  }
}
