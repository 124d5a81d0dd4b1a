//! Reusable pieces of the console's UI.

mod feedback;
mod page_header;
mod status_badge;
mod time;

pub use feedback::{EmptyState, ErrorPanel, Loading};
pub use page_header::PageHeader;
pub use status_badge::StatusBadge;
pub use time::format_utc;
