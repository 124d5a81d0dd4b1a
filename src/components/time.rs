use chrono::{DateTime, Utc};

/// A time as the console prints it until it learns the browser's zone: `2026-11-24 12:41 UTC`.
/// Server and browser print the same text, so hydration finds what the server rendered.
pub fn format_utc(time: DateTime<Utc>) -> String {
    time.format("%Y-%m-%d %H:%M UTC").to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn times_print_to_the_minute_in_utc() {
        let time = "2021-03-26T14:38:12Z".parse().unwrap();
        assert_eq!(super::format_utc(time), "2021-03-26 14:38 UTC");
    }
}
