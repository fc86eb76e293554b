-- Catalog as data: an operator's override of a model's moderation policy (NULL: the manifest's), accounts' private
-- ComfyUI models, and the index the model page's speed figures (p50 run time per GPU class) read.
ALTER TABLE `models` ADD `moderation` text;
--> statement-breakpoint
CREATE TABLE `custom_models` (
	`id` text PRIMARY KEY NOT NULL,
	`account_id` text NOT NULL,
	`slug` text NOT NULL,
	`name` text NOT NULL,
	`description` text NOT NULL,
	`workflow` text NOT NULL,
	`inputs` text NOT NULL,
	`input_schema` text NOT NULL,
	`output_type` text NOT NULL,
	`gpu_classes` text NOT NULL,
	`pricing` text NOT NULL,
	`requires` text NOT NULL,
	`max_execution_s` integer NOT NULL,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`account_id`) REFERENCES `accounts`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `custom_models_account_slug` ON `custom_models` (`account_id`,`slug`);
--> statement-breakpoint
CREATE INDEX `requests_model_status` ON `requests` (`model`,`status`,`completed_at`);
