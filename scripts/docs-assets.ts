/**
 * Copies the API reference's browser bundle (Redoc's standalone build, from npm) into the Worker's static assets, so
 * `/docs` works with no CDN and no internet. Run by `npm install` (postinstall), by `scripts/platform.ts` before
 * `wrangler dev`, and by the vitest config; it is idempotent and cheap (one 1.1 MB copy when the file changed).
 */
import { copyFileSync, existsSync, mkdirSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const ASSETS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "public");
/** Path under the assets dir, and so the URL path the Worker serves it at. */
export const DOCS_SCRIPT = "docs/redoc.standalone.js";

export function copyDocsAssets(): string {
  const require = createRequire(import.meta.url);
  const pkgDir = path.dirname(require.resolve("redoc/package.json"));
  const files = [
    ["bundles/redoc.standalone.js", DOCS_SCRIPT],
    ["LICENSE", "docs/redoc.LICENSE.txt"],
  ] as const;
  for (const [from, to] of files) {
    const src = path.join(pkgDir, from);
    const dst = path.join(ASSETS_DIR, to);
    if (!existsSync(src)) continue;
    if (existsSync(dst) && statSync(dst).size === statSync(src).size && statSync(dst).mtimeMs >= statSync(src).mtimeMs)
      continue;
    mkdirSync(path.dirname(dst), { recursive: true });
    copyFileSync(src, dst);
  }
  return path.join(ASSETS_DIR, DOCS_SCRIPT);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  console.log(`docs assets: ${copyDocsAssets()}`);
}
