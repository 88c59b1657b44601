ALTER TABLE alert_rules DROP COLUMN seal;
