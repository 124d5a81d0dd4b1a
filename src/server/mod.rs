//! Server side only (feature `ssr`): configuration, start-up, and the HTTP router that serves
//! the Leptos pages, the server functions and the static assets.

pub mod config;
mod router;

pub use router::router;

use crate::error::ConsoleError;
use cairn_core::{Scope, Services, SystemClock};
use cairn_store::SqlStore;
use config::Config;
use leptos::prelude::use_context;
use std::sync::Arc;

/// What every server function needs: the core's use cases and the project the console acts in.
#[derive(Clone)]
pub struct Console {
    pub services: Services,
    pub scope: Scope,
}

/// The [`Console`] of the current request; provided to every page render and server fn call.
pub fn console() -> Result<Console, ConsoleError> {
    use_context::<Console>()
        .ok_or_else(|| ConsoleError::internal("the console's services were not provided"))
}

/// Opens the store, seeds what first start needs, and returns the services.
pub async fn open(config: &Config) -> anyhow::Result<Console> {
    use anyhow::Context;
    std::fs::create_dir_all(&config.data_dir).with_context(|| {
        format!(
            "cannot create the data directory {} (set {})",
            config.data_dir.display(),
            config::DATA_DIR
        )
    })?;
    let store = SqlStore::open(&config.database_url).await?;
    tracing::info!(
        store.backend = store.backend(),
        database.url = %cairn_store::redact(&config.database_url),
        "store opened"
    );
    // The embedded engine: clusters are `cairn node` processes of this very binary, with
    // volumes and a snapshot repository per region under the data directory.
    let launcher = cairn_engine_local::cluster::Launcher::this_binary()
        .context("cannot find this program's own path to start cluster nodes with")?;
    let engine =
        cairn_engine_local::engine::LocalEngine::new(config.data_dir.join("regions"), launcher);
    let services = Services::builder(Arc::new(store), Arc::new(SystemClock), config.site.clone())
        .engine(Arc::new(engine))
        .build();
    let scope = services.start().await?;
    Ok(Console { services, scope })
}
