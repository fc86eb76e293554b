/**
 * Edge-cache keys of the authentication lookups (services/edge-cache.ts), apart from the middleware that reads them
 * so that the services that drop an entry (a revoked key, a changed plan) need not import the middleware.
 * The key hash names the key, the account id names its plan (a plan change drops only that entry).
 */
export const apiKeyCacheKey = (hash: string) => `key:${hash}`;
export const planCacheKey = (accountId: string) => `plan:${accountId}`;
export const agentTokenCacheKey = (hash: string) => `agent-token:${hash}`;
export const agentRowCacheKey = (agentId: string) => `agent:${agentId}`;
