-- Payments and provider earnings. Money itself stays in the AccountLedger DOs; D1 holds lookups only.
-- A Stripe customer belongs to one account (webhooks that carry no metadata are routed through this map).
CREATE TABLE `billing_customers` (
	`customer_id` text PRIMARY KEY NOT NULL,
	`account_id` text NOT NULL,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`account_id`) REFERENCES `accounts`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `billing_customers_account` ON `billing_customers` (`account_id`);--> statement-breakpoint
-- The provider's share of each settled charge, in basis points (8000 = 80%).
ALTER TABLE `providers` ADD `revenue_share_bp` integer DEFAULT 8000 NOT NULL;--> statement-breakpoint
-- Provider login keys (read earnings and statements), separate from agent tokens.
CREATE TABLE `provider_keys` (
	`id` text PRIMARY KEY NOT NULL,
	`provider_id` text NOT NULL,
	`hash` text NOT NULL,
	`prefix` text NOT NULL,
	`created_at` integer NOT NULL,
	`revoked_at` integer,
	FOREIGN KEY (`provider_id`) REFERENCES `providers`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `provider_keys_hash` ON `provider_keys` (`hash`);
