//! One module per view of the console.

mod backups;
mod clusters;
mod jobs;
mod networks;
mod not_found;

pub use backups::BackupsPage;
pub use clusters::ClustersPage;
pub use jobs::JobsPage;
pub use networks::NetworksPage;
pub use not_found::NotFoundPage;
