import type { Plan } from "../../schemas/index.ts";

/** The caller an API key names (set by requireApiKey). */
export interface AuthedAccount {
  id: string;
  plan: Plan;
  keyId: string;
}

/** The provider a provider key names (set by requireProviderKey). */
export interface AuthedProvider {
  id: string;
}

/** The provider an agent token names (set by requireAgentToken). */
export interface AuthedAgent {
  tokenId: string;
  providerId: string;
}
