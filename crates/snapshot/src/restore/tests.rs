use super::*;
use crate::format::{Entry, Stamp};

fn entry(path: &str, kind: EntryKind) -> Entry {
    Entry {
        path: path.into(),
        mode: 0o644,
        mtime: 0,
        mtime_nanos: 0,
        stamp: None::<Stamp>,
        kind,
    }
}

fn manifest(entries: Vec<Entry>) -> Manifest {
    Manifest {
        version: crate::format::FORMAT_VERSION,
        time: chrono::Utc::now(),
        hostname: "h".into(),
        source: "/s".into(),
        label: None,
        stats: Default::default(),
        entries,
    }
}

fn file(path: &str) -> Entry {
    let kind = EntryKind::File {
        size: 0,
        hash: Hash32([0; 32]),
        chunks: Vec::new(),
    };
    entry(path, kind)
}

#[test]
fn a_manifest_whose_paths_leave_the_target_is_refused_before_anything_is_written() {
    let id = Hash32([7; 32]);
    let root = || entry("", EntryKind::Dir);
    // Inside the snapshot, but a file is written under it: refused all the same.
    let link = EntryKind::Symlink {
        target: "elsewhere".into(),
    };
    for (bad, why) in [
        (vec![root(), file("../escape")], "leaves the snapshot"),
        (vec![root(), file("/etc/cron.d/x")], "leaves the snapshot"),
        (vec![root(), file("a/./b")], "not plain"),
        (vec![root(), file("x/.")], "not plain"),
        (
            vec![root(), entry("a", link), file("a/passwd")],
            "not under a directory",
        ),
        (vec![root(), file("x"), file("x")], "twice"),
        (
            vec![
                root(),
                entry(
                    "chunk",
                    EntryKind::Symlink {
                        target: "/var/lib/cairn/cairn.db".into(),
                    },
                ),
            ],
            "points outside",
        ),
        (
            vec![
                root(),
                entry("d", EntryKind::Dir),
                entry(
                    "d/up",
                    EntryKind::Symlink {
                        target: "../../etc".into(),
                    },
                ),
            ],
            "points outside",
        ),
        (vec![file("x")], "not under a directory"),
    ] {
        let error = check_paths(&id, &manifest(bad)).unwrap_err();
        assert!(error.to_string().contains(why), "{error}");
    }
    let inside = EntryKind::Symlink {
        target: "../g".into(),
    };
    let good = vec![
        root(),
        entry("d", EntryKind::Dir),
        file("d/f"),
        file("g"),
        entry("d/to-g", inside),
    ];
    check_paths(&id, &manifest(good)).unwrap();
}
