use chrono::{DateTime, TimeDelta, Utc};
use leptos::prelude::*;

/// A time as the server prints it: `2026-11-24 12:41 UTC`. The browser prints the same text
/// until it has hydrated, then switches to its own zone (see [`Time`]).
pub fn format_utc(time: DateTime<Utc>) -> String {
    time.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// `time` in a zone `offset_minutes` east of UTC: `2026-11-24 13:41 (UTC+01:00)`; plain UTC
/// text when the offset is zero.
pub fn format_in_zone(time: DateTime<Utc>, offset_minutes: i32) -> String {
    if offset_minutes == 0 {
        return format_utc(time);
    }
    let local = time + TimeDelta::minutes(offset_minutes.into());
    let sign = if offset_minutes < 0 { '-' } else { '+' };
    let offset = offset_minutes.unsigned_abs();
    format!(
        "{} (UTC{sign}{:02}:{:02})",
        local.format("%Y-%m-%d %H:%M"),
        offset / 60,
        offset % 60
    )
}

/// How long ago `then` was, as people say it: "just now", "5 min ago", "2 h ago", "3 days ago".
pub fn ago(then: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let seconds = (now - then).num_seconds().max(0);
    match seconds {
        0..60 => "just now".to_owned(),
        60..3600 => format!("{} min ago", seconds / 60),
        3600..86400 => format!("{} h ago", seconds / 3600),
        _ => match seconds / 86400 {
            1 => "1 day ago".to_owned(),
            days => format!("{days} days ago"),
        },
    }
}

/// Now, on either side: the system clock on the server, the browser's in the browser (where
/// the standard library has no clock).
pub fn now() -> DateTime<Utc> {
    #[cfg(feature = "hydrate")]
    {
        DateTime::from_timestamp_millis(js_sys::Date::now() as i64).unwrap_or_default()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        DateTime::<Utc>::from(std::time::SystemTime::now())
    }
}

/// The browser's offset from UTC at `time`, in minutes east (DST-aware).
#[cfg(feature = "hydrate")]
pub fn browser_offset(time: DateTime<Utc>) -> i32 {
    let date = js_sys::Date::new(&(time.timestamp_millis() as f64).into());
    -(date.get_timezone_offset() as i32)
}

/// A time, rendered in UTC by the server (which does not know the reader's zone); the live
/// island shows it in the browser's zone, keeping UTC on hover.
#[component]
pub fn Time(time: DateTime<Utc>) -> impl IntoView {
    view! {
        <time datetime=time.to_rfc3339() title=format_utc(time) class="whitespace-nowrap">
            {format_utc(time)}
        </time>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn how_long_ago_reads_as_people_say_it() {
        let now: DateTime<Utc> = "2026-12-01T12:00:00Z".parse().unwrap();
        let at = |s: i64| now - TimeDelta::seconds(s);
        assert_eq!(ago(at(5), now), "just now");
        assert_eq!(ago(at(300), now), "5 min ago");
        assert_eq!(ago(at(2 * 3600 + 59), now), "2 h ago");
        assert_eq!(ago(at(86400), now), "1 day ago");
        assert_eq!(ago(at(3 * 86400), now), "3 days ago");
        assert_eq!(ago(now + TimeDelta::seconds(30), now), "just now");
    }

    #[test]
    fn times_print_to_the_minute_in_utc() {
        let time = "2021-03-26T14:38:12Z".parse().unwrap();
        assert_eq!(format_utc(time), "2021-03-26 14:38 UTC");
    }

    #[test]
    fn a_zone_east_or_west_of_utc_is_said_with_its_offset() {
        let time = "2021-03-26T14:38:12Z".parse().unwrap();
        assert_eq!(format_in_zone(time, 60), "2021-03-26 15:38 (UTC+01:00)");
        assert_eq!(format_in_zone(time, -330), "2021-03-26 09:08 (UTC-05:30)");
        assert_eq!(format_in_zone(time, 0), "2021-03-26 14:38 UTC");
    }
}
