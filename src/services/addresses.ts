/**
 * Address classification for the outbound policy: which IP literals and host names are public. Pure functions, no
 * bindings, so the policy is the same in every caller and can be tested over many spellings.
 */

/**
 * Parses an IPv4 literal the way inet_aton and the WHATWG URL parser do: one to four dot-separated parts, each
 * decimal, hex (0x) or octal (leading 0), the last part filling the remaining bytes (127.1, 2130706433, 0x7f.1).
 * Returns the 32-bit value, null when the text is not numeric at all, or NaN when it looks numeric but is malformed
 * (such text is refused rather than guessed at, since resolvers differ on it).
 */
export function parseIPv4(host: string): number | null {
  const parts = (host.endsWith(".") ? host.slice(0, -1) : host).split(".");
  // WHATWG's "ends in a number": only then is the host read as an address at all.
  const last = parts[parts.length - 1]!;
  if (!/^[0-9]+$/.test(last) && !/^0x[0-9a-f]*$/i.test(last)) return null;
  if (parts.length > 4) return NaN;
  const nums: number[] = [];
  for (const p of parts) {
    const n = parsePart(p);
    if (n === null) return NaN;
    nums.push(n);
  }
  const tail = nums.pop()!;
  if (nums.some((n) => n > 255) || tail >= 256 ** (4 - nums.length)) return NaN;
  return nums.reduce((acc, n, i) => acc + n * 256 ** (3 - i), 0) + tail;
}

function parsePart(p: string): number | null {
  if (/^0x[0-9a-f]*$/i.test(p)) return p.length === 2 ? 0 : parseInt(p.slice(2), 16);
  if (/^0[0-7]+$/.test(p)) return parseInt(p.slice(1), 8);
  if (/^(0|[1-9][0-9]*)$/.test(p)) return Number(p);
  return null;
}

const v4 = (a: number, b: number, c: number, d: number) => ((a * 256 + b) * 256 + c) * 256 + d;
type Range4 = [base: number, bits: number, why: string];

/** IANA IPv4 special-purpose ranges that are not publicly routable destinations (RFC 6890 and successors). */
const IPV4_BLOCKED: Range4[] = [
  [v4(0, 0, 0, 0), 8, "unspecified"],
  [v4(10, 0, 0, 0), 8, "private"],
  [v4(100, 64, 0, 0), 10, "carrier-grade NAT"],
  [v4(127, 0, 0, 0), 8, "loopback"],
  [v4(169, 254, 0, 0), 16, "link-local"],
  [v4(172, 16, 0, 0), 12, "private"],
  [v4(192, 0, 0, 0), 24, "IETF protocol assignments"],
  [v4(192, 0, 2, 0), 24, "documentation"],
  [v4(192, 88, 99, 0), 24, "6to4 relay"],
  [v4(192, 168, 0, 0), 16, "private"],
  [v4(198, 18, 0, 0), 15, "benchmarking"],
  [v4(198, 51, 100, 0), 24, "documentation"],
  [v4(203, 0, 113, 0), 24, "documentation"],
  [v4(224, 0, 0, 0), 4, "multicast"],
  [v4(240, 0, 0, 0), 4, "reserved"],
];

/** Why an IPv4 address is not public, or null when it is. */
export function classifyIPv4(addr: number): string | null {
  for (const [base, bits, why] of IPV4_BLOCKED) {
    if (Math.floor(addr / 2 ** (32 - bits)) === Math.floor(base / 2 ** (32 - bits))) return why;
  }
  return null;
}

/** Parses an IPv6 literal (no brackets, optional zone refused) into eight 16-bit groups, or null. */
export function parseIPv6(text: string): number[] | null {
  if (!text.includes(":") || text.includes("%")) return null;
  let s = text;
  const lastColon = s.lastIndexOf(":");
  if (s.slice(lastColon + 1).includes(".")) {
    const a = parseDotted(s.slice(lastColon + 1));
    if (a === null) return null;
    s = `${s.slice(0, lastColon + 1)}${Math.floor(a / 65536).toString(16)}:${(a % 65536).toString(16)}`;
  }
  const halves = s.split("::");
  if (halves.length > 2) return null;
  const group = (h: string) => (h === "" ? [] : h.split(":"));
  const head = group(halves[0]!);
  const rest = halves.length === 2 ? group(halves[1]!) : [];
  const all = [...head, ...rest];
  if (all.some((g) => !/^[0-9a-f]{1,4}$/i.test(g))) return null;
  if (halves.length === 1 ? all.length !== 8 : all.length > 7) return null;
  const fill = new Array<number>(8 - all.length).fill(0);
  return [...head, ...fill.map(String), ...rest].map((g) => parseInt(g, 16));
}

/** Strict dotted quad, as allowed inside an IPv6 literal. */
function parseDotted(s: string): number | null {
  const m = s.match(/^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/);
  if (!m) return null;
  const b = m.slice(1).map(Number);
  return b.some((x) => x > 255) ? null : v4(b[0]!, b[1]!, b[2]!, b[3]!);
}

/**
 * Why an IPv6 address is not public, or null when it is. Only global unicast (2000::/3) can pass; inside it the
 * special blocks are refused, and 6to4 is judged by the IPv4 address it carries. Every form that embeds an IPv4
 * address (mapped, compatible, translated, NAT64) is refused outright: a webhook receiver or image host never needs
 * one, and each is a known way around IPv4-only checks.
 */
export function classifyIPv6(g: number[]): string | null {
  const [a, b] = g as [number, number];
  if (g.every((x) => x === 0)) return "unspecified";
  if (g.slice(0, 7).every((x) => x === 0) && g[7] === 1) return "loopback";
  if (g.slice(0, 5).every((x) => x === 0) && (g[5] === 0xffff || g[5] === 0)) return "IPv4-mapped or IPv4-compatible";
  if (g.slice(0, 4).every((x) => x === 0) && g[4] === 0xffff && g[5] === 0) return "IPv4-translated";
  if (a === 0x64 && b === 0xff9b) return "NAT64";
  if ((a & 0xfe00) === 0xfc00) return "unique local";
  if ((a & 0xffc0) === 0xfe80) return "link-local";
  if ((a & 0xffc0) === 0xfec0) return "site-local";
  if ((a & 0xff00) === 0xff00) return "multicast";
  if ((a & 0xe000) !== 0x2000) return "reserved";
  if (a === 0x2001 && b < 0x200) return "IETF protocol assignments";
  if (a === 0x2001 && b === 0xdb8) return "documentation";
  if (a === 0x3fff && b < 0x1000) return "documentation";
  if (a === 0x2002) {
    const inner = classifyIPv4(b * 65536 + g[2]!);
    return inner ? `6to4 of ${inner}` : null;
  }
  return null;
}

/** Single names and suffixes that never name a public host (RFC 6761, RFC 8375, cloud metadata services). */
const BLOCKED_NAMES = new Set([
  "localhost",
  "metadata",
  "instance-data",
  "metadata.google.internal",
  "metadata.goog",
  "metadata.azure.com",
  "kubernetes.default",
  "kubernetes.default.svc",
]);
const BLOCKED_SUFFIXES = [
  ".localhost",
  ".local",
  ".internal",
  ".home.arpa",
  ".arpa",
  ".localdomain",
  ".lan",
  ".intranet",
  ".corp",
  ".test",
  ".invalid",
  ".example",
  ".onion",
  ".svc",
  ".cluster.local",
  ".goog",
];

/** Why a (lower-case, decoded, dot-trimmed) host name is refused, or null when it may be public. */
export function classifyName(name: string): string | null {
  if (BLOCKED_NAMES.has(name)) return name === "localhost" ? "loopback name" : "internal or metadata name";
  for (const s of BLOCKED_SUFFIXES) if (name.endsWith(s)) return `reserved name (*${s})`;
  // A name without a dot is resolved through search domains or hosts files, never the public DNS.
  if (!name.includes(".")) return "single-label name";
  const labels = name.split(".");
  if (!/^[a-z0-9_.-]+$/.test(name) || labels.some((l) => l.length === 0 || l.length > 63)) return "malformed host name";
  return null;
}
