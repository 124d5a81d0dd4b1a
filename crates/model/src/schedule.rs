//! Job schedules (domain.md §4): a restricted five-field cron, always UTC —
//! `minute hour day-of-month month day-of-week`.
//!
//! minute: a single minute `0-59` (`*` and `*/N` are refused: runs must be at least an hour
//! apart); hour: `*`, `0-23` or `*/N`; day-of-month and month: `*`; day-of-week: `*` or `0-7`
//! (0 and 7 are Sunday).

use chrono::{DateTime, Datelike, Duration, TimeZone, Timelike, Utc, Weekday};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hours {
    Every,
    At(u8),
    /// Every N hours from midnight: 0, N, 2N, … (as cron counts).
    Step(u8),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    pub minute: u8,
    pub hours: Hours,
    /// `None` is every day.
    pub weekday: Option<Weekday>,
}

/// Why a schedule is refused; the message names the field and what it accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleError(pub String);

impl fmt::Display for ScheduleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ScheduleError {}

fn error(message: impl Into<String>) -> ScheduleError {
    ScheduleError(message.into())
}

fn number(field: &str, text: &str, max: u8) -> Result<u8, ScheduleError> {
    match text.parse::<u8>() {
        Ok(n) if n <= max && !text.starts_with('+') => Ok(n),
        _ => Err(error(format!(
            "{field} '{text}' is not a number from 0 to {max}"
        ))),
    }
}

impl Schedule {
    pub fn parse(text: &str) -> Result<Self, ScheduleError> {
        let fields: Vec<&str> = text.split_whitespace().collect();
        let [minute, hour, day_of_month, month, day_of_week] = fields[..] else {
            return Err(error(format!(
                "a schedule has 5 fields (minute hour day-of-month month day-of-week), not {}",
                fields.len()
            )));
        };
        if minute == "*" || minute.starts_with("*/") {
            return Err(error(format!(
                "minute '{minute}' would run more often than once an hour: give one minute from 0 to 59"
            )));
        }
        let minute = number("minute", minute, 59)?;
        let hours = match hour {
            "*" => Hours::Every,
            step if step.starts_with("*/") => {
                let n = &step[2..];
                match n.parse::<u8>() {
                    Ok(n @ 1..=23) => Hours::Step(n),
                    _ => {
                        return Err(error(format!(
                            "hour '{step}' needs a step from 1 to 23, like */6"
                        )))
                    }
                }
            }
            at => Hours::At(number("hour", at, 23)?),
        };
        if day_of_month != "*" {
            return Err(error(format!(
                "day-of-month '{day_of_month}' is not supported: use *"
            )));
        }
        if month != "*" {
            return Err(error(format!("month '{month}' is not supported: use *")));
        }
        let weekday = match day_of_week {
            "*" => None,
            day => Some(match number("day-of-week", day, 7)? {
                0 | 7 => Weekday::Sun,
                n => Weekday::try_from(n - 1).expect("1..=6 is Monday..Saturday"),
            }),
        };
        Ok(Schedule {
            minute,
            hours,
            weekday,
        })
    }

    fn hour_matches(&self, hour: u32) -> bool {
        match self.hours {
            Hours::Every => true,
            Hours::At(h) => hour == u32::from(h),
            Hours::Step(n) => hour.is_multiple_of(u32::from(n)),
        }
    }

    /// The first run strictly after `after`.
    pub fn next_after(&self, after: DateTime<Utc>) -> DateTime<Utc> {
        // Walk hour by hour from the hour of `after`: every schedule runs within 8 days.
        let start = Utc
            .with_ymd_and_hms(after.year(), after.month(), after.day(), after.hour(), 0, 0)
            .single()
            .expect("a whole hour of a valid time is valid");
        (0..=8 * 24)
            .map(|h| start + Duration::hours(h) + Duration::minutes(i64::from(self.minute)))
            .find(|&t| {
                t > after
                    && self.hour_matches(t.hour())
                    && self.weekday.is_none_or(|day| t.weekday() == day)
            })
            .expect("every valid schedule runs at least once a week")
    }

    /// The console's builder, "Backup every [N] [hours|days] at [MM] past": every N hours
    /// (1-23) counted from midnight, every day (N = 1) or every week (N = 7, Sundays) at
    /// 00:MM. Other day counts cannot be said in this cron and are refused, naming the field.
    pub fn every(n: u32, unit: &str, minute: u32) -> Result<Self, ScheduleError> {
        if minute > 59 {
            return Err(error(format!(
                "minute '{minute}' is not a number from 0 to 59"
            )));
        }
        let minute = minute as u8;
        match (unit, n) {
            ("hours", 1..=23) => Ok(Schedule {
                minute,
                hours: Hours::Step(n as u8),
                weekday: None,
            }),
            ("hours", _) => Err(error(format!(
                "every '{n}' hours: choose 1 to 23 hours, or days"
            ))),
            ("days", 1) => Ok(Schedule {
                minute,
                hours: Hours::At(0),
                weekday: None,
            }),
            ("days", 7) => Ok(Schedule {
                minute,
                hours: Hours::At(0),
                weekday: Some(Weekday::Sun),
            }),
            ("days", _) => Err(error(format!(
                "every '{n}' days: choose 1 (daily) or 7 (weekly), or write the schedule as cron"
            ))),
            (other, _) => Err(error(format!("unit '{other}' is not one of: hours, days"))),
        }
    }

    /// The next `count` runs after `after`, in order.
    pub fn upcoming(&self, after: DateTime<Utc>, count: usize) -> Vec<DateTime<Utc>> {
        let mut runs = Vec::with_capacity(count);
        let mut t = after;
        for _ in 0..count {
            t = self.next_after(t);
            runs.push(t);
        }
        runs
    }

    /// The schedule in words, e.g. "every 6 hours at 30 minutes past (UTC)".
    pub fn describe(&self) -> String {
        let minute = self.minute;
        let when = match self.hours {
            Hours::Every => format!("every hour at {minute:02} minutes past"),
            Hours::Step(1) => format!("every hour at {minute:02} minutes past"),
            Hours::Step(n) => format!("every {n} hours at {minute:02} minutes past"),
            Hours::At(h) => format!("at {h:02}:{minute:02}"),
        };
        match (self.weekday, self.hours) {
            (None, Hours::At(_)) => format!("every day {when} UTC"),
            (None, _) => format!("{when} (UTC)"),
            (Some(day), Hours::At(_)) => format!("every {} {when} UTC", weekday_name(day)),
            (Some(day), _) => format!("on {}s, {when} (UTC)", weekday_name(day)),
        }
    }
}

fn weekday_name(day: Weekday) -> &'static str {
    match day {
        Weekday::Mon => "Monday",
        Weekday::Tue => "Tuesday",
        Weekday::Wed => "Wednesday",
        Weekday::Thu => "Thursday",
        Weekday::Fri => "Friday",
        Weekday::Sat => "Saturday",
        Weekday::Sun => "Sunday",
    }
}

impl fmt::Display for Schedule {
    /// The canonical cron text.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hour = match self.hours {
            Hours::Every => "*".to_owned(),
            Hours::At(h) => h.to_string(),
            Hours::Step(n) => format!("*/{n}"),
        };
        let day = match self.weekday {
            None => "*".to_owned(),
            Some(day) => day.num_days_from_sunday().to_string(),
        };
        write!(f, "{} {hour} * * {day}", self.minute)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builder_says_every_n_hours_or_days_at_a_minute_in_cron() {
        let cron = |n, unit, minute| Schedule::every(n, unit, minute).map(|s| s.to_string());
        assert_eq!(cron(1, "hours", 0).unwrap(), "0 */1 * * *");
        assert_eq!(cron(6, "hours", 30).unwrap(), "30 */6 * * *");
        assert_eq!(cron(1, "days", 15).unwrap(), "15 0 * * *");
        assert_eq!(cron(7, "days", 0).unwrap(), "0 0 * * 0");
        assert!(cron(24, "hours", 0).unwrap_err().0.contains("'24' hours"));
        assert!(cron(3, "days", 0).unwrap_err().0.contains("'3' days"));
        assert!(cron(1, "hours", 60).unwrap_err().0.contains("minute '60'"));
        assert!(cron(1, "weeks", 0).unwrap_err().0.contains("unit 'weeks'"));
        for n in 1..=23 {
            let text = cron(n, "hours", 5).unwrap();
            assert_eq!(Schedule::parse(&text).unwrap().to_string(), text);
        }
    }

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    #[test]
    fn the_documented_examples_are_valid_and_print_back_the_same() {
        for text in [
            "0 */1 * * *",
            "30 */6 * * *",
            "0 0 * * *",
            "0 12 * * 1",
            "30 13 * * 0",
        ] {
            let schedule = Schedule::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(schedule.to_string(), text);
        }
        assert_eq!(
            Schedule::parse("30 13 * * 7").unwrap().weekday,
            Some(Weekday::Sun)
        );
        assert_eq!(
            Schedule::parse("  0   3 * *  *  ").unwrap().to_string(),
            "0 3 * * *"
        );
    }

    #[test]
    fn invalid_schedules_are_refused_with_the_field_named() {
        let table = [
            (
                "* * * * *",
                "minute '*' would run more often than once an hour",
            ),
            (
                "*/30 * * * *",
                "minute '*/30' would run more often than once an hour",
            ),
            ("60 * * * *", "minute '60' is not a number from 0 to 59"),
            ("-1 * * * *", "minute '-1' is not a number from 0 to 59"),
            ("0 24 * * *", "hour '24' is not a number from 0 to 23"),
            ("0 */0 * * *", "hour '*/0' needs a step from 1 to 23"),
            ("0 */24 * * *", "hour '*/24' needs a step from 1 to 23"),
            ("0 0 1 * *", "day-of-month '1' is not supported: use *"),
            ("0 0 * 1 *", "month '1' is not supported: use *"),
            ("0 0 * * 8", "day-of-week '8' is not a number from 0 to 7"),
            (
                "0 0 * * MON",
                "day-of-week 'MON' is not a number from 0 to 7",
            ),
            ("0 0 * *", "a schedule has 5 fields"),
            ("", "a schedule has 5 fields"),
            ("0 0 * * * *", "a schedule has 5 fields"),
        ];
        for (text, expected) in table {
            let error = Schedule::parse(text).expect_err(text).to_string();
            assert!(error.starts_with(expected), "{text:?}: got {error:?}");
        }
    }

    #[test]
    fn an_hourly_schedule_runs_at_its_minute_of_every_hour() {
        let hourly = Schedule::parse("0 */1 * * *").unwrap();
        assert_eq!(
            hourly.upcoming(at("2026-11-24T12:41:00Z"), 3),
            [
                at("2026-11-24T13:00:00Z"),
                at("2026-11-24T14:00:00Z"),
                at("2026-11-24T15:00:00Z")
            ]
        );
        // A run is strictly after the given time.
        assert_eq!(
            hourly.next_after(at("2026-11-24T13:00:00Z")),
            at("2026-11-24T14:00:00Z")
        );
    }

    #[test]
    fn a_stepped_schedule_counts_hours_from_midnight() {
        let every_six = Schedule::parse("30 */6 * * *").unwrap();
        assert_eq!(
            every_six.upcoming(at("2026-11-24T19:00:00Z"), 3),
            [
                at("2026-11-25T00:30:00Z"),
                at("2026-11-25T06:30:00Z"),
                at("2026-11-25T12:30:00Z")
            ]
        );
    }

    #[test]
    fn a_weekly_schedule_runs_once_a_week_on_its_day() {
        let monday_noon = Schedule::parse("0 12 * * 1").unwrap();
        // 2026-11-24 is a Tuesday.
        assert_eq!(
            monday_noon.upcoming(at("2026-11-24T12:00:00Z"), 2),
            [at("2026-11-30T12:00:00Z"), at("2026-12-07T12:00:00Z")]
        );
        let sunday = Schedule::parse("30 13 * * 0").unwrap();
        assert_eq!(
            sunday.next_after(at("2026-11-29T13:30:00Z")),
            at("2026-12-06T13:30:00Z")
        );
    }

    #[test]
    fn a_daily_schedule_crosses_months_and_years() {
        let midnight = Schedule::parse("0 0 * * *").unwrap();
        assert_eq!(
            midnight.next_after(at("2026-12-31T00:00:00Z")),
            at("2027-01-01T00:00:00Z")
        );
    }

    #[test]
    fn schedules_read_in_words() {
        let table = [
            ("0 */1 * * *", "every hour at 00 minutes past (UTC)"),
            ("15 * * * *", "every hour at 15 minutes past (UTC)"),
            ("30 */6 * * *", "every 6 hours at 30 minutes past (UTC)"),
            ("0 0 * * *", "every day at 00:00 UTC"),
            ("0 12 * * 1", "every Monday at 12:00 UTC"),
            (
                "0 */2 * * 6",
                "on Saturdays, every 2 hours at 00 minutes past (UTC)",
            ),
        ];
        for (text, words) in table {
            assert_eq!(Schedule::parse(text).unwrap().describe(), words);
        }
    }
}
