//! Garbage collection, planned then executed, safe against a crash at any point.
//!
//! The plan reads every manifest and index; if any of them cannot be read it refuses, because
//! deleting on partial knowledge is how repositories lose data. Execution, under the exclusive
//! lock (no backup can be between writing a pack and writing its manifest meanwhile):
//!
//! 1. copy the live chunks of mostly-dead packs into new packs;
//! 2. write one index covering every kept and new pack;
//! 3. delete the old index objects;
//! 4. delete the packs that hold nothing live (and the copied ones).
//!
//! A crash after 1 leaves unindexed packs; after 2, duplicate index entries (both copies exist);
//! after 3, packs that no index names. All three are harmless and the next `gc` removes them.

use std::collections::{BTreeMap, HashMap, HashSet};

use bytes::Bytes;

use crate::error::{Error, Result};
use crate::format::{pack_key, ChunkId, Hash32, IndexObject, Location, PackId};
use crate::repo::{canonical_locations, list_packs, Repository};

/// Packs with less than this fraction of live bytes are rewritten.
const REPACK_BELOW_LIVE_FRACTION: f64 = 0.5;
/// Index objects hold at most this many entries, so that none grows without bound.
const INDEX_ENTRIES_PER_OBJECT: usize = 500_000;

/// What `gc` will do. Made by `gc_plan`, carried out by `gc`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GcPlan {
    pub snapshots: usize,
    pub live_chunks: usize,
    /// Packs with nothing live: unreferenced, or left by an interrupted backup.
    pub delete_packs: Vec<PackId>,
    /// Packs whose live chunks move to new packs before they are deleted.
    pub repack: Vec<PackId>,
    pub keep_packs: usize,
    /// Bytes the deletions free (before the repacked chunks are written again).
    pub reclaim_bytes: u64,
    /// Bytes of live chunks copied out of repacked packs.
    pub repack_bytes: u64,
    old_indexes: Vec<Hash32>,
    /// Index entries to keep as they are (chunks in kept packs).
    kept_entries: Vec<(ChunkId, Location)>,
    /// Live chunks to copy, by the pack they are in now.
    to_copy: Vec<(ChunkId, Location)>,
}

impl GcPlan {
    pub fn is_empty(&self) -> bool {
        self.delete_packs.is_empty() && self.repack.is_empty() && self.old_indexes.len() <= 1
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GcReport {
    pub deleted_packs: usize,
    pub repacked_packs: usize,
    pub new_packs: usize,
    pub reclaimed_bytes: u64,
    /// Uploads a killed writer left half-written, removed.
    pub partial_uploads: u64,
}

impl Repository {
    /// What `gc` would do now, without doing it.
    pub async fn gc_plan(&self) -> Result<GcPlan> {
        let refuse = |e: Error| Error::GcRefused(e.to_string());
        let ids = self.snapshot_ids().await?;
        let mut live: HashSet<ChunkId> = HashSet::new();
        let mut needed_by: HashMap<ChunkId, (Hash32, String)> = HashMap::new();
        for id in &ids {
            let manifest = self.load_manifest(id).await.map_err(refuse)?;
            for (entry, _, _, chunks) in manifest.files() {
                for chunk in chunks {
                    if live.insert(*chunk) {
                        needed_by.insert(*chunk, (*id, entry.path.clone()));
                    }
                }
            }
        }
        let index = self.load_index().await.map_err(refuse)?;
        let packs = list_packs(self).await?;
        let canonical = canonical_locations(&index, &packs);
        if let Some(missing) = live.iter().find(|c| !canonical.contains_key(c)) {
            let (snapshot, file) = &needed_by[missing];
            return Err(Error::GcRefused(format!(
                "snapshot {} (file {file}) needs chunk {}, which no index places in an existing pack; \
                 nothing was deleted (run `cairn snapshot check`)",
                snapshot.short(),
                missing.short()
            )));
        }

        let mut live_bytes: HashMap<PackId, u64> = HashMap::new();
        for chunk in &live {
            let location = canonical[chunk];
            *live_bytes.entry(location.pack).or_default() += location.stored_len as u64;
        }
        let mut plan = GcPlan {
            snapshots: ids.len(),
            live_chunks: live.len(),
            ..GcPlan::default()
        };
        let mut kept: HashSet<PackId> = HashSet::new();
        let mut by_id: BTreeMap<PackId, u64> =
            packs.iter().map(|(id, size)| (*id, *size)).collect();
        for (pack, size) in std::mem::take(&mut by_id) {
            let live = live_bytes.get(&pack).copied().unwrap_or(0);
            if live == 0 {
                plan.delete_packs.push(pack);
                plan.reclaim_bytes += size;
            } else if (live as f64) < size as f64 * REPACK_BELOW_LIVE_FRACTION {
                plan.repack.push(pack);
                plan.reclaim_bytes += size;
                plan.repack_bytes += live;
            } else {
                kept.insert(pack);
            }
        }
        plan.keep_packs = kept.len();
        let repacked: HashSet<PackId> = plan.repack.iter().copied().collect();
        let mut seen: HashSet<ChunkId> = HashSet::new();
        for (_, object) in &index.objects {
            for (chunk, location) in &object.entries {
                if kept.contains(&location.pack)
                    && canonical.get(chunk) == Some(location)
                    && seen.insert(*chunk)
                {
                    plan.kept_entries.push((*chunk, *location));
                }
            }
        }
        let mut to_copy: Vec<(ChunkId, Location)> = live
            .iter()
            .map(|c| (*c, canonical[c]))
            .filter(|(_, location)| repacked.contains(&location.pack))
            .collect();
        to_copy.sort_by_key(|(_, l)| (l.pack, l.offset));
        plan.to_copy = to_copy;
        plan.old_indexes = index.objects.iter().map(|(id, _)| *id).collect();
        Ok(plan)
    }

    /// Removes what no snapshot needs. Waits for running backups (they hold shared locks).
    pub async fn gc(&self) -> Result<GcReport> {
        let lock = self.lock(true, "gc").await?;
        let result = async {
            // Under the exclusive lock nobody is writing: any half-written upload is a dead
            // writer's.
            let partial_uploads = self.storage.remove_partial_uploads().await?;
            let plan = self.gc_plan().await?;
            let mut report = self.gc_execute(plan).await?;
            report.partial_uploads = partial_uploads;
            Ok(report)
        }
        .await;
        lock.release().await;
        result
    }

    async fn gc_execute(&self, plan: GcPlan) -> Result<GcReport> {
        let mut report = GcReport::default();
        if plan.is_empty() {
            return Ok(report);
        }
        // 1. Copy live chunks out of mostly-dead packs, checking each on the way.
        let mut entries = plan.kept_entries.clone();
        let mut pack: Vec<u8> = Vec::new();
        let mut pending: Vec<(ChunkId, u32, u32, u32)> = Vec::new();
        let mut current: Option<(PackId, Bytes)> = None;
        for (chunk, location) in &plan.to_copy {
            if current.as_ref().is_none_or(|(id, _)| *id != location.pack) {
                let bytes = self.storage.get(&pack_key(&location.pack)).await?;
                current = Some((location.pack, bytes));
            }
            let (_, bytes) = current.as_ref().expect("just loaded");
            let start = location.offset as usize;
            let stored = bytes
                .get(start..start + location.stored_len as usize)
                .ok_or_else(|| {
                    Error::corrupt(
                        format!("pack {}", location.pack.short()),
                        "shorter than its index says",
                    )
                })?;
            self.codec
                .decode_chunk(chunk, stored, location.raw_len as usize)
                .map_err(|reason| {
                    Error::corrupt(format!("pack {}", location.pack.short()), reason)
                })?;
            pending.push((
                *chunk,
                pack.len() as u32,
                location.stored_len,
                location.raw_len,
            ));
            pack.extend_from_slice(stored);
            if pack.len() >= self.config.pack_size as usize {
                entries.extend(
                    self.write_pack(std::mem::take(&mut pack), std::mem::take(&mut pending))
                        .await?,
                );
                report.new_packs += 1;
            }
        }
        if !pack.is_empty() {
            entries.extend(self.write_pack(pack, pending).await?);
            report.new_packs += 1;
        }
        // 2. One index for everything that stays.
        entries.sort_by_key(|(_, l)| (l.pack, l.offset));
        let mut new_indexes = HashSet::new();
        for part in entries.chunks(INDEX_ENTRIES_PER_OBJECT) {
            new_indexes.insert(
                self.save_index(&IndexObject {
                    entries: part.to_vec(),
                })
                .await?,
            );
        }
        // 3. The old indexes (never one just written with the same contents, hence the same name).
        for old in plan
            .old_indexes
            .iter()
            .filter(|id| !new_indexes.contains(id))
        {
            self.storage.delete(&crate::format::index_key(old)).await?;
        }
        // 4. Packs that nothing needs any more. Never one just written: a gc interrupted after
        //    step 1 left an unindexed pack that this run, copying the same chunks, wrote again
        //    under the same name; it is in the plan's deletions, and now it is needed.
        let written: HashSet<PackId> = entries.iter().map(|(_, l)| l.pack).collect();
        for pack in plan
            .delete_packs
            .iter()
            .chain(&plan.repack)
            .filter(|p| !written.contains(p))
        {
            self.storage.delete(&pack_key(pack)).await?;
        }
        report.deleted_packs = plan.delete_packs.len();
        report.repacked_packs = plan.repack.len();
        report.reclaimed_bytes = plan.reclaim_bytes.saturating_sub(plan.repack_bytes);
        Ok(report)
    }

    /// Stores a pack built by gc; returns the index entries for it.
    async fn write_pack(
        &self,
        pack: Vec<u8>,
        entries: Vec<(ChunkId, u32, u32, u32)>,
    ) -> Result<Vec<(ChunkId, Location)>> {
        let id = Hash32::of(&pack);
        self.storage.put(&pack_key(&id), Bytes::from(pack)).await?;
        Ok(entries
            .into_iter()
            .map(|(chunk, offset, stored_len, raw_len)| {
                (
                    chunk,
                    Location {
                        pack: id,
                        offset,
                        stored_len,
                        raw_len,
                    },
                )
            })
            .collect())
    }
}
