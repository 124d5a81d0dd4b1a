//! The embedded engine (provider `local`): cluster nodes as processes on this machine, each
//! owning a volume directory with an event log laid out as KurrentDB lays out its data.
//! Built in steps (issue 5); this step is the node's log.

pub mod log;
