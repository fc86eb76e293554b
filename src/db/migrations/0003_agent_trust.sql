-- Issue 9 §2: the GPU classes an admin allows each provider, the GPU count an agent registered per job, and the
-- strikes counted against an agent (completions claiming another class or count; inputs it called invalid that the
-- platform had accepted). Providers that existed before keep every class they could register before.
ALTER TABLE `providers` ADD `gpu_classes` text;
--> statement-breakpoint
UPDATE `providers` SET `gpu_classes` = '["cpu","A40","L40S","A100-40","A100-80","H100","other"]' WHERE `gpu_classes` IS NULL;
--> statement-breakpoint
ALTER TABLE `agents` ADD `gpu_count` integer DEFAULT 1 NOT NULL;
--> statement-breakpoint
ALTER TABLE `agents` ADD `rejected_completions` integer DEFAULT 0 NOT NULL;
--> statement-breakpoint
ALTER TABLE `agents` ADD `input_rejections` integer DEFAULT 0 NOT NULL;
--> statement-breakpoint
ALTER TABLE `agents` ADD `deregistered_at` integer;
