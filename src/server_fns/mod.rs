//! Server functions: each takes the services from context, calls one use case, converts.
//! On the server they run the body; in the browser they are HTTP calls to `/api/...`.

mod backups;
mod clusters;
mod networks;

pub use backups::{create_backup, get_backup};
pub use clusters::{create_cluster, get_cluster, list_clusters};
pub use networks::list_networks;

use crate::error::ConsoleError;

/// An id from a form or URL, or an error naming the field.
#[cfg_attr(not(feature = "ssr"), allow(dead_code))]
fn parse_id<T, E: std::fmt::Display>(
    field: &str,
    text: &str,
    parse: impl Fn(&str) -> Result<T, E>,
) -> Result<T, ConsoleError> {
    parse(text.trim()).map_err(|error| ConsoleError::invalid(field, format!("'{text}': {error}")))
}
