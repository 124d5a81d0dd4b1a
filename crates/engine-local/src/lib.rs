//! The embedded engine (provider `local`): cluster nodes as processes on this machine, each
//! owning a volume directory with an event log laid out as KurrentDB lays out its data.
//! Built in steps (issue 5): the node's log and its HTTP API so far.

pub mod cluster;
pub mod engine;
pub mod log;
pub mod node;
pub mod volume;

/// `cairn node …`: parses the arguments and runs the node until it is stopped.
pub async fn node_main(args: &[String]) -> std::process::ExitCode {
    if args.iter().any(|a| a == "-h" || a == "--help") {
        println!("{}", node::NODE_USAGE);
        return std::process::ExitCode::SUCCESS;
    }
    let config = match node::NodeConfig::from_args(args) {
        Ok(config) => config,
        Err(message) => {
            eprintln!("cairn node: {message}\n\n{}", node::NODE_USAGE);
            return std::process::ExitCode::from(2);
        }
    };
    match node::run(config).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("cairn node: {message}");
            std::process::ExitCode::FAILURE
        }
    }
}
