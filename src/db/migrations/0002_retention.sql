-- Retention: when a request's files (inputs and outputs in R2) were deleted, and an index for the cron's sweep.
ALTER TABLE `requests` ADD `files_deleted_at` integer;
--> statement-breakpoint
CREATE INDEX `requests_completed` ON `requests` (`completed_at`);
