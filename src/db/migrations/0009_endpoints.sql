-- Dedicated endpoints: one row per endpoint for listing and ownership (the Endpoint Durable Object holds its truth:
-- instances, metering, money), and the reservation table of agents their providers opted in to dedicated work.
-- `dedicated_agents.endpoint_id` is the exclusive claim: one column per agent, so an agent can never be held by two
-- endpoints, and a reserved agent leases only from its endpoint's pool.
CREATE TABLE `endpoints` (
	`id` text PRIMARY KEY NOT NULL,
	`account_id` text NOT NULL,
	`name` text NOT NULL,
	`model` text NOT NULL,
	`gpu_class` text NOT NULL,
	`price_per_hour` integer NOT NULL,
	`state` text NOT NULL,
	`created_at` integer NOT NULL,
	`deleted_at` integer,
	FOREIGN KEY (`account_id`) REFERENCES `accounts`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `endpoints_account_name` ON `endpoints` (`account_id`,`name`) WHERE `deleted_at` IS NULL;--> statement-breakpoint
CREATE INDEX `endpoints_account_created` ON `endpoints` (`account_id`,`created_at`);--> statement-breakpoint
CREATE TABLE `dedicated_agents` (
	`agent_id` text PRIMARY KEY NOT NULL,
	`gpu_class` text NOT NULL,
	`models` text NOT NULL,
	`last_seen` integer NOT NULL,
	`endpoint_id` text,
	`epoch` integer DEFAULT 0 NOT NULL,
	`reserved_at` integer,
	FOREIGN KEY (`agent_id`) REFERENCES `agents`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `dedicated_agents_free` ON `dedicated_agents` (`gpu_class`,`endpoint_id`,`last_seen`);
