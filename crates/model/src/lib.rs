//! Cairn's domain model, shared by the server and the browser.
//!
//! Everything here compiles to `wasm32-unknown-unknown` (serde + chrono only), so what the
//! browser shows (label previews, next runs, validation) is computed by the same code the
//! server stores. Wire types follow Kurrent Cloud's API: camelCase JSON, RFC 3339 UTC times.

pub mod access;
pub mod audit;
pub mod catalogue;
pub mod entities;
pub mod grouping;
pub mod ids;
pub mod integrations;
pub mod jobs;
pub mod label;
pub mod paging;
pub mod restore;
pub mod schedule;
pub mod text;
pub mod views;

pub use access::{role_in, ApiToken, Grant, Permission, Role, User};
pub use audit::{
    ActorKind, AuditActor, AuditEntry, AuditFilter, AuditOutcome, AuditPage, SiteEntries,
    AUDIT_PAGE_MAX, AUDIT_PAGE_SIZE,
};
pub use catalogue::*;
pub use entities::*;
pub use grouping::{group_backups, job_groups, GroupedBackups, JobBackups, JobGroup};
pub use ids::*;
pub use integrations::{
    Delivery, DeliveryStatus, EmailSink, Event, EventKind, EventSource, Integration,
    IntegrationRequest, IntegrationView, IssueStatus, Sink, SinkView,
};
pub use jobs::{check_job_request, CreateJobRequest, EditJobData, EditJobRequest};
pub use paging::{Order, Page, PageFilters, PageQuery, PageRequest, PageToken};
pub use restore::{
    check_cluster_description, check_cluster_request, check_restore, CreateClusterRequest,
    FieldErrors,
};
pub use text::{check_text, MAX_NAME_LEN};
pub use views::{
    ClusterOverview, JobDetail, JobOverview, NodeState, ProjectRole, RestoreChoices, RestoredFrom,
};
