//! One module per view of the console.

mod account;
mod audit;
mod backup_dialog;
mod backups;
mod cluster;
mod cluster_changes;
mod cluster_form;
mod clusters;
mod integrations;
mod job_edit;
mod jobs;
mod networks;
mod not_found;

pub use account::{AccountPage, LoginPage, SetupPage, TokensPage};
pub use audit::AuditPage;
pub use backup_dialog::DialogStep;
pub use backups::{BackupPage, BackupsPage};
pub use cluster::ClusterPage;
pub use cluster_form::{ClusterNewPage, RestorePage};
pub use clusters::{ClusterBackupRoute, ClustersPage};
pub use integrations::{EventsPage, IntegrationPage, IntegrationsPage};
pub use jobs::{JobPage, JobsPage};
pub use networks::NetworksPage;
pub use not_found::NotFoundPage;
