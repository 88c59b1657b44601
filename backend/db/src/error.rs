use thiserror::Error;

/// Everything the storage layer can fail with. The API maps each to its HTTP status; the text of
/// `Database`, `Pool` and `Corrupt` is logged, never sent to clients.
#[derive(Debug, Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    #[error("conflict: {0}")]
    Conflict(String),
    /// The reader may not ask this (e.g. sort by a field withheld from their role); the text says
    /// why, for the client.
    #[error("forbidden: {0}")]
    Forbidden(String),
    #[error("database error: {0}")]
    Database(#[from] diesel::result::Error),
    #[error("database unavailable: {0}")]
    Pool(#[from] diesel::r2d2::PoolError),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

impl StoreError {
    /// Failures that go away by themselves (a lost connection, a lock held past the busy
    /// timeout): the client should retry.
    pub fn is_transient(&self) -> bool {
        use diesel::result::{DatabaseErrorKind, Error};
        match self {
            StoreError::Pool(_) => true,
            StoreError::Database(Error::DatabaseError(
                DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
                _,
            )) => true,
            StoreError::Database(Error::DatabaseError(_, info)) => {
                let message = info.message();
                message.contains("database is locked") || message.contains("terminating connection")
            }
            _ => false,
        }
    }
}

pub type StoreResult<T> = Result<T, StoreError>;
