//! Reusable pieces of the console's UI.

mod confirm;
mod failure;
mod feedback;
pub mod form;
mod lists;
mod live;
#[cfg(feature = "hydrate")]
mod navigation;
mod page_header;
pub mod paging;
pub mod project;
mod status_badge;
mod table;
pub mod time;
mod toast;

pub use confirm::Confirm;
pub use failure::{human_bytes, wire, Failure};
pub use feedback::{EmptyState, ErrorPanel, Loaded, Loading};
pub use form::{Field, FormError, NextRuns};
pub use lists::{BackupList, Detail};
pub use live::Live;
pub use page_header::PageHeader;
pub use paging::{duration_words, page_query, FilterForm, PageLinks};
pub use project::{in_project, named_project, with_project, ProjectField};
pub use status_badge::StatusBadge;
pub use table::{DataTable, Narrow, Table};
pub use time::{ago, format_utc, now, Time};
pub use toast::{url_encode, with_notice, Notice};
