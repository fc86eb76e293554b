-- Providers sign in to the console by email, as accounts do: the address their magic link goes to. Optional (a
-- provider made before this has none until an operator sets it); at most one provider per address.
ALTER TABLE `providers` ADD COLUMN `email` text;
CREATE UNIQUE INDEX `providers_email` ON `providers` (`email`);
