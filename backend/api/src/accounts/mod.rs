//! Accounts: sign-in, sign-out and password changes, dashboard users, and API tokens.

pub mod sign_in;
pub mod tokens;
pub mod users;
