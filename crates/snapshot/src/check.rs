//! `check`: is the repository whole? Errors are damage (a snapshot that would not restore);
//! notes are leftovers that `gc` tidies (packs from an interrupted backup, stale locks).

use std::collections::{HashMap, HashSet};

use crate::error::Result;
use crate::format::{id_from_key, pack_key, Hash32, INDEX, LOCKS};
use crate::repo::{canonical_locations, list_packs};
use crate::repo::{LoadedIndex, Repository};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckReport {
    pub snapshots: usize,
    pub packs: usize,
    pub chunks: usize,
    /// Whether every pack was read and every chunk in it checked.
    pub read_data: bool,
    pub errors: Vec<String>,
    pub notes: Vec<String>,
}

impl CheckReport {
    pub fn is_clean(&self) -> bool {
        self.errors.is_empty()
    }
}

impl Repository {
    /// Checks structure always, and every byte of every pack when `read_data`.
    pub async fn check(&self, read_data: bool) -> Result<CheckReport> {
        let lock = self.lock(false, "check").await?;
        let result = self.check_locked(read_data).await;
        lock.release().await;
        result
    }

    async fn check_locked(&self, read_data: bool) -> Result<CheckReport> {
        let mut report = CheckReport {
            read_data,
            ..CheckReport::default()
        };
        let packs = list_packs(self).await?;
        report.packs = packs.len();

        // Indexes one by one, so that one damaged index is reported and the rest still used.
        let mut index = LoadedIndex::default();
        for listed in self.storage.list(INDEX).await? {
            let Some(id) = id_from_key(&listed.key) else {
                report
                    .errors
                    .push(format!("{}: not named by a hash", listed.key));
                continue;
            };
            match self
                .storage
                .get(&listed.key)
                .await
                .map_err(Into::into)
                .and_then(|b| self.decode_index(&id, &b))
            {
                Ok(object) => index.objects.push((id, object)),
                Err(error) => report.errors.push(error.to_string()),
            }
        }
        index.objects.sort_by_key(|(id, _)| *id);
        let canonical = canonical_locations(&index, &packs);
        report.chunks = canonical.len();

        let mut indexed_packs: HashSet<Hash32> = HashSet::new();
        for (id, object) in &index.objects {
            for (chunk, location) in &object.entries {
                indexed_packs.insert(location.pack);
                if !packs.contains_key(&location.pack) && !canonical.contains_key(chunk) {
                    report.notes.push(format!(
                        "index {} names pack {}, which is gone (gc rewrites the index)",
                        id.short(),
                        location.pack.short()
                    ));
                }
            }
        }
        report.notes.dedup();

        for id in self.snapshot_ids().await? {
            report.snapshots += 1;
            let manifest = match self.load_manifest(&id).await {
                Ok(manifest) => manifest,
                Err(error) => {
                    report.errors.push(error.to_string());
                    continue;
                }
            };
            for (entry, _, _, chunks) in manifest.files() {
                if let Some(missing) = chunks.iter().find(|c| !canonical.contains_key(c)) {
                    report.errors.push(format!(
                        "snapshot {}, file {}: chunk {} is in no existing pack",
                        id.short(),
                        entry.path,
                        missing.short()
                    ));
                }
            }
        }

        let unindexed = packs.keys().filter(|p| !indexed_packs.contains(p)).count();
        if unindexed > 0 {
            report.notes.push(format!(
                "{unindexed} pack(s) are in no index (left by an interrupted backup or gc); gc removes them"
            ));
        }
        for listed in self.storage.list(LOCKS).await? {
            if let Ok(bytes) = self.storage.get(&listed.key).await {
                match crate::lock::read_record(&self.codec, &bytes) {
                    Some(record)
                        if record
                            .is_stale(chrono::Utc::now(), self.lock_settings().stale_after) =>
                    {
                        report.notes.push(format!(
                            "stale lock {} from {} (pid {})",
                            listed.key, record.host, record.pid
                        ))
                    }
                    Some(_) => {}
                    None => report
                        .errors
                        .push(format!("lock {} is unreadable", listed.key)),
                }
            }
        }

        if read_data {
            self.read_all_packs(&index, &packs, &mut report).await?;
        }
        Ok(report)
    }

    /// Every indexed pack: its bytes match its name, and every chunk in it decodes to its hash.
    async fn read_all_packs(
        &self,
        index: &LoadedIndex,
        packs: &HashMap<Hash32, u64>,
        report: &mut CheckReport,
    ) -> Result<()> {
        let mut by_pack: HashMap<Hash32, Vec<(Hash32, crate::format::Location)>> = HashMap::new();
        for (_, object) in &index.objects {
            for (chunk, location) in &object.entries {
                by_pack
                    .entry(location.pack)
                    .or_default()
                    .push((*chunk, *location));
            }
        }
        let mut ids: Vec<&Hash32> = packs.keys().collect();
        ids.sort();
        for pack in ids {
            let bytes = self.storage.get(&pack_key(pack)).await?;
            let codec = self.codec.clone();
            let entries = by_pack.remove(pack).unwrap_or_default();
            let pack = *pack;
            let errors = tokio::task::spawn_blocking(move || {
                if Hash32::of(&bytes) != pack {
                    return vec![format!(
                        "pack {}: contents do not match its name",
                        pack.short()
                    )];
                }
                let mut errors = Vec::new();
                for (chunk, location) in entries {
                    let start = location.offset as usize;
                    let result = match bytes.get(start..start + location.stored_len as usize) {
                        Some(stored) => codec
                            .decode_chunk(&chunk, stored, location.raw_len as usize)
                            .map(|_| ()),
                        None => Err("shorter than its index says".into()),
                    };
                    if let Err(reason) = result {
                        errors.push(format!("pack {}: {reason}", pack.short()));
                    }
                }
                errors
            })
            .await
            .expect("checking a pack does not panic");
            report.errors.extend(errors);
        }
        Ok(())
    }
}
