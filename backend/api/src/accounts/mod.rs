//! Accounts: sign-in, sign-out and password changes, dashboard users, API tokens, and which
//! event fields each role sees.

pub mod fields;
pub mod sign_in;
pub mod tokens;
pub mod users;
