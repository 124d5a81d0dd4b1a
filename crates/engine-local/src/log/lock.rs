//! The volume lock: a node holds `volume.lock` (flock) while its log is open, so two nodes
//! never own one volume.

use std::fs::{File, OpenOptions};
use std::path::Path;

use super::{io, LogError};

/// The name of the lock file in a volume.
pub const VOLUME_LOCK: &str = "volume.lock";

pub(super) fn lock_volume(dir: &Path) -> Result<File, LogError> {
    use std::os::fd::AsRawFd;
    let path = dir.join(VOLUME_LOCK);
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(io(&path))?;
    // SAFETY: flock on a descriptor this function owns; released when the file is closed,
    // also when the process dies.
    if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
        return Err(LogError::VolumeInUse(dir.to_owned()));
    }
    Ok(file)
}
