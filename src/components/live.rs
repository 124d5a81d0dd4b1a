//! The console's one always-present island: it makes server-rendered pages live. A visible
//! tab follows `/live`, a server-sent event stream that says when something the project's
//! pages show has changed (statuses, progress, locks, health, history); then, and only then,
//! it fetches the page's own address again and swaps in the regions marked `data-live` that
//! changed, so nothing is reloaded and no other island is touched. A hidden tab closes its
//! stream (browsers allow six connections to a host over HTTP/1.1: ten tabs with a stream
//! each would leave none for pages) and reads its page once when it is shown again. It also
//! shows times in the browser's zone, lets notices fade, and starts the in-page navigation
//! (`navigation.rs`), after which it does all of this again.

use leptos::prelude::*;

#[island]
pub fn Live() -> impl IntoView {
    Effect::new(move |_| {
        #[cfg(feature = "hydrate")]
        browser::start();
    });
    view! { <span hidden data-live-island=""></span> }
}

#[cfg(feature = "hydrate")]
mod browser {
    use crate::components::time::{browser_offset, format_in_zone};
    use leptos::prelude::*;
    use std::cell::RefCell;
    use std::collections::HashMap;
    use std::time::Duration;
    use wasm_bindgen::JsCast;

    /// How often a live page asks for fresh HTML when the browser has no event streams.
    const POLL_EVERY: Duration = Duration::from_secs(2);
    /// How long after a stream was refused (the session ended, the server restarts) it is
    /// opened again. A stream that merely dropped is reopened by the browser itself.
    const FOLLOW_AGAIN: Duration = Duration::from_secs(10);
    /// The event stream's address (see `server/live.rs`).
    const STREAM: &str = "/live";
    /// How long a notice (a toast) stays.
    const NOTICE_FOR: Duration = Duration::from_secs(6);

    thread_local! {
        /// The server's last HTML of each region, so a region is swapped only when it changed
        /// (the page's own copy differs: its times were localized).
        static LAST: RefCell<HashMap<String, String>> = RefCell::new(HashMap::new());
        /// A refresh is under way: a slow server must not get a pile of them, nor an old
        /// answer overwrite a newer one.
        static IN_FLIGHT: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
        /// A change was announced while a refresh was under way: refresh once more after it.
        static AGAIN: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
        /// The open event stream, while the tab is visible, and the address it was opened at
        /// (`/live?project=…`: the project the page works in).
        static FOLLOWING: RefCell<Option<(web_sys::EventSource, String)>> = const { RefCell::new(None) };
    }

    pub fn start() {
        let document = document();
        if let Some(root) = document.document_element() {
            let _ = root.set_attribute("data-hydrated", "true");
        }
        shown();
        crate::components::navigation::start(shown);
        let streams = js_sys::Reflect::has(&window(), &"EventSource".into()).unwrap_or(false);
        if !streams {
            // No event streams here: ask every few seconds, as before there were any.
            let _ = set_interval_with_handle(refresh_soon, POLL_EVERY);
            return;
        }
        follow();
        let visibility = wasm_bindgen::closure::Closure::<dyn Fn()>::new(|| {
            if leptos::prelude::document().hidden() {
                unfollow();
            } else {
                // What changed while hidden is read now; then events again.
                follow();
                refresh_soon();
            }
        });
        let _ = document.add_event_listener_with_callback(
            "visibilitychange",
            visibility.as_ref().unchecked_ref(),
        );
        visibility.forget();
    }

    /// The stream of the project the page's address names (none: the user's first).
    fn stream_address() -> String {
        let search = window().location().search().unwrap_or_default();
        let project = search
            .trim_start_matches('?')
            .split('&')
            .find_map(|pair| pair.strip_prefix("project="))
            .map(str::to_owned);
        crate::components::with_project(STREAM, project.as_deref())
    }

    /// Opens the event stream, unless the tab is hidden or already follows this page's
    /// project; a stream of another project (the page switched project) is closed first.
    fn follow() {
        let address = stream_address();
        let following = FOLLOWING.with(|f| f.borrow().as_ref().map(|(_, at)| at.clone()));
        if document().hidden() || following.as_ref() == Some(&address) {
            return;
        }
        unfollow();
        let Ok(source) = web_sys::EventSource::new(&address) else {
            return;
        };
        let changed = wasm_bindgen::closure::Closure::<dyn Fn()>::new(refresh_soon);
        let _ = source.add_event_listener_with_callback("change", changed.as_ref().unchecked_ref());
        // Opened (also after the browser reconnected): what changed while no stream was open
        // is read once.
        source.set_onopen(Some(changed.as_ref().unchecked_ref()));
        changed.forget();
        let failed = wasm_bindgen::closure::Closure::<dyn Fn()>::new(|| {
            let closed = FOLLOWING.with(|f| {
                f.borrow()
                    .as_ref()
                    .is_some_and(|(s, _)| s.ready_state() == web_sys::EventSource::CLOSED)
            });
            if closed {
                unfollow();
                set_timeout(follow, FOLLOW_AGAIN);
            }
        });
        source.set_onerror(Some(failed.as_ref().unchecked_ref()));
        failed.forget();
        FOLLOWING.with(|f| *f.borrow_mut() = Some((source, address)));
    }

    fn unfollow() {
        if let Some((source, _)) = FOLLOWING.with(|f| f.borrow_mut().take()) {
            source.close();
        }
    }

    /// Reads the page again now, or right after the refresh under way.
    fn refresh_soon() {
        if IN_FLIGHT.with(|f| f.replace(true)) {
            AGAIN.with(|a| a.set(true));
            return;
        }
        leptos::task::spawn_local(async {
            loop {
                refresh().await;
                if !AGAIN.with(|a| a.replace(false)) {
                    break;
                }
            }
            IN_FLIGHT.with(|f| f.set(false));
        });
    }

    /// What a page needs once it is in place, on the first load and after every navigation.
    fn shown() {
        let document = document();
        // Remember the server's HTML before localizing, or every region with a time would
        // look changed on the first refresh.
        LAST.with(|last| last.borrow_mut().clear());
        remember(&document);
        localize_times(&document);
        forget_notice();
        set_timeout(dismiss_notices, NOTICE_FOR);
        // A page of another project (the switcher, two tabs' worth of work) follows that one.
        if FOLLOWING.with(|f| f.borrow().is_some()) {
            follow();
        }
    }

    fn regions(root: &web_sys::Document) -> Vec<web_sys::Element> {
        let Ok(list) = root.query_selector_all("[data-live]") else {
            return Vec::new();
        };
        (0..list.length())
            .filter_map(|i| list.item(i)?.dyn_into::<web_sys::Element>().ok())
            .collect()
    }

    fn remember(document: &web_sys::Document) {
        LAST.with(|last| {
            let mut last = last.borrow_mut();
            for region in regions(document) {
                if let Some(key) = region.get_attribute("data-live") {
                    last.insert(key, region.inner_html());
                }
            }
        });
    }

    async fn refresh() {
        let document = document();
        let navigating = crate::components::navigation::under_way;
        if navigating() {
            // The next page may have been read before the change: look again after it.
            set_timeout(refresh_soon, Duration::from_millis(300));
            return;
        }
        if document.hidden() || regions(&document).is_empty() {
            return;
        }
        let Ok(href) = window().location().href() else {
            return;
        };
        let Ok(response) = gloo_net::http::Request::get(&href)
            .header("accept", "text/html")
            .send()
            .await
        else {
            return;
        };
        if !response.ok() {
            return;
        }
        let Ok(text) = response.text().await else {
            return;
        };
        // The page was left meanwhile: this is the old page's HTML.
        if navigating() || window().location().href().ok().as_ref() != Some(&href) {
            set_timeout(refresh_soon, Duration::from_millis(300));
            return;
        }
        let Ok(parser) = web_sys::DomParser::new() else {
            return;
        };
        let Ok(fresh) = parser.parse_from_string(&text, web_sys::SupportedType::TextHtml) else {
            return;
        };
        let active = document.active_element();
        for region in regions(&document) {
            let Some(key) = region.get_attribute("data-live") else {
                continue;
            };
            let Ok(Some(new)) = fresh.query_selector(&format!("[data-live=\"{key}\"]")) else {
                continue;
            };
            // Never pull the rug from under someone: not while they are in the region, nor
            // while a question (a <details>) is open in it.
            let busy = active
                .as_ref()
                .is_some_and(|a| region.contains(Some(a.unchecked_ref())))
                || region
                    .query_selector("details[open]")
                    .ok()
                    .flatten()
                    .is_some();
            let html = new.inner_html();
            let changed = LAST.with(|last| last.borrow().get(&key) != Some(&html));
            if changed && !busy {
                region.set_inner_html(&html);
                LAST.with(|last| last.borrow_mut().insert(key, html));
            }
        }
        localize_times(&document);
    }

    /// Every `<time datetime>` in the browser's zone; its title keeps the UTC time.
    fn localize_times(document: &web_sys::Document) {
        let Ok(list) = document.query_selector_all("time[datetime]") else {
            return;
        };
        for i in 0..list.length() {
            let Some(element) = list
                .item(i)
                .and_then(|n| n.dyn_into::<web_sys::Element>().ok())
            else {
                continue;
            };
            let Some(time) = element
                .get_attribute("datetime")
                .and_then(|t| chrono::DateTime::parse_from_rfc3339(&t).ok())
            else {
                continue;
            };
            let time = time.with_timezone(&chrono::Utc);
            element.set_text_content(Some(&format_in_zone(time, browser_offset(time))));
        }
    }

    /// Takes `notice` out of the address, so a reload does not show it again.
    fn forget_notice() {
        let location = window().location();
        let (Ok(path), Ok(search)) = (location.pathname(), location.search()) else {
            return;
        };
        if !search.contains("notice=") {
            return;
        }
        let kept: Vec<&str> = search
            .trim_start_matches('?')
            .split('&')
            .filter(|pair| !pair.starts_with("notice="))
            .collect();
        let url = if kept.is_empty() {
            path
        } else {
            format!("{path}?{}", kept.join("&"))
        };
        if let Ok(history) = window().history() {
            let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&url));
        }
    }

    fn dismiss_notices() {
        let Ok(list) = document().query_selector_all("[data-testid=toast]") else {
            return;
        };
        for i in 0..list.length() {
            if let Some(element) = list
                .item(i)
                .and_then(|n| n.dyn_into::<web_sys::Element>().ok())
            {
                element.remove();
            }
        }
    }
}
