//! `cairn snapshot …`: the operator's command line over a repository. Progress bars on a
//! terminal, plain lines otherwise (logs, CI, pipes).

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::{
    BackupOptions, ChunkerParams, Error, Hash32, InitOptions, OpenOptions, Progress, Repository,
    VerifyMode,
};

pub const USAGE: &str = "\
Usage: cairn snapshot <command> --repo URL [options]

Commands:
  init                 Create a repository [--key-file F to encrypt] [--compression 1..22]
                       [--chunk-avg BYTES] [--pack-size BYTES]
  backup DIR           Snapshot a directory; files unchanged since its last snapshot are
                       not read again [--force: read everything] [--label TEXT]
  restore ID TARGET    Restore a snapshot into a new or empty directory
  verify ID            Read and check every chunk and file [--sample PERCENT: check a part]
  ls                   List snapshots
  rm ID...             Delete snapshots (their data goes at the next gc)
  gc                   Delete what no snapshot needs [--dry-run]
  check                Check the repository's structure [--read-data: and every byte]

Options:
  --repo URL           file:///path, a path, or s3://bucket/prefix (or CAIRN_SNAPSHOT_REPO).
                       S3 reads AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION and
                       AWS_ENDPOINT_URL.
  --key-file F         The key of an encrypted repository (default: the one its config names)
  --threads N          Worker threads (default: the machine's cores)
  --lock-wait SECONDS  How long to wait for a conflicting lock (default 60)

IDs may be shortened to their first 8 or more hex digits.";

/// Parsed command line: positionals and `--name value` / `--flag` options.
struct Args {
    command: String,
    positional: Vec<String>,
    options: Vec<(String, Option<String>)>,
}

const FLAGS: &[&str] = &["--dry-run", "--read-data", "--force", "--help"];
/// Options that take a value; anything else starting with `--` is a mistake, said as such.
const VALUED: &[&str] = &[
    "--repo",
    "--key-file",
    "--threads",
    "--lock-wait",
    "--compression",
    "--chunk-avg",
    "--pack-size",
    "--sample",
    "--label",
];

impl Args {
    fn parse(args: &[String]) -> Result<Args, String> {
        let mut iter = args.iter();
        let command = iter.next().ok_or("no command given")?.clone();
        let (mut positional, mut options) = (Vec::new(), Vec::new());
        while let Some(arg) = iter.next() {
            if let Some((name, value)) = arg.split_once('=').filter(|_| arg.starts_with("--")) {
                options.push((name.to_owned(), Some(value.to_owned())));
            } else if FLAGS.contains(&arg.as_str()) {
                options.push((arg.clone(), None));
            } else if VALUED.contains(&arg.as_str()) {
                let value = iter
                    .next()
                    .filter(|v| !v.starts_with("--"))
                    .ok_or_else(|| format!("{arg} needs a value"))?;
                options.push((arg.clone(), Some(value.clone())));
            } else if arg.starts_with("--") {
                return Err(format!("unknown option {arg}"));
            } else {
                positional.push(arg.clone());
            }
        }
        Ok(Args {
            command,
            positional,
            options,
        })
    }

    fn value(&self, name: &str) -> Option<&str> {
        self.options
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .and_then(|(_, v)| v.as_deref())
    }

    fn flag(&self, name: &str) -> bool {
        self.options.iter().any(|(n, _)| n == name)
    }

    fn number<T: std::str::FromStr>(&self, name: &str) -> Result<Option<T>, String> {
        self.value(name)
            .map(|v| {
                v.parse::<T>()
                    .map_err(|_| format!("{name} wants a number, got {v:?}"))
            })
            .transpose()
    }

    fn check_known(&self, known: &[&str]) -> Result<(), String> {
        for (name, _) in &self.options {
            if !known.contains(&name.as_str()) {
                return Err(format!("unknown option {name} for `{}`", self.command));
            }
        }
        Ok(())
    }

    fn exactly(&self, n: usize, what: &str) -> Result<&[String], String> {
        if self.positional.len() != n {
            return Err(format!("`{}` takes {what}", self.command));
        }
        Ok(&self.positional)
    }
}

/// Runs `cairn snapshot <args>`; returns the process's exit code (2 for usage errors).
pub async fn run(args: &[String]) -> ExitCode {
    if args.is_empty() || matches!(args[0].as_str(), "-h" | "--help" | "help") {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let args = match Args::parse(args) {
        Ok(args) => args,
        Err(message) => return usage_error(&message),
    };
    match run_command(&args).await {
        Ok(code) => code,
        Err(Failure::Usage(message)) => usage_error(&message),
        Err(Failure::Repo(error)) => {
            eprintln!("cairn snapshot {}: {error}", args.command);
            ExitCode::FAILURE
        }
    }
}

fn usage_error(message: &str) -> ExitCode {
    eprintln!("cairn snapshot: {message} (see `cairn snapshot --help`)");
    ExitCode::from(2)
}

enum Failure {
    Usage(String),
    Repo(Error),
}

impl From<String> for Failure {
    fn from(message: String) -> Self {
        Failure::Usage(message)
    }
}

impl From<Error> for Failure {
    fn from(error: Error) -> Self {
        Failure::Repo(error)
    }
}

const COMMON: &[&str] = &["--repo", "--key-file", "--threads", "--lock-wait"];

async fn run_command(args: &Args) -> Result<ExitCode, Failure> {
    let known = |extra: &[&str]| args.check_known(&[COMMON, extra].concat());
    let url = args
        .value("--repo")
        .map(str::to_owned)
        .or_else(|| {
            std::env::var("CAIRN_SNAPSHOT_REPO")
                .ok()
                .filter(|v| !v.is_empty())
        })
        .ok_or_else(|| "--repo URL is required (or set CAIRN_SNAPSHOT_REPO)".to_owned())?;
    let mut open = OpenOptions {
        key_file: args.value("--key-file").map(PathBuf::from),
        ..OpenOptions::default()
    };
    if let Some(threads) = args.number::<usize>("--threads")? {
        open.threads = threads.max(1);
    }
    if let Some(seconds) = args.number::<u64>("--lock-wait")? {
        open.locks.wait = Duration::from_secs(seconds);
    }

    match args.command.as_str() {
        "init" => {
            known(&["--compression", "--chunk-avg", "--pack-size"])?;
            args.exactly(0, "no arguments")?;
            let mut init = InitOptions {
                key_file: open.key_file.clone(),
                ..InitOptions::default()
            };
            if let Some(level) = args.number("--compression")? {
                init.compression_level = level;
            }
            if let Some(avg) = args.number::<u32>("--chunk-avg")? {
                init.chunker = ChunkerParams {
                    min_size: avg / 4,
                    avg_size: avg,
                    max_size: avg.saturating_mul(4),
                };
            }
            if let Some(size) = args.number("--pack-size")? {
                init.pack_size = size;
            }
            let repo = Repository::init_url(&url, init, open).await?;
            let config = repo.config();
            println!(
                "created repository {} at {} ({}, zstd level {}, {} chunks on average)",
                &config.id[..8],
                repo.location(),
                if config.encryption.is_some() {
                    "encrypted"
                } else {
                    "not encrypted"
                },
                config.compression_level,
                human_bytes(config.chunker.avg_size as u64),
            );
        }
        "backup" => {
            known(&["--force", "--label"])?;
            let source = PathBuf::from(&args.exactly(1, "one directory")?[0]);
            let repo = Repository::open_url(&url, open).await?;
            let bar = ProgressLine::new("backup");
            let options = BackupOptions {
                force_read: args.flag("--force"),
                label: args.value("--label").map(str::to_owned),
                ..BackupOptions::default()
            };
            let summary = repo.backup_with(&source, options, bar.callback()).await?;
            bar.finish();
            let seconds = summary.duration.as_secs_f64().max(1e-6);
            println!(
                "snapshot {} saved: {} files ({} unchanged), {} ({} new, {} stored) in {:.1} s, {}/s",
                summary.id.short(),
                summary.files,
                summary.stats.unchanged_files,
                human_bytes(summary.bytes),
                human_bytes(summary.new_bytes),
                human_bytes(summary.stored_bytes),
                seconds,
                human_bytes((summary.bytes as f64 / seconds) as u64),
            );
        }
        "restore" => {
            known(&[])?;
            let given = args.exactly(2, "a snapshot id and a target directory")?;
            let repo = Repository::open_url(&url, open).await?;
            let id = repo.resolve(&given[0]).await?;
            let started = Instant::now();
            let bar = ProgressLine::new("restore");
            let summary = repo
                .restore(&id, &PathBuf::from(&given[1]), bar.callback())
                .await?;
            bar.finish();
            let seconds = started.elapsed().as_secs_f64().max(1e-6);
            println!(
                "restored snapshot {} into {}: {} files, {} in {:.1} s, {}/s, every chunk and file verified",
                id.short(),
                given[1],
                summary.files,
                human_bytes(summary.bytes),
                seconds,
                human_bytes((summary.bytes as f64 / seconds) as u64),
            );
        }
        "verify" => {
            known(&["--sample"])?;
            let given = args.exactly(1, "a snapshot id")?;
            let mode = match args.number::<u8>("--sample")? {
                Some(percent) if percent <= 100 => VerifyMode::Sample { percent },
                Some(percent) => {
                    return Err(format!("--sample is a percentage, got {percent}").into())
                }
                None => VerifyMode::ReadAll,
            };
            let repo = Repository::open_url(&url, open).await?;
            let id = repo.resolve(&given[0]).await?;
            let report = repo.verify(&id, mode).await?;
            println!(
                "snapshot {} is intact: {} files, {} chunks ({}) read and checked",
                id.short(),
                report.files,
                report.chunks_checked,
                human_bytes(report.bytes_checked)
            );
        }
        "ls" => {
            known(&[])?;
            args.exactly(0, "no arguments")?;
            let repo = Repository::open_url(&url, open).await?;
            let snapshots = repo.list().await?;
            println!(
                "{:<10} {:<20} {:<16} {:>7} {:>10} {:>10}  source [label]",
                "id", "time (UTC)", "host", "files", "size", "stored"
            );
            for s in &snapshots {
                println!(
                    "{:<10} {:<20} {:<16} {:>7} {:>10} {:>10}  {}",
                    s.id.short(),
                    s.time.format("%Y-%m-%d %H:%M:%S"),
                    s.hostname,
                    s.stats.files,
                    human_bytes(s.stats.bytes),
                    human_bytes(s.stats.stored_bytes),
                    match &s.label {
                        Some(label) => format!("{}  [{label}]", s.source),
                        None => s.source.clone(),
                    }
                );
            }
            println!("{} snapshot(s)", snapshots.len());
        }
        "rm" => {
            known(&[])?;
            if args.positional.is_empty() {
                return Err("`rm` takes one or more snapshot ids".to_owned().into());
            }
            let repo = Repository::open_url(&url, open).await?;
            // Resolve all first: a typo in the third id must not leave the first two deleted.
            let mut ids: Vec<Hash32> = Vec::new();
            for given in &args.positional {
                ids.push(repo.resolve(given).await?);
            }
            for id in ids {
                repo.delete(&id).await?;
                println!("deleted snapshot {}", id.short());
            }
            println!("run `cairn snapshot gc` to free the space");
        }
        "gc" => {
            known(&["--dry-run"])?;
            args.exactly(0, "no arguments")?;
            let repo = Repository::open_url(&url, open).await?;
            let plan = repo.gc_plan().await?;
            println!(
                "{} snapshot(s) keep {} chunks; {} pack(s) to delete, {} to rewrite, {} pack(s) kept; about {} to free",
                plan.snapshots,
                plan.live_chunks,
                plan.delete_packs.len(),
                plan.repack.len(),
                plan.keep_packs,
                human_bytes(plan.reclaim_bytes.saturating_sub(plan.repack_bytes))
            );
            if !args.flag("--dry-run") {
                let report = repo.gc().await?;
                println!(
                    "deleted {} pack(s), rewrote {} into {}, freed {}",
                    report.deleted_packs,
                    report.repacked_packs,
                    report.new_packs,
                    human_bytes(report.reclaimed_bytes)
                );
            }
        }
        "check" => {
            known(&["--read-data"])?;
            args.exactly(0, "no arguments")?;
            let repo = Repository::open_url(&url, open).await?;
            let report = repo.check(args.flag("--read-data")).await?;
            for note in &report.notes {
                println!("note: {note}");
            }
            for error in &report.errors {
                println!("error: {error}");
            }
            println!(
                "{} snapshot(s), {} pack(s), {} chunk(s){}: {}",
                report.snapshots,
                report.packs,
                report.chunks,
                if report.read_data {
                    ", every byte read"
                } else {
                    ""
                },
                if report.is_clean() {
                    "no errors".to_owned()
                } else {
                    format!("{} error(s)", report.errors.len())
                }
            );
            if !report.is_clean() {
                return Ok(ExitCode::FAILURE);
            }
        }
        other => return Err(format!("unknown command {other:?}").into()),
    }
    Ok(ExitCode::SUCCESS)
}

/// A progress bar on a terminal; a line every 10 % (at most every 2 s) otherwise.
struct ProgressLine {
    bar: Option<indicatif::ProgressBar>,
    plain: Arc<Mutex<(Instant, u64)>>,
    what: &'static str,
}

impl ProgressLine {
    fn new(what: &'static str) -> ProgressLine {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = indicatif::ProgressBar::new(0);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{prefix} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta} {msg}",
                )
                .expect("a valid template")
                .progress_chars("=> "),
            );
            bar.set_prefix(what);
            bar
        });
        ProgressLine {
            bar,
            plain: Arc::new(Mutex::new((Instant::now(), 0))),
            what,
        }
    }

    fn callback(&self) -> impl Fn(Progress) + Send + Sync + 'static {
        let (bar, plain, what) = (self.bar.clone(), self.plain.clone(), self.what);
        move |p: Progress| match &bar {
            Some(bar) => {
                bar.set_length(p.bytes_total);
                bar.set_position(p.bytes_done);
                bar.set_message(format!("{}/{} files", p.files_done, p.files_total));
            }
            None => {
                // (when last printed, which tenth; 11 once the finished line is out)
                let mut last = plain.lock().expect("not poisoned");
                let tenth = (p.bytes_done.saturating_mul(10) / p.bytes_total.max(1)).min(9);
                let finished = p.bytes_done >= p.bytes_total && p.files_done >= p.files_total;
                let due = tenth > last.1 && last.0.elapsed() >= Duration::from_secs(2);
                if (due && !finished) || (finished && last.1 < 11) {
                    *last = (Instant::now(), if finished { 11 } else { tenth });
                    eprintln!(
                        "{what}: {} of {} ({} of {} files)",
                        human_bytes(p.bytes_done),
                        human_bytes(p.bytes_total),
                        p.files_done,
                        p.files_total
                    );
                }
            }
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// 1536 → "1.5 KiB".
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(text: &str) -> Vec<String> {
        text.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn options_take_values_with_a_space_or_an_equals_sign_and_flags_take_none() {
        let parsed = Args::parse(&args("gc --repo /r --dry-run --threads=3")).unwrap();
        assert_eq!(parsed.value("--repo"), Some("/r"));
        assert_eq!(parsed.value("--threads"), Some("3"));
        assert!(parsed.flag("--dry-run"));
        assert!(parsed.positional.is_empty());
    }

    #[test]
    fn an_option_without_its_value_is_a_usage_error_naming_it() {
        let error = Args::parse(&args("backup /data --repo")).err().unwrap();
        assert!(error.contains("--repo"), "{error}");
    }

    #[test]
    fn an_unknown_option_is_named_and_never_swallows_the_next_one() {
        let error = Args::parse(&args("gc --bogus --repo /r")).err().unwrap();
        assert_eq!(error, "unknown option --bogus");
        let error = Args::parse(&args("ls --repo --threads 2")).err().unwrap();
        assert_eq!(error, "--repo needs a value");
    }

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(3 << 30), "3.0 GiB");
    }
}
