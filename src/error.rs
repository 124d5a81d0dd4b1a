//! The console's error: what a server function returns to the page. Core errors are converted
//! here, once; internal details are logged on the server and never sent to the browser.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ConsoleErrorKind {
    NotFound,
    Conflict,
    Invalid,
    Unavailable,
    Internal,
    /// The request never reached the server, or its answer could not be read.
    Transport,
    /// Nobody is signed in (or the session ended).
    Unauthenticated,
    /// The signed-in user's role does not allow this.
    Forbidden,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsoleError {
    pub kind: ConsoleErrorKind,
    pub message: String,
    /// Field name → what is wrong with it, shown next to each input.
    #[serde(default)]
    pub fields: BTreeMap<String, String>,
}

impl ConsoleError {
    /// One field is wrong: the message says so and the field carries the reason.
    pub fn invalid(field: &str, reason: impl Into<String>) -> Self {
        Self::fields(BTreeMap::from([(field.to_owned(), reason.into())]))
    }

    /// Fields that are wrong, each with its reason.
    pub fn fields(fields: BTreeMap<String, String>) -> Self {
        Self {
            kind: ConsoleErrorKind::Invalid,
            message: "Some fields need attention.".into(),
            fields,
        }
    }

    /// What is wrong with one field, if anything.
    pub fn field(&self, name: &str) -> Option<String> {
        self.fields.get(name).cloned()
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self {
            kind: ConsoleErrorKind::Internal,
            message: message.into(),
            fields: BTreeMap::new(),
        }
    }
}

impl fmt::Display for ConsoleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl FromServerFnError for ConsoleError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        Self {
            kind: ConsoleErrorKind::Transport,
            message: value.to_string(),
            fields: BTreeMap::new(),
        }
    }
}

#[cfg(feature = "ssr")]
impl From<cairn_core::Error> for ConsoleError {
    fn from(error: cairn_core::Error) -> Self {
        use cairn_core::{Error, ErrorKind};
        let kind = match error.kind() {
            ErrorKind::NotFound => ConsoleErrorKind::NotFound,
            ErrorKind::Conflict => ConsoleErrorKind::Conflict,
            ErrorKind::Invalid => ConsoleErrorKind::Invalid,
            ErrorKind::Unavailable => ConsoleErrorKind::Unavailable,
            ErrorKind::Internal => ConsoleErrorKind::Internal,
            ErrorKind::Unauthenticated => ConsoleErrorKind::Unauthenticated,
            ErrorKind::Forbidden => ConsoleErrorKind::Forbidden,
        };
        match error {
            Error::Internal { message, source } => {
                tracing::error!(error.detail = %message, error.source = ?source, "internal error while serving the console");
                Self::internal("Something went wrong on the server; its log has the details.")
            }
            Error::Invalid(fields) => Self {
                kind,
                message: "Some fields need attention.".into(),
                fields: fields.into_iter().collect(),
            },
            other => Self {
                kind,
                message: other.to_string(),
                fields: BTreeMap::new(),
            },
        }
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;

    #[test]
    fn internal_details_stay_on_the_server() {
        let error = ConsoleError::from(cairn_core::Error::internal("password=hunter2 refused"));
        assert_eq!(error.kind, ConsoleErrorKind::Internal);
        assert!(!error.message.contains("hunter2"));
    }

    #[test]
    fn field_errors_reach_the_page_one_per_field() {
        let fields = BTreeMap::from([("diskSizeGb".to_string(), "too small".to_string())]);
        let error = ConsoleError::from(cairn_core::Error::Invalid(fields.clone()));
        assert_eq!(error.kind, ConsoleErrorKind::Invalid);
        assert_eq!(error.fields, fields);
    }
}
