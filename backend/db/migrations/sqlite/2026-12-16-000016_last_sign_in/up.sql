-- When each user last signed in, for the Users page.
ALTER TABLE users ADD COLUMN last_sign_in_at TIMESTAMP;
