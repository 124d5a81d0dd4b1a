//! Server functions: each takes the services from context, calls one use case, converts.
//! On the server they run the body; in the browser they are HTTP calls to `/api/...`.

mod clusters;
mod networks;

pub use clusters::list_clusters;
pub use networks::list_networks;
