#![recursion_limit = "256"]
//! Cairn's console: a Leptos app rendered on the server (feature `ssr`) and hydrated in the
//! browser (feature `hydrate`). Pages call server functions; server functions call the core.

pub mod app;
pub mod components;
pub mod error;
pub mod pages;
pub mod server_fns;

#[cfg(feature = "ssr")]
pub mod cli;
#[cfg(feature = "ssr")]
pub mod router;
#[cfg(feature = "ssr")]
pub mod server;

/// Entry point of the WASM bundle: hydrates the islands of the server-rendered page (the
/// rest of the page is plain HTML and stays so).
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
}
