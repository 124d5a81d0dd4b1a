//! In-page navigation, so the console is one page in the browser: a click on one of our links (or
//! a row that links somewhere), a GET form and the back and forward buttons fetch the next page's
//! server-rendered HTML and swap in its `[data-page]` part — sidebar, content, notice — and its
//! title, keeping the same document (and the live island) instead of loading a new one.
//!
//! Why not Leptos' own islands router: in 0.8 it diffs pages node by node, and our lists (built
//! without keyed markers), tab attributes it never removes and a form button's `formaction` are
//! among what it gets wrong; a whole-part swap cannot misalign. With JavaScript off, links and
//! forms are what they always were, and POST forms stay full page loads here too.

use std::cell::Cell;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{
    Document, Element, HtmlAnchorElement, HtmlFormElement, MouseEvent, SubmitEvent, Url,
};

thread_local! {
    /// Which navigation is the newest: an older one's answer arriving late is dropped.
    static LATEST: Cell<u32> = const { Cell::new(0) };
    /// Whether a navigation is under way (the address may already be the next page's).
    static UNDER_WAY: Cell<bool> = const { Cell::new(false) };
    /// The page shown (path and query): a history step that changes only the `#fragment` is
    /// the browser's to follow.
    static SHOWN: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
}

/// Whether the page is being replaced now: the live refresher waits.
pub fn under_way() -> bool {
    UNDER_WAY.with(Cell::get)
}

/// Listens for navigations; `shown` runs after each page swap (times, notices, live regions).
pub fn start(shown: fn()) {
    let document = leptos::prelude::document();
    let on_click = Closure::<dyn Fn(MouseEvent)>::new(move |ev: MouseEvent| {
        if let Some(url) = clicked(&ev) {
            ev.prevent_default();
            go(url, Step::Push, shown);
        }
    });
    let on_submit = Closure::<dyn Fn(SubmitEvent)>::new(move |ev: SubmitEvent| {
        if let Some(url) = submitted(&ev) {
            ev.prevent_default();
            go(url, Step::Push, shown);
        }
    });
    // A select marked `data-submit-on-change` (the restore form's project) submits its form
    // when chosen; without JavaScript its form's button does.
    let on_change = Closure::<dyn Fn(web_sys::Event)>::new(move |ev: web_sys::Event| {
        let Some(select) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlSelectElement>().ok())
        else {
            return;
        };
        if select.has_attribute("data-submit-on-change") {
            if let Some(form) = select.form() {
                let _ = form.request_submit();
            }
        }
    });
    let on_pop = Closure::<dyn Fn(web_sys::PopStateEvent)>::new(move |_| {
        if let Ok(url) = current() {
            if SHOWN.with(|shown| *shown.borrow() != url) {
                go(url, Step::Pop, shown);
            }
        }
    });
    if let Ok(url) = current() {
        SHOWN.with(|shown| *shown.borrow_mut() = url);
    }
    let _ = document.add_event_listener_with_callback("click", on_click.as_ref().unchecked_ref());
    let _ = document.add_event_listener_with_callback("submit", on_submit.as_ref().unchecked_ref());
    let _ = document.add_event_listener_with_callback("change", on_change.as_ref().unchecked_ref());
    let _ = leptos::prelude::window()
        .add_event_listener_with_callback("popstate", on_pop.as_ref().unchecked_ref());
    // They live as long as the page does.
    on_click.forget();
    on_submit.forget();
    on_change.forget();
    on_pop.forget();
    // Back to a page: its scroll position is restored here, not by the browser's guess.
    if let Ok(history) = leptos::prelude::window().history() {
        let _ = history.set_scroll_restoration(web_sys::ScrollRestoration::Manual);
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Step {
    Push,
    Pop,
}

fn current() -> Result<String, JsValue> {
    let location = leptos::prelude::window().location();
    Ok(format!("{}{}", location.pathname()?, location.search()?))
}

/// Where a plain left click goes, when it is ours to handle: a link of this site to a console
/// page, or a row whose `a[data-row-link]` says where it leads (not when the click was on one
/// of the row's own controls).
fn clicked(ev: &MouseEvent) -> Option<String> {
    if ev.default_prevented()
        || ev.button() != 0
        || ev.meta_key()
        || ev.ctrl_key()
        || ev.shift_key()
        || ev.alt_key()
    {
        return None;
    }
    let target: Element = ev.target()?.dyn_into().ok()?;
    let anchor = match target.closest("a[href]").ok()? {
        Some(anchor) => anchor,
        None => {
            let controls = "button, input, select, textarea, summary, details, label, form";
            if target.closest(controls).ok()?.is_some() {
                return None;
            }
            // Selecting a row's text (to copy an id) is not a click on the row.
            let selected = leptos::prelude::window()
                .get_selection()
                .ok()
                .flatten()
                .is_some_and(|s| !String::from(s.to_string()).is_empty());
            if selected {
                return None;
            }
            target
                .closest("tr")
                .ok()??
                .query_selector("a[data-row-link]")
                .ok()??
        }
    };
    if anchor.has_attribute("target")
        || anchor.has_attribute("download")
        || anchor.has_attribute("data-reload")
    {
        return None;
    }
    let href = anchor.dyn_into::<HtmlAnchorElement>().ok()?.href();
    ours(&href, true)
}

/// Where a GET form goes (its fields as the query), unless the button pressed posts elsewhere.
fn submitted(ev: &SubmitEvent) -> Option<String> {
    if ev.default_prevented() {
        return None;
    }
    if let Some(button) = ev.submitter() {
        let button: Element = button.dyn_into().ok()?;
        if button.has_attribute("formaction") || button.has_attribute("formmethod") {
            return None;
        }
    }
    let form: HtmlFormElement = ev.target()?.dyn_into().ok()?;
    if !form.method().eq_ignore_ascii_case("get") || form.has_attribute("target") {
        return None;
    }
    let data = web_sys::FormData::new_with_form(&form).ok()?;
    let query = web_sys::UrlSearchParams::new_with_str_sequence_sequence(&data).ok()?;
    let url = Url::new(&form.action()).ok()?;
    url.set_search(&String::from(query.to_string()));
    ours(&url.href(), false)
}

/// `href` as a path and query when it is one of the console's pages on this site.
fn ours(href: &str, from_link: bool) -> Option<String> {
    let url = Url::new(href).ok()?;
    let location = leptos::prelude::window().location();
    if url.origin() != location.origin().ok()? {
        return None;
    }
    let path = url.pathname();
    let not_pages = [
        "/api/", "/pkg/", "/logout", "/oauth/", "/metrics", "/healthz",
    ];
    if not_pages.iter().any(|p| path.starts_with(p)) || path.contains('.') {
        return None;
    }
    let there = format!("{path}{}", url.search());
    // A link to a place on this same page is the browser's to follow.
    if from_link && !url.hash().is_empty() && Some(&there) == current().ok().as_ref() {
        return None;
    }
    Some(format!("{there}{}", url.hash()))
}

fn go(url: String, step: Step, shown: fn()) {
    let turn = LATEST.with(|latest| {
        latest.set(latest.get().wrapping_add(1));
        latest.get()
    });
    if step == Step::Push {
        remember_scroll();
    }
    UNDER_WAY.with(|under_way| under_way.set(true));
    leptos::task::spawn_local(async move {
        let swapped = swap(&url, step, turn).await;
        if LATEST.with(Cell::get) != turn {
            return;
        }
        UNDER_WAY.with(|under_way| under_way.set(false));
        if swapped.is_ok() {
            shown();
        } else {
            // Anything unexpected (an error page, the network): let the browser load it.
            let _ = leptos::prelude::window().location().assign(&url);
        }
    });
}

/// Fetches `url`'s page and puts it in place of this one. `Err` when it should be loaded the
/// ordinary way instead; `Ok` also when a newer navigation overtook this one.
async fn swap(url: &str, step: Step, turn: u32) -> Result<(), ()> {
    let response = gloo_net::http::Request::get(url)
        .header("accept", "text/html")
        .send()
        .await
        .map_err(|_| ())?;
    let html = response
        .headers()
        .get("content-type")
        .is_some_and(|t| t.starts_with("text/html"));
    // Not found is a page of ours too; other failures are shown as the server sent them.
    if !html || !(response.ok() || response.status() == 404) {
        return Err(());
    }
    let text = response.text().await.map_err(|_| ())?;
    if LATEST.with(Cell::get) != turn {
        return Ok(());
    }
    let parser = web_sys::DomParser::new().map_err(|_| ())?;
    let fresh = parser
        .parse_from_string(&text, web_sys::SupportedType::TextHtml)
        .map_err(|_| ())?;
    let document = leptos::prelude::document();
    let (Some(old), Some(new)) = (page(&document), page(&fresh)) else {
        return Err(());
    };
    // Where the server sent us (a sign-in page, a page after a redirect) is the address; the
    // fragment asked for stays (fetch drops it).
    let hash = url.find('#').map_or("", |at| &url[at..]);
    let landed = Url::new(&response.url())
        .map(|u| format!("{}{}{hash}", u.pathname(), u.search()))
        .unwrap_or_else(|_| url.to_owned());
    if let Ok(history) = leptos::prelude::window().history() {
        if step == Step::Push {
            let _ = history.push_state_with_url(&JsValue::NULL, "", Some(&landed));
        } else if landed != url {
            let _ = history.replace_state_with_url(&JsValue::NULL, "", Some(&landed));
        }
    }
    old.set_inner_html(&new.inner_html());
    document.set_title(&fresh.title());
    if let Ok(shown) = current() {
        SHOWN.with(|s| *s.borrow_mut() = shown);
    }
    hydrate_islands(&old);
    settle_view(&document, step, hash);
    Ok(())
}

fn page(document: &Document) -> Option<Element> {
    document.query_selector("[data-page]").ok().flatten()
}

/// The islands in the new part (the backup dialog, the networks filter) come alive, as on a
/// first load, through the hook Leptos' island script leaves for this.
fn hydrate_islands(root: &Element) {
    let window = leptos::prelude::window();
    let Ok(hook) = js_sys::Reflect::get(&window, &JsValue::from_str("__hydrateIsland")) else {
        return;
    };
    let Some(hook) = hook.dyn_ref::<js_sys::Function>() else {
        return;
    };
    let Ok(islands) = root.query_selector_all("leptos-island") else {
        return;
    };
    for i in 0..islands.length() {
        let Some(island) = islands.item(i).and_then(|n| n.dyn_into::<Element>().ok()) else {
            continue;
        };
        let component = island.get_attribute("data-component").unwrap_or_default();
        let _ = hook.call2(&JsValue::NULL, &island, &JsValue::from_str(&component));
    }
}

/// A new page starts at its top with the keyboard at its heading (as a screen reader expects);
/// back and forward return to where the page was left.
fn settle_view(document: &Document, step: Step, hash: &str) {
    let window = leptos::prelude::window();
    let saved = window
        .history()
        .ok()
        .and_then(|h| h.state().ok())
        .and_then(|state| js_sys::Reflect::get(&state, &JsValue::from_str("scrollY")).ok())
        .and_then(|y| y.as_f64());
    let target = hash
        .strip_prefix('#')
        .filter(|id| !id.is_empty())
        .and_then(|id| document.get_element_by_id(id));
    match (step, saved, target) {
        (Step::Pop, Some(y), _) => window.scroll_to_with_x_and_y(0.0, y),
        (_, _, Some(target)) => target.scroll_into_view(),
        _ => window.scroll_to_with_x_and_y(0.0, 0.0),
    }
    if step == Step::Push {
        if let Ok(Some(heading)) = document.query_selector("main h1") {
            let _ = heading.set_attribute("tabindex", "-1");
            if let Ok(heading) = heading.dyn_into::<web_sys::HtmlElement>() {
                let options = web_sys::FocusOptions::new();
                options.set_prevent_scroll(true);
                let _ = heading.focus_with_options(&options);
            }
        }
    }
}

/// Keeps this page's scroll position in its history entry, for coming back to it.
fn remember_scroll() {
    let window = leptos::prelude::window();
    let (Ok(history), Ok(y)) = (window.history(), window.scroll_y()) else {
        return;
    };
    let state = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&state, &JsValue::from_str("scrollY"), &JsValue::from_f64(y));
    let _ = history.replace_state(&state, "");
}
