//! The core's one error type. Each edge (console, REST API) converts it once.

use std::collections::BTreeMap;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The failure underneath one of ours, kept for logs (`{:#}`/`source()` chains).
pub type Source = Box<dyn std::error::Error + Send + Sync>;

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

impl ErrorKind {
    /// The kind as records spell it (the audit log's refusals): `not-found`, `conflict`, …
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::NotFound => "not-found",
            ErrorKind::Conflict => "conflict",
            ErrorKind::Invalid => "invalid",
            ErrorKind::Unavailable => "unavailable",
            ErrorKind::Internal => "internal",
            ErrorKind::Unauthenticated => "unauthenticated",
            ErrorKind::Forbidden => "forbidden",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{what} {id} was not found")]
    NotFound { what: &'static str, id: String },
    /// Refused by the resource's state (a lock, a status, protection).
    #[error("{message}")]
    Conflict {
        message: String,
        #[source]
        source: Option<Source>,
    },
    /// Field name → what is wrong with it; every broken rule at once.
    #[error("the request is not valid: {}", describe_fields(.0))]
    Invalid(BTreeMap<String, String>),
    #[error("{0}")]
    Unavailable(String),
    /// A failure of an adapter (database, disk). The message is for logs, not for users.
    #[error("internal error: {message}")]
    Internal {
        message: String,
        #[source]
        source: Option<Source>,
    },
    #[error("{0}")]
    Unauthenticated(String),
    #[error("{0}")]
    Forbidden(String),
}

impl Error {
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::NotFound { .. } => ErrorKind::NotFound,
            Error::Conflict { .. } => ErrorKind::Conflict,
            Error::Invalid(_) => ErrorKind::Invalid,
            Error::Unavailable(_) => ErrorKind::Unavailable,
            Error::Internal { .. } => ErrorKind::Internal,
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

    /// Field name → what is wrong with it, for one field.
    pub fn invalid(field: &str, message: impl ToString) -> Self {
        Error::Invalid(BTreeMap::from([(field.to_owned(), message.to_string())]))
    }

    /// Refused by the resource's state, saying why.
    pub fn conflict(message: impl Into<String>) -> Self {
        Error::Conflict {
            message: message.into(),
            source: None,
        }
    }

    /// Refused by the resource's state, as `cause` says (kept as the source).
    pub fn conflict_from(cause: impl std::error::Error + Send + Sync + 'static) -> Self {
        Error::Conflict {
            message: cause.to_string(),
            source: Some(Box::new(cause)),
        }
    }

    /// An adapter failure, described for the log.
    pub fn internal(message: impl std::fmt::Display) -> Self {
        Error::Internal {
            message: message.to_string(),
            source: None,
        }
    }

    /// An adapter failure, keeping its cause as the source.
    pub fn internal_from(cause: impl std::error::Error + Send + Sync + 'static) -> Self {
        Error::Internal {
            message: cause.to_string(),
            source: Some(Box::new(cause)),
        }
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
    fn an_adapter_failure_keeps_its_cause_as_the_source() {
        let cause = std::io::Error::other("disk full");
        let error = Error::internal_from(cause);
        assert_eq!(error.kind(), ErrorKind::Internal);
        assert_eq!(error.to_string(), "internal error: disk full");
        let source = std::error::Error::source(&error).expect("a source");
        assert_eq!(source.to_string(), "disk full");
    }

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
