//! The core's one error type. Each edge (console, REST API) converts it once.

use std::collections::BTreeMap;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What kind of failure, independent of where it happened: edges map this to a status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    NotFound,
    Conflict,
    Invalid,
    Unavailable,
    Internal,
    /// No one is signed in, or the credential is unknown, expired or revoked.
    Unauthenticated,
    /// Signed in, but the role does not allow this.
    Forbidden,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{what} {id} was not found")]
    NotFound { what: &'static str, id: String },
    #[error("{0}")]
    Conflict(String),
    /// Field name → what is wrong with it; every broken rule at once.
    #[error("the request is not valid: {}", describe_fields(.0))]
    Invalid(BTreeMap<String, String>),
    #[error("{0}")]
    Unavailable(String),
    /// A failure of an adapter (database, disk). The message is for logs, not for users.
    #[error("internal error: {0}")]
    Internal(String),
    #[error("{0}")]
    Unauthenticated(String),
    #[error("{0}")]
    Forbidden(String),
}

impl Error {
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::NotFound { .. } => ErrorKind::NotFound,
            Error::Conflict(_) => ErrorKind::Conflict,
            Error::Invalid(_) => ErrorKind::Invalid,
            Error::Unavailable(_) => ErrorKind::Unavailable,
            Error::Internal(_) => ErrorKind::Internal,
            Error::Unauthenticated(_) => ErrorKind::Unauthenticated,
            Error::Forbidden(_) => ErrorKind::Forbidden,
        }
    }

    /// "<what> <id> was not found".
    pub fn not_found(what: &'static str, id: impl ToString) -> Self {
        Error::NotFound {
            what,
            id: id.to_string(),
        }
    }

    /// An adapter failure, keeping the cause's message for the log.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        Error::Internal(cause.to_string())
    }
}

fn describe_fields(fields: &BTreeMap<String, String>) -> String {
    fields
        .iter()
        .map(|(field, message)| format!("{field}: {message}"))
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_invalid_error_names_every_field_in_its_message() {
        let error = Error::Invalid(BTreeMap::from([
            ("diskSizeGb".to_string(), "must be at least 16".to_string()),
            ("networkId".to_string(), "is in another region".to_string()),
        ]));
        assert_eq!(error.kind(), ErrorKind::Invalid);
        assert_eq!(
            error.to_string(),
            "the request is not valid: diskSizeGb: must be at least 16; networkId: is in another region"
        );
    }
}
