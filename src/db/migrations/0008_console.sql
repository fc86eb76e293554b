-- The web console: email magic links and browser sessions. Only SHA-256 hashes of tokens and session ids are stored.
CREATE TABLE `console_magic_links` (
  `token_hash` text PRIMARY KEY NOT NULL,
  `email` text NOT NULL,
  `ip_hash` text NOT NULL,
  `created_at` integer NOT NULL,
  `expires_at` integer NOT NULL,
  `used_at` integer
);
CREATE INDEX `console_magic_links_email` ON `console_magic_links` (`email`, `created_at`);
CREATE INDEX `console_magic_links_ip` ON `console_magic_links` (`ip_hash`, `created_at`);

CREATE TABLE `console_sessions` (
  `id_hash` text PRIMARY KEY NOT NULL,
  `account_id` text NOT NULL REFERENCES `accounts`(`id`),
  `csrf_token` text NOT NULL,
  `created_at` integer NOT NULL,
  `expires_at` integer NOT NULL
);
CREATE INDEX `console_sessions_account` ON `console_sessions` (`account_id`);

-- When a key last authenticated a request, written at most once a minute per key.
ALTER TABLE `api_keys` ADD `last_used_at` integer;
