//! The store contract ([`super::contract`]) over the in-memory store, so the double the core's
//! tests stand on does what the SQL stores do.

use super::contract::Database;
use super::InMemoryStore;
use crate::Store;
use async_trait::async_trait;
use std::sync::Arc;

/// One in-memory store: opening it again hands out the same store, as a database outlives the
/// processes that open it.
#[derive(Default)]
struct Memory(Arc<InMemoryStore>);

#[async_trait]
impl Database for Memory {
    async fn open(&self) -> Arc<dyn Store> {
        self.0.clone()
    }
}

crate::store_contract!(Some(Memory::default()));
