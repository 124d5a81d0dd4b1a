//! Lists that scale: a page of a list at a time, read by keyset (never by offset), filtered
//! and in either order of creation.
//!
//! A list is ordered by `(created, id)`, which is total (ids are unique), newest first unless
//! asked otherwise. A page ends with a token naming its last row; the next page is the rows
//! after that one, so rows written between two reads neither repeat nor push others out. The
//! token is opaque to clients (base64url of `v1|<order>|<created>|<id>`) and checked when it
//! comes back: a token that is not one, or that belongs to the other order, is refused naming
//! `pageToken`; a page size outside 1..=500 names `pageSize`.
//!
//! [`PageQuery`] is the request as an address or a query string carries it (text, every
//! part optional); [`PageQuery::request`] checks it into a [`PageRequest`]; stores answer a
//! [`Page`].

use crate::restore::FieldErrors;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

/// Rows on a page unless asked for another number.
pub const DEFAULT_PAGE_SIZE: u32 = 50;
/// The most rows a page may hold.
pub const MAX_PAGE_SIZE: u32 = 500;
/// The longest text a filter takes (free text, ids, statuses).
pub const MAX_FILTER_TEXT: usize = 200;

/// What is wrong with a filter's text, if anything: too long, or a control character (a NUL
/// would fail PostgreSQL's text). Every list's filters, the audit's too, follow this rule.
pub fn filter_fault(value: &str) -> Option<String> {
    if value.chars().count() > MAX_FILTER_TEXT {
        Some(format!("a filter has at most {MAX_FILTER_TEXT} characters"))
    } else if value.chars().any(char::is_control) {
        Some("a filter has no control characters".to_owned())
    } else {
        None
    }
}
/// The longest token there is (a token holds a time and an id; anything longer is not one).
const MAX_TOKEN_LEN: usize = 200;

/// The statuses a page of backups is filtered by (deleted backups leave the lists).
pub const BACKUP_STATUSES: &[&str] = &["creating", "available", "defunct", "cancelled", "deleting"];
/// The statuses a page of jobs is filtered by (deleted jobs leave the lists).
pub const JOB_STATUSES: &[&str] = &["running", "paused"];
/// The statuses a page of job runs is filtered by.
pub const RUN_STATUSES: &[&str] = &["started", "succeeded", "failed"];
/// The states a page of events is filtered by: issues open or closed, or notifications.
pub const EVENT_STATES: &[&str] = &["open", "closed", "notification"];

/// Which way a list runs: by creation, newest first (the default) or oldest first.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Order {
    #[default]
    Desc,
    Asc,
}

impl Order {
    pub fn as_str(self) -> &'static str {
        match self {
            Order::Desc => "desc",
            Order::Asc => "asc",
        }
    }

    fn parse(text: &str) -> Result<Self, String> {
        match text.trim() {
            "" | "desc" => Ok(Order::Desc),
            "asc" => Ok(Order::Asc),
            other => Err(format!(
                "'{other}' is not an order: use desc (newest first) or asc (oldest first)"
            )),
        }
    }
}

/// What a list is narrowed to; every part optional, all given parts must hold. Which lists
/// take which part, and the words `status` takes, are each list's own (the core checks them).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PageFilters {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_id: Option<String>,
    /// Free text, found anywhere in a row's label, description or ids, in any case.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub q: Option<String>,
}

impl PageFilters {
    /// Whether `q` (if given) is in any of `fields`, in any case.
    pub fn text_matches(&self, fields: &[&str]) -> bool {
        match &self.q {
            None => true,
            Some(q) => {
                let q = q.to_lowercase();
                fields.iter().any(|field| field.to_lowercase().contains(&q))
            }
        }
    }

    /// Whether any part is given.
    pub fn any(&self) -> bool {
        self.status.is_some()
            || self.cluster_id.is_some()
            || self.job_id.is_some()
            || self.q.is_some()
    }
}

/// Where a page starts: just after the row with this creation time and id.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PageToken {
    pub created: DateTime<Utc>,
    pub id: String,
}

impl PageToken {
    /// The opaque text a client gets and gives back.
    pub fn encode(&self, order: Order) -> String {
        let order = match order {
            Order::Desc => 'd',
            Order::Asc => 'a',
        };
        let created = self.created.to_rfc3339_opts(SecondsFormat::Nanos, true);
        base64url(format!("v1|{order}|{created}|{}", self.id).as_bytes())
    }

    /// A token given back, for a list read in `order`.
    pub fn decode(text: &str, order: Order) -> Result<Self, String> {
        let refused = || format!("'{}' is not a page token of this list", shorten(text));
        if text.len() > MAX_TOKEN_LEN {
            return Err(refused());
        }
        let bytes = from_base64url(text.trim()).ok_or_else(refused)?;
        let text_inside = String::from_utf8(bytes).map_err(|_| refused())?;
        let mut parts = text_inside.splitn(4, '|');
        let (Some("v1"), Some(written_for), Some(created), Some(id)) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(refused());
        };
        let written_for = match written_for {
            "d" => Order::Desc,
            "a" => Order::Asc,
            _ => return Err(refused()),
        };
        let created = DateTime::parse_from_rfc3339(created)
            .map_err(|_| refused())?
            .with_timezone(&Utc);
        if id.is_empty() || id.len() > 64 || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(refused());
        }
        if written_for != order {
            return Err(format!(
                "this page token is of the list in {} order, not {}: start again from the first page",
                written_for.as_str(),
                order.as_str()
            ));
        }
        Ok(PageToken {
            created,
            id: id.to_owned(),
        })
    }
}

/// A checked request for one page.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PageRequest {
    /// 1..=[`MAX_PAGE_SIZE`].
    pub size: u32,
    /// After which row; none for the first page.
    pub token: Option<PageToken>,
    pub filters: PageFilters,
    pub order: Order,
}

impl Default for PageRequest {
    fn default() -> Self {
        PageRequest {
            size: DEFAULT_PAGE_SIZE,
            token: None,
            filters: PageFilters::default(),
            order: Order::Desc,
        }
    }
}

impl PageRequest {
    /// The first page of `size` rows, newest first, unfiltered.
    pub fn first(size: u32) -> Self {
        PageRequest {
            size,
            ..Default::default()
        }
    }

    /// Whether a row with this key comes after the token (every row does on a first page).
    pub fn is_after_token(&self, created: DateTime<Utc>, id: &str) -> bool {
        let Some(token) = &self.token else {
            return true;
        };
        let key = (created, id);
        let at = (token.created, token.id.as_str());
        match self.order {
            Order::Desc => key < at,
            Order::Asc => key > at,
        }
    }
}

/// One page of a list, and the token of the next one (none on the last page).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Page<T> {
    pub items: Vec<T>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

impl<T> Default for Page<T> {
    fn default() -> Self {
        Page {
            items: Vec::new(),
            next_token: None,
        }
    }
}

impl<T> Page<T> {
    /// A page from rows read in the request's order, after its token, at most one more than
    /// its size (that one says another page follows, and is not shown).
    pub fn from_rows(
        mut rows: Vec<T>,
        request: &PageRequest,
        key: impl Fn(&T) -> (DateTime<Utc>, String),
    ) -> Self {
        let size = request.size as usize;
        let more = rows.len() > size;
        rows.truncate(size);
        let next_token = if more {
            rows.last().map(|last| {
                let (created, id) = key(last);
                PageToken { created, id }.encode(request.order)
            })
        } else {
            None
        };
        Page {
            items: rows,
            next_token,
        }
    }

    /// A page chosen from every row of a list (already filtered, in any order): sorted by
    /// `(created, id)` in the request's order, after its token. For stores that hold rows in
    /// memory.
    pub fn select(
        rows: Vec<T>,
        request: &PageRequest,
        key: impl Fn(&T) -> (DateTime<Utc>, String),
    ) -> Self {
        let mut keyed: Vec<((DateTime<Utc>, String), T)> = rows
            .into_iter()
            .map(|row| (key(&row), row))
            .filter(|((created, id), _)| request.is_after_token(*created, id))
            .collect();
        keyed.sort_by(|(a, _), (b, _)| match request.order {
            Order::Asc => a.cmp(b),
            Order::Desc => b.cmp(a),
        });
        keyed.truncate(request.size as usize + 1);
        let rows = keyed.into_iter().map(|(_, row)| row).collect();
        Page::from_rows(rows, request, key)
    }

    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            next_token: self.next_token,
        }
    }
}

/// A page request as an address or a query string carries it: text, every part optional.
/// Empty parts (a GET form's untouched fields) count as not given. Field names are the API's.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PageQuery {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_size: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub q: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order: Option<String>,
}

/// `Some(text)` trimmed, or none when absent or blank.
fn given(text: &Option<String>) -> Option<String> {
    text.as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
}

impl PageQuery {
    /// Whether any paging part is given at all (even empty): the REST API answers such a
    /// call with its paged shape, and any other exactly as before paging existed.
    pub fn is_paged(&self) -> bool {
        [
            &self.page_size,
            &self.page_token,
            &self.status,
            &self.cluster_id,
            &self.job_id,
            &self.q,
            &self.order,
        ]
        .iter()
        .any(|part| part.is_some())
    }

    /// Whether it narrows the list (a filter with a value).
    pub fn is_filtered(&self) -> bool {
        [&self.status, &self.cluster_id, &self.job_id, &self.q]
            .iter()
            .any(|part| given(part).is_some())
    }

    /// The checked request, or every wrong part at once, keyed by its name.
    pub fn request(&self) -> Result<PageRequest, FieldErrors> {
        let mut errors = FieldErrors::new();
        let size = match given(&self.page_size) {
            None => DEFAULT_PAGE_SIZE,
            Some(text) => match text.parse::<u32>() {
                Ok(n) if (1..=MAX_PAGE_SIZE).contains(&n) => n,
                _ => {
                    errors.insert(
                        "pageSize".into(),
                        format!(
                            "'{}' is not a page size: use a whole number from 1 to {MAX_PAGE_SIZE}",
                            shorten(&text)
                        ),
                    );
                    DEFAULT_PAGE_SIZE
                }
            },
        };
        let order = match Order::parse(self.order.as_deref().unwrap_or_default()) {
            Ok(order) => order,
            Err(message) => {
                errors.insert("order".into(), message);
                Order::Desc
            }
        };
        let token = match given(&self.page_token) {
            None => None,
            Some(text) => match PageToken::decode(&text, order) {
                Ok(token) => Some(token),
                Err(message) => {
                    errors.insert("pageToken".into(), message);
                    None
                }
            },
        };
        let q = given(&self.q);
        for (field, value) in [
            ("q", &q),
            ("status", &given(&self.status)),
            ("clusterId", &given(&self.cluster_id)),
            ("jobId", &given(&self.job_id)),
        ] {
            if let Some(fault) = value.as_deref().and_then(filter_fault) {
                errors.insert(field.into(), fault);
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(PageRequest {
            size,
            token,
            filters: PageFilters {
                status: given(&self.status),
                cluster_id: given(&self.cluster_id),
                job_id: given(&self.job_id),
                q,
            },
            order,
        })
    }

    /// The same query at another page (none: the first).
    pub fn at(&self, token: Option<&str>) -> PageQuery {
        PageQuery {
            page_token: token.map(str::to_owned),
            ..self.clone()
        }
    }

    /// The query as an address's query string (`status=available&q=nightly`, without `?`),
    /// its given parts only, in a fixed order; empty when nothing is given.
    pub fn to_query_string(&self) -> String {
        [
            ("q", &self.q),
            ("status", &self.status),
            ("clusterId", &self.cluster_id),
            ("jobId", &self.job_id),
            ("order", &self.order),
            ("pageSize", &self.page_size),
            ("pageToken", &self.page_token),
        ]
        .into_iter()
        .filter_map(|(name, value)| given(value).map(|v| format!("{name}={}", url_encode(&v))))
        .collect::<Vec<_>>()
        .join("&")
    }
}

/// Percent-encodes everything but unreserved characters (RFC 3986).
fn url_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(byte as char)
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

/// The start of a long text, for a message.
fn shorten(text: &str) -> String {
    let mut short: String = text.chars().take(40).collect();
    if short.len() < text.len() {
        short.push('…');
    }
    short
}

const BASE64URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Base64url without padding (RFC 4648 §5).
fn base64url(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | (u32::from(b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(BASE64URL[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

/// The bytes of unpadded base64url, or none when it is not that (canonical only: the bits
/// past the last byte are zero).
fn from_base64url(text: &str) -> Option<Vec<u8>> {
    if text.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let mut acc: u32 = 0;
    let mut bits = 0;
    for c in text.bytes() {
        let value = BASE64URL.iter().position(|&b| b == c)? as u32;
        acc = (acc << 6) | value;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    if acc & ((1 << bits) - 1) != 0 {
        return None;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token() -> PageToken {
        PageToken {
            created: "2026-11-24T12:00:00.123456Z".parse().unwrap(),
            id: "d4u1dp5o0aeu6ojco7a0".into(),
        }
    }

    fn query(pairs: &[(&str, &str)]) -> PageQuery {
        let mut query = PageQuery::default();
        for (name, value) in pairs {
            let value = Some(value.to_string());
            match *name {
                "pageSize" => query.page_size = value,
                "pageToken" => query.page_token = value,
                "status" => query.status = value,
                "clusterId" => query.cluster_id = value,
                "jobId" => query.job_id = value,
                "q" => query.q = value,
                "order" => query.order = value,
                other => panic!("{other}"),
            }
        }
        query
    }

    #[test]
    fn base64url_reads_back_what_it_wrote_for_every_length() {
        for n in 0..20u8 {
            let bytes: Vec<u8> = (0..n).map(|i| i.wrapping_mul(37).wrapping_add(n)).collect();
            let text = base64url(&bytes);
            assert!(!text.contains('='));
            assert_eq!(from_base64url(&text), Some(bytes));
        }
        assert_eq!(base64url(b"any carnal pleas"), "YW55IGNhcm5hbCBwbGVhcw");
        assert_eq!(from_base64url("YW55!"), None);
        assert_eq!(from_base64url("YW55I"), None, "a length no bytes have");
    }

    #[test]
    fn a_token_reads_back_as_the_row_it_names_to_the_nanosecond() {
        let text = token().encode(Order::Desc);
        assert!(text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        assert_eq!(PageToken::decode(&text, Order::Desc), Ok(token()));
    }

    #[test]
    fn a_token_of_the_other_order_or_no_token_at_all_is_refused_naming_page_token() {
        let desc = token().encode(Order::Desc);
        let errors = query(&[("pageToken", &desc), ("order", "asc")])
            .request()
            .unwrap_err();
        assert!(errors["pageToken"].contains("desc order"), "{errors:?}");
        for bad in [
            "nonsense!",
            "bm90IGEgdG9rZW4",
            "djF8ZHx5ZXN0ZXJkYXl8YWJj",
            &"A".repeat(300),
        ] {
            let errors = query(&[("pageToken", bad)]).request().unwrap_err();
            assert_eq!(errors.keys().collect::<Vec<_>>(), ["pageToken"], "{bad}");
            assert!(
                errors["pageToken"].contains("is not a page token"),
                "{errors:?}"
            );
        }
    }

    #[test]
    fn a_page_size_is_a_whole_number_from_1_to_500_and_50_by_default() {
        assert_eq!(query(&[]).request().unwrap().size, DEFAULT_PAGE_SIZE);
        assert_eq!(query(&[("pageSize", "")]).request().unwrap().size, 50);
        assert_eq!(query(&[("pageSize", "1")]).request().unwrap().size, 1);
        assert_eq!(query(&[("pageSize", "500")]).request().unwrap().size, 500);
        for bad in ["0", "501", "-1", "ten", "2.5"] {
            let errors = query(&[("pageSize", bad)]).request().unwrap_err();
            assert!(
                errors["pageSize"].contains("from 1 to 500"),
                "{bad}: {errors:?}"
            );
        }
    }

    #[test]
    fn every_wrong_part_is_named_at_once_and_blank_filters_count_as_none() {
        let errors = query(&[
            ("pageSize", "0"),
            ("order", "sideways"),
            ("q", &"x".repeat(201)),
        ])
        .request()
        .unwrap_err();
        assert_eq!(
            errors.keys().collect::<Vec<_>>(),
            ["order", "pageSize", "q"]
        );
        let request = query(&[("status", " "), ("q", "  nightly "), ("order", "asc")])
            .request()
            .unwrap();
        assert_eq!(request.filters.status, None);
        assert_eq!(request.filters.q.as_deref(), Some("nightly"));
        assert_eq!(request.order, Order::Asc);
    }

    #[test]
    fn a_filter_with_control_characters_is_refused_so_no_database_is_given_one() {
        let errors = query(&[("clusterId", "c1\u{0}"), ("q", "tab\there")])
            .request()
            .unwrap_err();
        assert_eq!(errors.keys().collect::<Vec<_>>(), ["clusterId", "q"]);
        assert!(errors["q"].contains("control characters"));
    }

    #[test]
    fn a_query_given_any_paging_part_is_paged_and_one_given_none_is_not() {
        assert!(!PageQuery::default().is_paged());
        assert!(query(&[("q", "")]).is_paged());
        assert!(query(&[("pageSize", "10")]).is_paged());
        assert!(!query(&[("q", "")]).is_filtered());
        assert!(query(&[("jobId", "x")]).is_filtered());
    }

    #[test]
    fn a_query_string_carries_the_given_parts_encoded() {
        let next = query(&[("q", "a b&c"), ("status", ""), ("order", "asc")]).at(Some("tok_en-1"));
        assert_eq!(
            next.to_query_string(),
            "q=a%20b%26c&order=asc&pageToken=tok_en-1"
        );
        assert_eq!(PageQuery::default().to_query_string(), "");
    }

    #[test]
    fn pages_selected_from_rows_cover_each_row_once_in_either_order_ties_broken_by_id() {
        let at = |s: i64| DateTime::from_timestamp(1_800_000_000 + s, 0).unwrap();
        // Two rows at each second: the id breaks the tie.
        let rows: Vec<(DateTime<Utc>, String)> =
            (0..11).map(|i| (at(i / 2), format!("id{i:02}"))).collect();
        for order in [Order::Desc, Order::Asc] {
            let mut request = PageRequest {
                size: 3,
                order,
                ..Default::default()
            };
            let mut seen = Vec::new();
            loop {
                let page = Page::select(rows.clone(), &request, |r| r.clone());
                assert!(page.items.len() <= 3);
                seen.extend(page.items.iter().map(|(_, id)| id.clone()));
                let Some(next) = page.next_token else { break };
                request.token = Some(PageToken::decode(&next, order).unwrap());
            }
            let mut expected: Vec<String> = rows.iter().map(|(_, id)| id.clone()).collect();
            if order == Order::Desc {
                expected.reverse();
            }
            assert_eq!(seen, expected, "{order:?}");
        }
    }

    #[test]
    fn free_text_is_found_in_any_field_in_any_case() {
        let filters = PageFilters {
            q: Some("NiGhT".into()),
            ..Default::default()
        };
        assert!(filters.text_matches(&["orders", "orders nightly #3"]));
        assert!(!filters.text_matches(&["orders", "hourly"]));
        assert!(PageFilters::default().text_matches(&[]));
    }
}
