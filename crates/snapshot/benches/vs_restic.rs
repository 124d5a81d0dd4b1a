//! Cairn's snapshot repository against restic, side by side, on a volume shaped like KurrentDB
//! data. Prints figures; asserts nothing (the machine is shared and noisy).
//!
//! `make bench` runs it. Settings: CAIRN_BIN (the release `cairn`), CAIRN_BENCH_MIB (volume
//! size, default 2048), CAIRN_BENCH_DIR (scratch space, default ~/.cache/cairn/bench),
//! CAIRN_BENCH_RUNS (default 3: each figure is the median), CAIRN_BENCH_KEEP=1 (keep the
//! volume and repositories afterwards, to look into them).
//!
//! The volume: chunk files of 240 MiB (KurrentDB's are up to 256 MiB) filled with event
//! records — a binary header, stream name, event type, ids, timestamp, a JSON payload and JSON
//! metadata — and an active chunk half full, plus checkpoint files. "Appending 1 %" adds events
//! to the active chunk and moves the checkpoints, as a running node does.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

const CHUNK_FILE: u64 = 240 << 20;

fn main() {
    let total_mib: u64 = std::env::var("CAIRN_BENCH_MIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2048);
    let cairn =
        PathBuf::from(std::env::var("CAIRN_BIN").expect("CAIRN_BIN: the release cairn binary"));
    let base = std::env::var("CAIRN_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            PathBuf::from(std::env::var("HOME").expect("HOME")).join(".cache/cairn/bench")
        });
    let _ = std::fs::remove_dir_all(&base);
    std::fs::create_dir_all(&base).unwrap();
    let data = base.join("volume");
    let restic_version = run_plain(Command::new("restic").arg("version"));

    let started = Instant::now();
    let mut volume = Volume::create(&data, total_mib << 20);
    let volume_bytes = tree_size(&data);
    println!(
        "volume: {:.2} GiB in {} files, generated in {:.1} s",
        volume_bytes as f64 / (1u64 << 30) as f64,
        count_files(&data),
        started.elapsed().as_secs_f64()
    );

    let key = base.join("cairn.key");
    let tools = [
        Tool::Cairn {
            name: "cairn",
            repo: base.join("repo-cairn"),
            key: None,
            bin: cairn.clone(),
        },
        Tool::Cairn {
            name: "cairn encrypted",
            repo: base.join("repo-cairn-enc"),
            key: Some(key),
            bin: cairn,
        },
        Tool::Restic {
            repo: base.join("repo-restic"),
            cache: base.join("restic-cache"),
        },
    ];
    let runs: usize = std::env::var("CAIRN_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let start_state = volume.mark();
    let mut all: Vec<Vec<Figures>> = tools.iter().map(|_| Vec::new()).collect();
    let mut appended = 0;
    for run in 0..runs {
        eprintln!("run {} of {runs}", run + 1);
        volume.rewind(&start_state);
        let mut results: Vec<Figures> = tools.iter().map(|_| Figures::default()).collect();
        for tool in &tools {
            let _ = std::fs::remove_dir_all(tool.repo());
            tool.init();
        }
        // Each phase runs every tool in turn on the same data, so they see the same page cache.
        // Who goes first rotates from run to run: on this VM the first to touch fresh memory
        // after a big free pays for it, and that must not always be the same tool.
        let order: Vec<usize> = (0..tools.len()).map(|i| (i + run) % tools.len()).collect();
        for &i in &order {
            results[i].full = tools[i].backup(&data);
        }
        let before = tree_size(&data);
        volume.append(before / 100);
        appended = tree_size(&data) - before;
        for &i in &order {
            results[i].incremental = tools[i].backup(&data);
        }
        let expected = describe(&data);
        // Restores into tmpfs measure the tools; restores to disk (plus a sync: Cairn syncs its
        // files, restic leaves them to the kernel) add this machine's shared, noisy disk.
        let in_memory =
            PathBuf::from("/dev/shm").join(format!("cairn-bench-{}", std::process::id()));
        for &i in &order {
            let (tool, figures) = (&tools[i], &mut results[i]);
            figures.restore = tool.restore_command(&in_memory);
            let restored = tool.restored_root(&in_memory, &data);
            assert_eq!(
                describe(&restored),
                expected,
                "{} restored something else",
                tool.name()
            );
            std::fs::remove_dir_all(&in_memory).unwrap();
            let on_disk = base.join("restored");
            figures.restore_disk = tool.restore(&on_disk);
            std::fs::remove_dir_all(&on_disk).unwrap();
            figures.repo_bytes = tree_size(tool.repo());
        }
        for (tool, f) in tools.iter().zip(&results) {
            eprintln!(
                "  {:<17} full {:.2} s, incremental {:.2} s, restore {:.2} s, to disk {:.2} s",
                tool.name(),
                f.full.seconds,
                f.incremental.seconds,
                f.restore.seconds,
                f.restore_disk.seconds
            );
        }
        for (figures, kept) in results.into_iter().zip(&mut all) {
            kept.push(figures);
        }
    }
    let results: Vec<Figures> = all.iter().map(|runs| Figures::median(runs)).collect();

    let volume_now = tree_size(&data);
    println!(
        "appended {:.1} MiB (1 %) to the active chunk between the backups\n",
        appended as f64 / (1 << 20) as f64
    );
    println!(
        "{:<17} {:>16} {:>22} {:>16} {:>16} {:>12} {:>14}",
        "",
        "full backup",
        "incremental (+1 %)",
        "restore",
        "restore to disk",
        "peak memory",
        "repository"
    );
    for (tool, f) in tools.iter().zip(&results) {
        println!(
            "{:<17} {:>11.0} MB/s {:>7.2} s ({:>4.1} % of full) {:>11.0} MB/s {:>11.0} MB/s {:>8} MiB {:>10.1} MiB",
            tool.name(),
            volume_bytes as f64 / 1e6 / f.full.seconds,
            f.incremental.seconds,
            100.0 * f.incremental.seconds / f.full.seconds,
            volume_now as f64 / 1e6 / f.restore.seconds,
            volume_now as f64 / 1e6 / f.restore_disk.seconds,
            [f.full.peak_kib, f.incremental.peak_kib, f.restore.peak_kib, f.restore_disk.peak_kib].iter().max().unwrap()
                / 1024,
            f.repo_bytes as f64 / (1 << 20) as f64,
        );
    }
    let (plain, encrypted, restic) = (&results[0], &results[1], &results[2]);
    println!("\nmedians of {runs} runs; restic: {restic_version}");
    println!(
        "restore: into tmpfs (/dev/shm); restore to disk: into the scratch folder, then `sync`"
    );
    println!("times in seconds: full / incremental / restore / restore to disk");
    for (tool, f) in tools.iter().zip(&results) {
        println!(
            "  {:<17} {:.2} / {:.2} / {:.2} / {:.2}",
            tool.name(),
            f.full.seconds,
            f.incremental.seconds,
            f.restore.seconds,
            f.restore_disk.seconds
        );
    }
    println!("\nratios (cairn / restic; goals in brackets):");
    for (label, ours) in [("cairn", plain), ("cairn encrypted", encrypted)] {
        println!(
            "  {label:<17} backup {:.2}x [>= 2], restore {:.2}x [>= 2] (to disk {:.2}x), incremental {:.1} % of full [<= 5 %], repository {:.3}x restic's [<= 1]",
            restic.full.seconds / ours.full.seconds,
            restic.restore.seconds / ours.restore.seconds,
            restic.restore_disk.seconds / ours.restore_disk.seconds,
            100.0 * ours.incremental.seconds / ours.full.seconds,
            ours.repo_bytes as f64 / restic.repo_bytes as f64,
        );
    }
    if std::env::var_os("CAIRN_BENCH_KEEP").is_none() {
        let _ = std::fs::remove_dir_all(&base);
    }
}

#[derive(Default, Clone, Copy)]
struct Figures {
    full: Run,
    incremental: Run,
    restore: Run,
    restore_disk: Run,
    repo_bytes: u64,
}

impl Figures {
    /// Each figure's median over the runs (the machine is shared: single runs wander).
    fn median(runs: &[Figures]) -> Figures {
        let pick = |get: &dyn Fn(&Figures) -> Run| {
            let mut seconds: Vec<f64> = runs.iter().map(|f| get(f).seconds).collect();
            seconds.sort_by(f64::total_cmp);
            let peak_kib = runs.iter().map(|f| get(f).peak_kib).max().unwrap_or(0);
            Run {
                seconds: seconds[seconds.len() / 2],
                peak_kib,
            }
        };
        Figures {
            full: pick(&|f| f.full),
            incremental: pick(&|f| f.incremental),
            restore: pick(&|f| f.restore),
            restore_disk: pick(&|f| f.restore_disk),
            repo_bytes: runs.last().map(|f| f.repo_bytes).unwrap_or(0),
        }
    }
}

#[derive(Default, Clone, Copy)]
struct Run {
    seconds: f64,
    peak_kib: u64,
}

enum Tool {
    Cairn {
        name: &'static str,
        repo: PathBuf,
        key: Option<PathBuf>,
        bin: PathBuf,
    },
    Restic {
        repo: PathBuf,
        cache: PathBuf,
    },
}

impl Tool {
    fn name(&self) -> &'static str {
        match self {
            Tool::Cairn { name, .. } => name,
            Tool::Restic { .. } => "restic",
        }
    }

    fn repo(&self) -> &Path {
        match self {
            Tool::Cairn { repo, .. } | Tool::Restic { repo, .. } => repo,
        }
    }

    fn command(&self) -> Command {
        match self {
            Tool::Cairn { repo, key, bin, .. } => {
                let mut command = Command::new(bin);
                command
                    .arg("snapshot")
                    .env("CAIRN_SNAPSHOT_REPO", repo)
                    .env("CAIRN_LOG", "warn");
                // An encrypted repository's config names its key file; nothing to pass.
                let _ = key;
                command
            }
            Tool::Restic { repo, cache } => {
                let mut command = Command::new("restic");
                command
                    .env("RESTIC_REPOSITORY", repo)
                    .env("RESTIC_PASSWORD", "cairn-bench")
                    .env("RESTIC_CACHE_DIR", cache)
                    .arg("--quiet");
                command
            }
        }
    }

    fn init(&self) {
        let mut command = self.command();
        match self {
            Tool::Cairn { key: Some(key), .. } => command.args(["init", "--key-file"]).arg(key),
            Tool::Cairn { .. } => command.arg("init"),
            // Repository format 2: compressed, as Cairn's is.
            Tool::Restic { .. } => command.args(["init", "--repository-version", "2"]),
        };
        run_plain(&mut command);
    }

    fn backup(&self, data: &Path) -> Run {
        let mut command = self.command();
        match self {
            Tool::Cairn { .. } => command.arg("backup").arg(data),
            Tool::Restic { .. } => command.args(["backup", "--host", "bench"]).arg(data),
        };
        timed(&mut command)
    }

    /// Restore until the data is on disk: Cairn syncs its files itself, restic leaves them to
    /// the kernel, so each restore is followed by a timed `sync` and the two times added.
    fn restore(&self, target: &Path) -> Run {
        let mut run = self.restore_command(target);
        let started = Instant::now();
        run_plain(&mut Command::new("sync"));
        run.seconds += started.elapsed().as_secs_f64();
        run
    }

    fn restore_command(&self, target: &Path) -> Run {
        let mut command = self.command();
        match self {
            Tool::Cairn { repo, .. } => {
                let listing = run_plain(
                    Command::new(self.bin())
                        .args(["snapshot", "ls", "--repo"])
                        .arg(repo),
                );
                let latest = listing
                    .lines()
                    .rev()
                    .nth(1)
                    .and_then(|l| l.split_whitespace().next())
                    .unwrap()
                    .to_owned();
                command.args(["restore", &latest]).arg(target)
            }
            Tool::Restic { .. } => command.args(["restore", "latest", "--target"]).arg(target),
        };
        timed(&mut command)
    }

    fn bin(&self) -> &Path {
        match self {
            Tool::Cairn { bin, .. } => bin,
            Tool::Restic { .. } => Path::new("restic"),
        }
    }

    /// Where the volume's files are inside a restore target (restic keeps the full path).
    fn restored_root(&self, target: &Path, data: &Path) -> PathBuf {
        match self {
            Tool::Cairn { .. } => target.to_owned(),
            Tool::Restic { .. } => target.join(data.strip_prefix("/").unwrap()),
        }
    }
}

/// Runs under GNU time: wall seconds and peak resident memory.
fn timed(command: &mut Command) -> Run {
    let report = tempfile_path("time");
    let program = command.get_program().to_owned();
    let args: Vec<_> = command.get_args().map(|a| a.to_owned()).collect();
    let envs: Vec<_> = command
        .get_envs()
        .map(|(k, v)| (k.to_owned(), v.map(|v| v.to_owned())))
        .collect();
    let mut timed = Command::new("/usr/bin/time");
    timed
        .args(["-f", "%e %M", "-o"])
        .arg(&report)
        .arg(program)
        .args(args);
    for (key, value) in envs {
        match value {
            Some(value) => timed.env(key, value),
            None => timed.env_remove(key),
        };
    }
    // Everyone starts with no dirty pages of someone else's to write back.
    run_plain(&mut Command::new("sync"));
    let started = Instant::now();
    run_plain(&mut timed);
    let wall = started.elapsed().as_secs_f64();
    let text = std::fs::read_to_string(&report).unwrap();
    let peak_kib = text
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let _ = std::fs::remove_file(&report);
    Run {
        seconds: wall,
        peak_kib,
    }
}

fn run_plain(command: &mut Command) -> String {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("{command:?}: {e}"));
    assert!(
        output.status.success(),
        "{command:?} failed: {}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

fn tempfile_path(what: &str) -> PathBuf {
    std::env::temp_dir().join(format!("cairn-bench-{what}-{}", std::process::id()))
}

/// A KurrentDB-like database directory that can keep growing.
struct Volume {
    dir: PathBuf,
    events: EventWriter,
    chunk: u64,
    chunk_bytes: u64,
    position: u64,
}

impl Volume {
    fn create(dir: &Path, bytes: u64) -> Volume {
        std::fs::create_dir_all(dir.join("index")).unwrap();
        let mut volume = Volume {
            dir: dir.to_owned(),
            events: EventWriter::new(0x5eed),
            chunk: 0,
            chunk_bytes: 0,
            position: 0,
        };
        volume.append(bytes);
        volume
    }

    /// Where the volume is now, to come back to with `rewind`.
    fn mark(&self) -> (u64, u64, u64, u64, u64) {
        (
            self.chunk,
            self.chunk_bytes,
            self.position,
            self.events.state,
            self.events.number,
        )
    }

    /// Back to a marked state: later chunk files removed, the active one truncated.
    fn rewind(
        &mut self,
        &(chunk, chunk_bytes, position, state, number): &(u64, u64, u64, u64, u64),
    ) {
        while self.chunk > chunk {
            std::fs::remove_file(self.chunk_path()).unwrap();
            self.chunk -= 1;
        }
        let file = std::fs::OpenOptions::new()
            .write(true)
            .open(self.chunk_path())
            .unwrap();
        file.set_len(chunk_bytes).unwrap();
        (
            self.chunk_bytes,
            self.position,
            self.events.state,
            self.events.number,
        ) = (chunk_bytes, position, state, number);
        for table in std::fs::read_dir(self.dir.join("index")).unwrap() {
            let table = table.unwrap().path();
            let number = table
                .file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .trim_start_matches("ptable-")
                .parse::<u64>();
            if number.is_ok_and(|n| n > position >> 26) {
                std::fs::remove_file(table).unwrap();
            }
        }
        self.write_checkpoints();
    }

    fn write_checkpoints(&self) {
        for name in [
            "writer.chk",
            "chaser.chk",
            "epoch.chk",
            "proposal.chk",
            "truncate.chk",
        ] {
            std::fs::write(self.dir.join(name), self.position.to_le_bytes()).unwrap();
        }
    }

    fn chunk_path(&self) -> PathBuf {
        self.dir.join(format!("chunk-{:06}.000000", self.chunk))
    }

    /// Appends about `bytes` of events, rolling over to a new chunk file when one is full.
    fn append(&mut self, bytes: u64) {
        let mut left = bytes;
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.chunk_path())
            .unwrap();
        if self.chunk_bytes == 0 {
            file.write_all(&chunk_header(self.chunk)).unwrap();
            self.chunk_bytes = 128;
        }
        let mut buffer = Vec::with_capacity(4 << 20);
        while left > 0 {
            while buffer.len() < 4 << 20 && (buffer.len() as u64) < left {
                self.events
                    .record(self.position + buffer.len() as u64, &mut buffer);
            }
            let room = CHUNK_FILE - self.chunk_bytes;
            let take = (buffer.len() as u64).min(room).min(left) as usize;
            file.write_all(&buffer[..take]).unwrap();
            buffer.drain(..take);
            self.chunk_bytes += take as u64;
            self.position += take as u64;
            left -= take as u64;
            if self.chunk_bytes == CHUNK_FILE {
                self.chunk += 1;
                self.chunk_bytes = 128;
                file = std::fs::File::create(self.chunk_path()).unwrap();
                file.write_all(&chunk_header(self.chunk)).unwrap();
            }
        }
        self.write_checkpoints();
        // A small index file per 64 MiB of log, as index tables (PTables) appear over time.
        let table = self
            .dir
            .join("index")
            .join(format!("ptable-{:04}", self.position >> 26));
        std::fs::write(table, self.events.noise(64 << 10)).unwrap();
    }
}

fn chunk_header(number: u64) -> [u8; 128] {
    let mut header = [0u8; 128];
    header[0] = 1; // file type: chunk
    header[1] = 3; // version
    header[8..16].copy_from_slice(&(CHUNK_FILE as i64).to_le_bytes());
    header[16..24].copy_from_slice(&(number as i64).to_le_bytes());
    header
}

/// Event records: a length-framed binary header, then names and JSON, as a prepare record holds.
struct EventWriter {
    state: u64,
    number: u64,
}

const EVENT_TYPES: &[&str] = &[
    "OrderPlaced",
    "ItemAdded",
    "ItemRemoved",
    "PaymentCaptured",
    "OrderShipped",
    "CustomerRenamed",
];
const CITIES: &[&str] = &[
    "Lisbon", "Oslo", "Dublin", "Tallinn", "Porto", "Lyon", "Ghent", "Turku",
];
const WORDS: &[&str] = &[
    "please", "leave", "at", "door", "gift", "wrap", "fragile", "call", "before", "delivery",
    "back", "entrance", "no", "invoice", "weekend", "only",
];

impl EventWriter {
    fn new(seed: u64) -> Self {
        EventWriter {
            state: seed | 1,
            number: 0,
        }
    }

    fn next(&mut self) -> u64 {
        self.state ^= self.state << 13;
        self.state ^= self.state >> 7;
        self.state ^= self.state << 17;
        self.state
    }

    fn uuid(&mut self) -> String {
        let (a, b) = (self.next(), self.next());
        format!(
            "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            b >> 52,
            b & 0xffff_ffff_ffff
        )
    }

    fn noise(&mut self, len: usize) -> Vec<u8> {
        (0..len / 8)
            .flat_map(|_| self.next().to_le_bytes())
            .collect()
    }

    fn record(&mut self, position: u64, out: &mut Vec<u8>) {
        self.number += 1;
        let stream_no = self.next() % 50_000;
        let stream = format!("order-{stream_no}");
        let event_type = EVENT_TYPES[(self.next() % EVENT_TYPES.len() as u64) as usize];
        let millis = 1_763_990_000_000 + self.number * 7;
        let mut data = String::with_capacity(600);
        let order_id = self.uuid();
        write!(
            data,
            r#"{{"orderId":"{order_id}","customerId":"customer-{}","at":"{}","currency":"EUR","lines":["#,
            self.next() % 20_000,
            chrono::DateTime::from_timestamp_millis(millis as i64).unwrap().format("%Y-%m-%dT%H:%M:%S%.3fZ"),
        )
        .unwrap();
        for line in 0..1 + self.next() % 4 {
            let separator = if line == 0 { "" } else { "," };
            write!(
                data,
                r#"{separator}{{"sku":"SKU-{:05}","qty":{},"price":{}.{:02}}}"#,
                self.next() % 30_000,
                1 + self.next() % 5,
                self.next() % 500,
                self.next() % 100
            )
            .unwrap();
        }
        let note: Vec<&str> = (0..self.next() % 6)
            .map(|_| WORDS[(self.next() % WORDS.len() as u64) as usize])
            .collect();
        write!(
            data,
            r#"],"shipTo":{{"street":"{} Rua {}","city":"{}"}},"note":"{}"}}"#,
            self.next() % 400,
            WORDS[(self.next() % WORDS.len() as u64) as usize],
            CITIES[(self.next() % CITIES.len() as u64) as usize],
            note.join(" ")
        )
        .unwrap();
        let metadata = format!(
            r#"{{"$correlationId":"{}","$causationId":"{}","userId":"user-{}"}}"#,
            self.uuid(),
            self.uuid(),
            self.next() % 5_000
        );
        let start = out.len();
        out.extend_from_slice(&[0; 4]); // length, filled in below
        out.push(0); // prepare record
        out.push(1); // version
        out.extend_from_slice(&(position as i64).to_le_bytes());
        out.extend_from_slice(&(position as i64).to_le_bytes()); // transaction position
        out.extend_from_slice(&((self.number % 1000) as i64).to_le_bytes()); // expected version
        out.extend_from_slice(&(millis as i64 * 10_000).to_le_bytes()); // ticks
        out.extend_from_slice(&self.next().to_le_bytes()); // event id
        out.extend_from_slice(&self.next().to_le_bytes());
        for text in [
            stream.as_bytes(),
            event_type.as_bytes(),
            data.as_bytes(),
            metadata.as_bytes(),
        ] {
            out.extend_from_slice(&(text.len() as u32).to_le_bytes());
            out.extend_from_slice(text);
        }
        let len = (out.len() - start) as u32;
        out[start..start + 4].copy_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&len.to_le_bytes());
    }
}

fn walk(root: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(root).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            walk(&path, out);
        } else {
            out.push(path);
        }
    }
}

fn tree_size(root: &Path) -> u64 {
    let mut files = Vec::new();
    walk(root, &mut files);
    files
        .iter()
        .map(|f| std::fs::metadata(f).unwrap().len())
        .sum()
}

fn count_files(root: &Path) -> usize {
    let mut files = Vec::new();
    walk(root, &mut files);
    files.len()
}

/// Relative path → BLAKE3 of the content, to check that a restore gave back the volume.
fn describe(root: &Path) -> Vec<(PathBuf, String)> {
    let mut files = Vec::new();
    walk(root, &mut files);
    let mut out: Vec<_> = files
        .iter()
        .map(|f| {
            let hash = blake3::hash(&std::fs::read(f).unwrap());
            (
                f.strip_prefix(root).unwrap().to_owned(),
                hash.to_hex().to_string(),
            )
        })
        .collect();
    out.sort();
    out
}
