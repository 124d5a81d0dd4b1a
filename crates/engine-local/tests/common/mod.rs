//! Real node processes for the tests, and a minimal HTTP client so they need no client library.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};

/// A node process, killed when dropped.
pub struct NodeProcess {
    pub child: Child,
    pub address: String,
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn start_node(data: &std::path::Path) -> NodeProcess {
    start_node_with(data, &[])
}

/// Starts `cairn-node` on `data` with extra arguments (a role, say).
pub fn start_node_with(data: &std::path::Path, extra: &[&str]) -> NodeProcess {
    let mut child = Command::new(env!("CARGO_BIN_EXE_cairn-node"))
        .args([
            "--data",
            data.to_str().unwrap(),
            "--port",
            "0",
            "--chunk-size",
            "65536",
        ])
        .args(extra)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let address = line
        .trim()
        .strip_prefix("listening on ")
        .expect("the node says where it listens")
        .to_owned();
    NodeProcess { child, address }
}

/// A minimal HTTP/1.1 exchange, so the process test needs no client library.
pub fn http(address: &str, method: &str, path: &str, body: &str) -> std::io::Result<(u16, String)> {
    let mut stream = TcpStream::connect(address)?;
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let status = response
        .get(9..12)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    Ok((status, body))
}

impl NodeProcess {
    /// Sends a signal (STOP, CONT, KILL) to the node.
    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }
}

/// The `n` of every event in `stream` on the node at `address`, in order.
pub fn numbers(address: &str, stream: &str) -> Vec<u64> {
    let (_, body) = http(
        address,
        "GET",
        &format!("/streams/{stream}?count=10000"),
        "",
    )
    .unwrap();
    let read: serde_json::Value = serde_json::from_str(&body).unwrap();
    read["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["data"]["n"].as_u64().unwrap())
        .collect()
}

/// Every file under `root`, sorted (none when it does not exist).
pub fn files_under(root: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_owned()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// Kills the node running on `volume`, if one still does. A pid file outlives its node and
/// pids wrap around (32768 on CI machines), so a bare `kill` of a stale pid may hit another
/// test's node.
pub fn kill_node(volume: &std::path::Path) {
    if cairn_engine_local::cluster::volume_is_free(volume) {
        return;
    }
    if let Some(pid) = std::fs::read_to_string(volume.join("node.pid"))
        .ok()
        .and_then(|t| t.trim().parse::<i32>().ok())
    {
        // SAFETY: a plain signal to the process that holds this test's volume lock.
        unsafe {
            libc::kill(pid, libc::SIGCONT);
            libc::kill(pid, libc::SIGKILL);
        }
    }
}
