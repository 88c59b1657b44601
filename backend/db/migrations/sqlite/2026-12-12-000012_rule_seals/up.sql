-- Each alert rule carries the server's seal: a signed note, by the log's signing key (which lives
-- outside the database), over the rule's tenant, id and every field an admin sets (destination,
-- header values, secret and filter included). The delivery worker sends nothing for a rule whose
-- seal does not match, so whoever can write to the database, without the key, cannot point a
-- rule at another receiver, move it to another tenant or widen its filter. Rules kept before
-- have none: they are refused until an admin saves them again.
ALTER TABLE alert_rules ADD COLUMN seal TEXT;
