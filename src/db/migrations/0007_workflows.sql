-- Workflows: a draft per workflow, immutable published versions, production/staging aliases, and one row per run
-- (ownership, idempotency and a projection of the outcome; the WorkflowRun Durable Object holds the run's truth).
CREATE TABLE `workflows` (
	`id` text PRIMARY KEY NOT NULL,
	`account_id` text NOT NULL,
	`slug` text NOT NULL,
	`name` text NOT NULL,
	`description` text,
	`draft` text NOT NULL,
	`draft_rev` integer NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`archived_at` integer,
	FOREIGN KEY (`account_id`) REFERENCES `accounts`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `workflows_account_slug` ON `workflows` (`account_id`,`slug`);--> statement-breakpoint
CREATE TABLE `workflow_versions` (
	`workflow_id` text NOT NULL,
	`version` integer NOT NULL,
	`definition` text NOT NULL,
	`created_at` integer NOT NULL,
	PRIMARY KEY (`workflow_id`, `version`),
	FOREIGN KEY (`workflow_id`) REFERENCES `workflows`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE TABLE `workflow_aliases` (
	`workflow_id` text NOT NULL,
	`alias` text NOT NULL,
	`version` integer NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY (`workflow_id`, `alias`),
	FOREIGN KEY (`workflow_id`) REFERENCES `workflows`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE TABLE `workflow_runs` (
	`id` text PRIMARY KEY NOT NULL,
	`account_id` text NOT NULL,
	`workflow_id` text NOT NULL,
	`slug` text NOT NULL,
	`version` integer NOT NULL,
	`mode` text NOT NULL,
	`status` text NOT NULL,
	`idempotency_key` text,
	`body_hash` text,
	`webhook_url` text,
	`base_url` text NOT NULL,
	`created_at` integer NOT NULL,
	`completed_at` integer,
	`charge` integer,
	FOREIGN KEY (`account_id`) REFERENCES `accounts`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `workflow_runs_idempotency` ON `workflow_runs` (`account_id`,`idempotency_key`);--> statement-breakpoint
CREATE INDEX `workflow_runs_account_created` ON `workflow_runs` (`account_id`,`created_at`);
