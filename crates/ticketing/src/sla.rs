//! SLA arithmetic: business hours and holidays in the ISP's time zone, as pure functions.
//!
//! Targets are in *business minutes*: only minutes inside the ISP's opening hours count, and
//! holidays count for nothing. Opening hours are wall-clock times in the ISP's time zone, so a
//! day when the clocks change has as many business minutes as its opening hours really last.

use std::collections::BTreeSet;

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;

use crate::model::Priority;

/// One opening interval on a weekday, in minutes after local midnight (`closes` may be 1440).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OpeningHours {
    /// ISO weekday: Monday = 1 … Sunday = 7.
    pub weekday: u8,
    pub opens: u16,
    pub closes: u16,
}

/// The built-in week: Monday to Friday, 09:00–18:00.
pub fn default_opening_hours() -> Vec<OpeningHours> {
    (1..=5)
        .map(|weekday| OpeningHours {
            weekday,
            opens: 9 * 60,
            closes: 18 * 60,
        })
        .collect()
}

/// Response and resolution targets for one priority (and maybe category), in business minutes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SlaTargets {
    pub first_response_minutes: i32,
    pub resolution_minutes: i32,
    pub raise_priority_on_breach: bool,
}

/// The built-in targets when the ISP has not set its own: urgent 1 h / 8 h, high 4 h / 24 h,
/// normal 8 h / 3 business days, low 24 h / 5 business days (a business day being 9 h).
pub fn default_targets(priority: Priority) -> SlaTargets {
    let (first_response_minutes, resolution_minutes) = match priority {
        Priority::Urgent => (60, 8 * 60),
        Priority::High => (4 * 60, 24 * 60),
        Priority::Normal => (8 * 60, 3 * 9 * 60),
        Priority::Low => (24 * 60, 5 * 9 * 60),
    };
    SlaTargets {
        first_response_minutes,
        resolution_minutes,
        raise_priority_on_breach: priority != Priority::Urgent,
    }
}

/// How far through a target the warning fires.
pub const WARNING_PERCENT: i64 = 80;

/// Why a set of opening hours was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    #[error("weekday must be 1 (Monday) to 7 (Sunday)")]
    Weekday,
    #[error("an interval must open before it closes, within 00:00–24:00")]
    Interval,
    #[error("intervals on the same weekday must not overlap")]
    Overlap,
    #[error("at least one opening interval is needed")]
    Empty,
    #[error("unknown time zone {0:?}")]
    TimeZone(String),
}

/// Opening hours and holidays in one time zone.
#[derive(Clone, Debug)]
pub struct BusinessCalendar {
    tz: Tz,
    /// Index 0 is Monday; each day's intervals sorted and disjoint.
    week: [Vec<(u16, u16)>; 7],
    holidays: BTreeSet<NaiveDate>,
}

/// Days searched before giving up (a calendar whose every open day is a holiday).
const HORIZON_DAYS: u32 = 3 * 366;

impl BusinessCalendar {
    pub fn new(
        time_zone: &str,
        hours: &[OpeningHours],
        holidays: &[NaiveDate],
    ) -> Result<Self, CalendarError> {
        let tz: Tz = time_zone
            .parse()
            .map_err(|_| CalendarError::TimeZone(time_zone.to_owned()))?;
        let week = validate_hours(hours)?;
        Ok(Self {
            tz,
            week,
            holidays: holidays.iter().copied().collect(),
        })
    }

    fn intervals(&self, day: NaiveDate) -> &[(u16, u16)] {
        if self.holidays.contains(&day) {
            return &[];
        }
        &self.week[day.weekday().num_days_from_monday() as usize]
    }

    /// A local wall-clock minute of `day` as an instant. In a spring-forward gap the first
    /// valid instant after it; in an autumn overlap the earlier one.
    fn instant(&self, day: NaiveDate, minute: u16) -> DateTime<Utc> {
        let midnight = day.and_hms_opt(0, 0, 0).unwrap_or_default();
        let local = midnight + Duration::minutes(i64::from(minute));
        let mut probe = local;
        for _ in 0..=8 {
            if let Some(t) = self.tz.from_local_datetime(&probe).earliest() {
                return t.with_timezone(&Utc);
            }
            probe += Duration::minutes(15);
        }
        Utc.from_utc_datetime(&local)
    }

    fn local_date(&self, t: DateTime<Utc>) -> NaiveDate {
        t.with_timezone(&self.tz).date_naive()
    }

    /// The instant when `minutes` business minutes have passed since `start`.
    pub fn add_business_minutes(&self, start: DateTime<Utc>, minutes: i64) -> DateTime<Utc> {
        if minutes <= 0 {
            return start;
        }
        let mut remaining = Duration::minutes(minutes);
        let mut day = self.local_date(start);
        for _ in 0..HORIZON_DAYS {
            for &(opens, closes) in self.intervals(day) {
                let close = self.instant(day, closes);
                if close <= start {
                    continue;
                }
                let from = self.instant(day, opens).max(start);
                let available = close - from;
                if remaining <= available {
                    return from + remaining;
                }
                remaining -= available;
            }
            day = day.succ_opt().unwrap_or(day);
        }
        // Nothing open for years: the target cannot be met on this calendar.
        start + Duration::days(i64::from(HORIZON_DAYS))
    }

    /// Business minutes between two instants (0 if `to` is not after `from`).
    pub fn business_minutes_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> i64 {
        if to <= from {
            return 0;
        }
        let mut total = Duration::zero();
        let mut day = self.local_date(from);
        let last = self.local_date(to);
        while day <= last {
            for &(opens, closes) in self.intervals(day) {
                let a = self.instant(day, opens).max(from);
                let b = self.instant(day, closes).min(to);
                if b > a {
                    total += b - a;
                }
            }
            match day.succ_opt() {
                Some(next) => day = next,
                None => break,
            }
        }
        total.num_minutes()
    }
}

fn validate_hours(hours: &[OpeningHours]) -> Result<[Vec<(u16, u16)>; 7], CalendarError> {
    let mut week: [Vec<(u16, u16)>; 7] = Default::default();
    for h in hours {
        if !(1..=7).contains(&h.weekday) {
            return Err(CalendarError::Weekday);
        }
        if h.opens >= h.closes || h.closes > 24 * 60 {
            return Err(CalendarError::Interval);
        }
        week[usize::from(h.weekday - 1)].push((h.opens, h.closes));
    }
    let mut any = false;
    for day in &mut week {
        day.sort_unstable();
        if day.windows(2).any(|w| w[1].0 < w[0].1) {
            return Err(CalendarError::Overlap);
        }
        any |= !day.is_empty();
    }
    if !any {
        return Err(CalendarError::Empty);
    }
    Ok(week)
}

/// Due and warning instants for one ticket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DueTimes {
    pub first_response_due: DateTime<Utc>,
    pub first_response_warn: DateTime<Utc>,
    pub resolution_due: DateTime<Utc>,
    pub resolution_warn: DateTime<Utc>,
}

/// The ticket's due times: each target counted from its creation in business minutes, pushed
/// out by the business minutes it spent paused (waiting on the customer, resolved).
pub fn due_times(
    calendar: &BusinessCalendar,
    created_at: DateTime<Utc>,
    targets: SlaTargets,
    paused_minutes: i64,
) -> DueTimes {
    let at = |minutes: i64| calendar.add_business_minutes(created_at, minutes + paused_minutes);
    let fr = i64::from(targets.first_response_minutes);
    let res = i64::from(targets.resolution_minutes);
    DueTimes {
        first_response_due: at(fr),
        first_response_warn: at(fr * WARNING_PERCENT / 100),
        resolution_due: at(res),
        resolution_warn: at(res * WARNING_PERCENT / 100),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .expect("time")
            .with_timezone(&Utc)
    }

    fn moscow() -> BusinessCalendar {
        BusinessCalendar::new("Europe/Moscow", &default_opening_hours(), &[]).expect("calendar")
    }

    #[test]
    fn within_the_same_day() {
        // Wednesday 10:00 Moscow (UTC+3) plus 60 minutes.
        let cal = moscow();
        assert_eq!(
            cal.add_business_minutes(utc("2026-11-25T07:00:00Z"), 60),
            utc("2026-11-25T08:00:00Z")
        );
    }

    #[test]
    fn an_evening_ticket_waits_for_the_morning() {
        // Wednesday 20:00 local: the first hour is Thursday 09:00–10:00.
        let cal = moscow();
        assert_eq!(
            cal.add_business_minutes(utc("2026-11-25T17:00:00Z"), 60),
            utc("2026-11-26T07:00:00Z")
        );
        // 17:30 local + 60 minutes: 30 today, 30 tomorrow morning.
        assert_eq!(
            cal.add_business_minutes(utc("2026-11-25T14:30:00Z"), 60),
            utc("2026-11-26T06:30:00Z")
        );
    }

    #[test]
    fn an_exact_closing_time_is_due_at_closing() {
        let cal = moscow();
        // Wednesday 09:00 + 9 h = Wednesday 18:00, not Thursday 09:00.
        assert_eq!(
            cal.add_business_minutes(utc("2026-11-25T06:00:00Z"), 9 * 60),
            utc("2026-11-25T15:00:00Z")
        );
    }

    #[test]
    fn weekends_do_not_count() {
        let cal = moscow();
        // Friday 17:00 local + 2 h: 1 h Friday, 1 h Monday.
        assert_eq!(
            cal.add_business_minutes(utc("2026-11-27T14:00:00Z"), 120),
            utc("2026-11-30T07:00:00Z")
        );
        // Saturday noon: nothing until Monday 09:00.
        assert_eq!(
            cal.add_business_minutes(utc("2026-11-28T09:00:00Z"), 1),
            utc("2026-11-30T06:01:00Z")
        );
    }

    #[test]
    fn holidays_do_not_count() {
        let hol = [
            NaiveDate::from_ymd_opt(2026, 12, 31).expect("d"),
            NaiveDate::from_ymd_opt(2027, 1, 1).expect("d"),
        ];
        let cal = BusinessCalendar::new("Europe/Moscow", &default_opening_hours(), &hol)
            .expect("calendar");
        // Wednesday 30 Dec 17:00 + 2 h: 1 h that day, then Thu and Fri are holidays, then the
        // weekend: Monday 4 Jan 10:00.
        assert_eq!(
            cal.add_business_minutes(utc("2026-12-30T14:00:00Z"), 120),
            utc("2027-01-04T07:00:00Z")
        );
    }

    #[test]
    fn a_due_time_across_the_spring_dst_change() {
        // Berlin springs forward on Sunday 29 March 2026. Friday 17:00 CET (16:00 UTC) + 2 h:
        // 1 h Friday, then Monday 09:00 CEST (07:00 UTC) + 1 h.
        let cal =
            BusinessCalendar::new("Europe/Berlin", &default_opening_hours(), &[]).expect("cal");
        assert_eq!(
            cal.add_business_minutes(utc("2026-03-27T16:00:00Z"), 120),
            utc("2026-03-30T08:00:00Z")
        );
    }

    #[test]
    fn a_day_with_a_clock_change_inside_opening_hours() {
        // Round the clock every day in Berlin: Sunday 25 October 2026 lasts 25 hours (clocks
        // go back at 03:00 CEST), so 24 h from its midnight is 23:00 the same day.
        let all_day: Vec<_> = (1..=7)
            .map(|weekday| OpeningHours {
                weekday,
                opens: 0,
                closes: 24 * 60,
            })
            .collect();
        let cal = BusinessCalendar::new("Europe/Berlin", &all_day, &[]).expect("cal");
        let sunday_midnight = utc("2026-10-24T22:00:00Z"); // 25 Oct 00:00 CEST
        assert_eq!(
            cal.add_business_minutes(sunday_midnight, 24 * 60),
            utc("2026-10-25T22:00:00Z") // 25 Oct 23:00 CET
        );
        assert_eq!(
            cal.business_minutes_between(sunday_midnight, utc("2026-10-25T23:00:00Z")),
            25 * 60
        );
    }

    #[test]
    fn business_minutes_between_counts_only_opening_hours() {
        let cal = moscow();
        // Friday 17:00 to Monday 10:00 local: 60 + 60.
        assert_eq!(
            cal.business_minutes_between(utc("2026-11-27T14:00:00Z"), utc("2026-11-30T07:00:00Z")),
            120
        );
        assert_eq!(
            cal.business_minutes_between(utc("2026-11-30T07:00:00Z"), utc("2026-11-27T14:00:00Z")),
            0
        );
        // add and between agree.
        let start = utc("2026-11-25T17:13:00Z");
        for minutes in [1, 59, 540, 541, 3000] {
            let end = cal.add_business_minutes(start, minutes);
            assert_eq!(cal.business_minutes_between(start, end), minutes);
        }
    }

    #[test]
    fn split_shifts_and_a_time_zone_far_from_utc() {
        // Vladivostok (UTC+10), 09:00–13:00 and 14:00–18:00 on Mondays only.
        let hours = [
            OpeningHours {
                weekday: 1,
                opens: 14 * 60,
                closes: 18 * 60,
            },
            OpeningHours {
                weekday: 1,
                opens: 9 * 60,
                closes: 13 * 60,
            },
        ];
        let cal = BusinessCalendar::new("Asia/Vladivostok", &hours, &[]).expect("cal");
        // Monday 12:00 local (02:00 UTC) + 2 h: 1 h before lunch, 1 h after: 15:00 local.
        assert_eq!(
            cal.add_business_minutes(utc("2026-11-30T02:00:00Z"), 120),
            utc("2026-11-30T05:00:00Z")
        );
        // 9 h from then: 3 h that Monday, 6 h next Monday (4 + 2): 16:00 local next Monday.
        assert_eq!(
            cal.add_business_minutes(utc("2026-11-30T05:00:00Z"), 9 * 60),
            utc("2026-12-07T06:00:00Z")
        );
    }

    #[test]
    fn invalid_calendars_are_refused() {
        let bad = |h: OpeningHours| BusinessCalendar::new("UTC", &[h], &[]).map(|_| ());
        let ok = OpeningHours {
            weekday: 1,
            opens: 540,
            closes: 1080,
        };
        assert_eq!(
            bad(OpeningHours { weekday: 0, ..ok }),
            Err(CalendarError::Weekday)
        );
        assert_eq!(
            bad(OpeningHours { opens: 1080, ..ok }),
            Err(CalendarError::Interval)
        );
        assert_eq!(
            bad(OpeningHours { closes: 1441, ..ok }),
            Err(CalendarError::Interval)
        );
        assert_eq!(
            BusinessCalendar::new("UTC", &[ok, OpeningHours { opens: 600, ..ok }], &[]).map(|_| ()),
            Err(CalendarError::Overlap)
        );
        assert_eq!(
            BusinessCalendar::new("UTC", &[], &[]).map(|_| ()),
            Err(CalendarError::Empty)
        );
        assert!(matches!(
            BusinessCalendar::new("Mars/Base", &[ok], &[]),
            Err(CalendarError::TimeZone(_))
        ));
    }

    #[test]
    fn due_times_are_pushed_out_by_paused_minutes_and_warn_at_80_percent() {
        let cal = moscow();
        let created = utc("2026-11-25T06:00:00Z"); // Wednesday 09:00
        let targets = default_targets(Priority::Urgent);
        let due = due_times(&cal, created, targets, 0);
        assert_eq!(due.first_response_due, utc("2026-11-25T07:00:00Z"));
        assert_eq!(due.first_response_warn, utc("2026-11-25T06:48:00Z"));
        assert_eq!(due.resolution_due, utc("2026-11-25T14:00:00Z"));
        let paused = due_times(&cal, created, targets, 90);
        assert_eq!(paused.resolution_due, utc("2026-11-26T06:30:00Z"));
    }
}
