//! `cairn-node`: the node alone (what `cairn node` runs), so this crate's tests can start real
//! node processes without building the console.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    cairn_engine_local::node_main(&args).await
}
