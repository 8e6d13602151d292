//! Go's `time` package as templates see it: `time.Time` values with a
//! location, Go reference-layout formatting and parsing, and durations.

use std::sync::OnceLock;

/// Seconds from 0001-01-01 to 1970-01-01 (Go's zero time is year 1).
const ZERO_UNIX: i64 = -62_135_596_800;

#[derive(Clone, Debug)]
pub enum Loc {
    Utc,
    Local,
    Zone(jiff::tz::TimeZone),
    Fixed(String, i32),
}

/// A `time.Time`: an instant plus the location it is displayed in.
#[derive(Clone, Debug)]
pub struct GoTime {
    pub unix: i64,
    pub nanos: u32,
    pub loc: Loc,
    /// Carries a monotonic clock reading (only `now`), which `String()` shows.
    pub mono: bool,
}

impl PartialEq for GoTime {
    fn eq(&self, o: &GoTime) -> bool {
        self.unix == o.unix && self.nanos == o.nanos
    }
}

fn local_tz() -> &'static jiff::tz::TimeZone {
    static TZ: OnceLock<jiff::tz::TimeZone> = OnceLock::new();
    TZ.get_or_init(jiff::tz::TimeZone::system)
}

/// Go's `time.LoadLocation`.
pub fn load_location(name: &str) -> Option<Loc> {
    match name {
        "" | "UTC" => Some(Loc::Utc),
        "Local" => Some(Loc::Local),
        _ => jiff::tz::TimeZone::get(name).ok().map(Loc::Zone),
    }
}

impl Loc {
    /// Offset east of UTC in seconds and the zone abbreviation at `unix`.
    fn lookup(&self, unix: i64) -> (i32, String) {
        let info = |tz: &jiff::tz::TimeZone| match jiff::Timestamp::from_second(unix) {
            Ok(ts) => {
                let i = tz.to_offset_info(ts);
                (i.offset().seconds(), i.abbreviation().to_string())
            }
            Err(_) => (0, "UTC".to_string()),
        };
        match self {
            Loc::Utc => (0, "UTC".into()),
            Loc::Local => info(local_tz()),
            Loc::Zone(tz) => info(tz),
            Loc::Fixed(n, o) => (*o, n.clone()),
        }
    }

    fn tz(&self) -> Option<&jiff::tz::TimeZone> {
        match self {
            Loc::Local => Some(local_tz()),
            Loc::Zone(tz) => Some(tz),
            _ => None,
        }
    }
}

/// Civil date from days since 1970-01-01 (proleptic Gregorian).
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Days since 1970-01-01 of a civil date; month and day may overflow
/// (Go's `time.Date` normalisation).
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    // Normalise month first.
    let y = y + (m - 1).div_euclid(12);
    let m = (m - 1).rem_euclid(12) + 1;
    let y2 = if m <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2.rem_euclid(400);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468 + (d - 1)
}

fn is_leap(y: i64) -> bool {
    y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
}

fn days_in(m: i64, y: i64) -> i64 {
    match m {
        2 => {
            if is_leap(y) {
                29
            } else {
                28
            }
        }
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

const LONG_MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const LONG_DAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

/// Broken-down local time.
struct Civil {
    year: i64,
    month: u32,
    day: u32,
    hour: u32,
    min: u32,
    sec: u32,
    nanos: u32,
    wday: u32,
    yday: u32,
    offset: i32,
    abbr: String,
}

/// `i64::MIN` means "use the system clock".
static FIXED_NOW: std::sync::atomic::AtomicI64 = std::sync::atomic::AtomicI64::new(i64::MIN);

/// Pins `now` (and every function that falls back to it: `date`, `htmlDate`,
/// `ago`, …) to a Unix time, process-wide, so recorded cases that went through
/// the clock can be replayed on any day. Only tests call this; the binary
/// always uses the system clock.
pub fn set_fixed_now(unix_secs: i64) {
    FIXED_NOW.store(unix_secs, std::sync::atomic::Ordering::Relaxed);
}

impl GoTime {
    pub fn zero() -> GoTime {
        GoTime {
            unix: ZERO_UNIX,
            nanos: 0,
            loc: Loc::Utc,
            mono: false,
        }
    }

    pub fn from_unix(secs: i64, loc: Loc) -> GoTime {
        GoTime {
            unix: secs,
            nanos: 0,
            loc,
            mono: false,
        }
    }

    /// The current time as templates see it: the fixed instant set with
    /// [`set_fixed_now`] (tests), else the system clock.
    pub fn now() -> GoTime {
        let fixed = FIXED_NOW.load(std::sync::atomic::Ordering::Relaxed);
        if fixed != i64::MIN {
            return GoTime {
                unix: fixed,
                nanos: 0,
                loc: Loc::Local,
                mono: true,
            };
        }
        let d = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        GoTime {
            unix: d.as_secs() as i64,
            nanos: d.subsec_nanos(),
            loc: Loc::Local,
            mono: true,
        }
    }

    pub fn in_loc(&self, loc: Loc) -> GoTime {
        GoTime {
            loc,
            ..self.clone()
        }
    }

    pub fn add_nanos(&self, d: i64) -> GoTime {
        let total = self.nanos as i128 + d as i128;
        let secs = total.div_euclid(1_000_000_000) as i64;
        let nanos = total.rem_euclid(1_000_000_000) as u32;
        GoTime {
            unix: self.unix + secs,
            nanos,
            loc: self.loc.clone(),
            mono: self.mono,
        }
    }

    fn civil(&self) -> Civil {
        let (offset, abbr) = self.loc.lookup(self.unix);
        let local = self.unix + offset as i64;
        let days = local.div_euclid(86_400);
        let secs = local.rem_euclid(86_400) as u32;
        let (year, month, day) = civil_from_days(days);
        let wday = (days + 4).rem_euclid(7) as u32;
        let yday = (days - days_from_civil(year, 1, 1)) as u32 + 1;
        Civil {
            year,
            month,
            day,
            hour: secs / 3600,
            min: secs / 60 % 60,
            sec: secs % 60,
            nanos: self.nanos,
            wday,
            yday,
            offset,
            abbr,
        }
    }

    /// Go's `Time.String()`.
    pub fn go_string(&self) -> String {
        let mut s = self.format("2006-01-02 15:04:05.999999999 -0700 MST");
        if self.mono {
            // time.Now carries a monotonic reading relative to process start.
            s.push_str(" m=+0.000000001");
        }
        s
    }

    /// Go's `Time.GoString()` (what `%#v` prints).
    pub fn go_syntax(&self) -> String {
        let c = self.civil();
        let loc = match &self.loc {
            Loc::Utc => "time.UTC".to_string(),
            Loc::Local => "time.Local".to_string(),
            Loc::Zone(tz) => format!("time.Location({})", tquote(tz.iana_name().unwrap_or(""))),
            Loc::Fixed(n, _) => format!("time.Location({})", tquote(n)),
        };
        format!(
            "time.Date({}, time.{}, {}, {}, {}, {}, {}, {})",
            c.year,
            LONG_MONTHS[c.month as usize - 1],
            c.day,
            c.hour,
            c.min,
            c.sec,
            c.nanos,
            loc
        )
    }

    /// Go's `Time.Format(layout)`.
    pub fn format(&self, layout: &str) -> String {
        let c = self.civil();
        let mut out = String::with_capacity(layout.len() + 10);
        let mut rest = layout;
        loop {
            let (prefix, std, suffix) = next_std_chunk(rest);
            out.push_str(prefix);
            let Some(std) = std else { break };
            rest = suffix;
            format_std(&mut out, std, &c);
        }
        out
    }

    pub fn unix_seconds(&self) -> i64 {
        self.unix
    }

    /// Go's RFC3339Nano layout (JSON and YAML encodings of times).
    pub fn rfc3339nano(&self) -> String {
        self.format("2006-01-02T15:04:05.999999999Z07:00")
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Std {
    LongMonth,
    Month,
    NumMonth,
    ZeroMonth,
    LongWeekDay,
    WeekDay,
    Day,
    UnderDay,
    ZeroDay,
    UnderYearDay,
    ZeroYearDay,
    Hour,
    Hour12,
    ZeroHour12,
    Minute,
    ZeroMinute,
    Second,
    ZeroSecond,
    LongYear,
    Year,
    PM,
    Pm,
    TZ,
    Iso8601TZ,
    Iso8601SecondsTZ,
    Iso8601ShortTZ,
    Iso8601ColonTZ,
    Iso8601ColonSecondsTZ,
    NumTZ,
    NumSecondsTz,
    NumShortTZ,
    NumColonTZ,
    NumColonSecondsTZ,
    /// Fractional seconds: digits, trim zeros (`.999`), separator.
    Frac(usize, bool, u8),
}

fn starts_with_lower(s: &str) -> bool {
    s.as_bytes().first().is_some_and(|c| c.is_ascii_lowercase())
}

fn next_std_chunk(layout: &str) -> (&str, Option<Std>, &str) {
    let b = layout.as_bytes();
    let n = b.len();
    let has = |i: usize, p: &str| layout[i..].starts_with(p);
    for i in 0..n {
        let c = b[i];
        match c {
            b'J' if has(i, "Jan") => {
                if has(i, "January") {
                    return (&layout[..i], Some(Std::LongMonth), &layout[i + 7..]);
                }
                if !starts_with_lower(&layout[i + 3..]) {
                    return (&layout[..i], Some(Std::Month), &layout[i + 3..]);
                }
            }
            b'M' => {
                if has(i, "Mon") {
                    if has(i, "Monday") {
                        return (&layout[..i], Some(Std::LongWeekDay), &layout[i + 6..]);
                    }
                    if !starts_with_lower(&layout[i + 3..]) {
                        return (&layout[..i], Some(Std::WeekDay), &layout[i + 3..]);
                    }
                }
                if has(i, "MST") {
                    return (&layout[..i], Some(Std::TZ), &layout[i + 3..]);
                }
            }
            b'0' => {
                if i + 1 < n && (b'1'..=b'6').contains(&b[i + 1]) {
                    let s = [
                        Std::ZeroMonth,
                        Std::ZeroDay,
                        Std::ZeroHour12,
                        Std::ZeroMinute,
                        Std::ZeroSecond,
                        Std::Year,
                    ][(b[i + 1] - b'1') as usize];
                    return (&layout[..i], Some(s), &layout[i + 2..]);
                }
                if i + 2 < n && b[i + 1] == b'0' && b[i + 2] == b'2' {
                    return (&layout[..i], Some(Std::ZeroYearDay), &layout[i + 3..]);
                }
            }
            b'1' => {
                if i + 1 < n && b[i + 1] == b'5' {
                    return (&layout[..i], Some(Std::Hour), &layout[i + 2..]);
                }
                return (&layout[..i], Some(Std::NumMonth), &layout[i + 1..]);
            }
            b'2' => {
                if has(i, "2006") {
                    return (&layout[..i], Some(Std::LongYear), &layout[i + 4..]);
                }
                return (&layout[..i], Some(Std::Day), &layout[i + 1..]);
            }
            b'_' => {
                if i + 1 < n && b[i + 1] == b'2' {
                    if has(i + 1, "2006") {
                        return (&layout[..i + 1], Some(Std::LongYear), &layout[i + 5..]);
                    }
                    return (&layout[..i], Some(Std::UnderDay), &layout[i + 2..]);
                }
                if i + 2 < n && b[i + 1] == b'_' && b[i + 2] == b'2' {
                    return (&layout[..i], Some(Std::UnderYearDay), &layout[i + 3..]);
                }
            }
            b'3' => return (&layout[..i], Some(Std::Hour12), &layout[i + 1..]),
            b'4' => return (&layout[..i], Some(Std::Minute), &layout[i + 1..]),
            b'5' => return (&layout[..i], Some(Std::Second), &layout[i + 1..]),
            b'P' if i + 1 < n && b[i + 1] == b'M' => {
                return (&layout[..i], Some(Std::PM), &layout[i + 2..]);
            }
            b'p' if i + 1 < n && b[i + 1] == b'm' => {
                return (&layout[..i], Some(Std::Pm), &layout[i + 2..]);
            }
            b'-' => {
                for (p, s) in [
                    ("-070000", Std::NumSecondsTz),
                    ("-07:00:00", Std::NumColonSecondsTZ),
                    ("-0700", Std::NumTZ),
                    ("-07:00", Std::NumColonTZ),
                    ("-07", Std::NumShortTZ),
                ] {
                    if has(i, p) {
                        return (&layout[..i], Some(s), &layout[i + p.len()..]);
                    }
                }
            }
            b'Z' => {
                for (p, s) in [
                    ("Z070000", Std::Iso8601SecondsTZ),
                    ("Z07:00:00", Std::Iso8601ColonSecondsTZ),
                    ("Z0700", Std::Iso8601TZ),
                    ("Z07:00", Std::Iso8601ColonTZ),
                    ("Z07", Std::Iso8601ShortTZ),
                ] {
                    if has(i, p) {
                        return (&layout[..i], Some(s), &layout[i + p.len()..]);
                    }
                }
            }
            b'.' | b',' if i + 1 < n && (b[i + 1] == b'0' || b[i + 1] == b'9') => {
                let ch = b[i + 1];
                let mut j = i + 1;
                while j < n && b[j] == ch {
                    j += 1;
                }
                if !(j < n && b[j].is_ascii_digit()) {
                    return (
                        &layout[..i],
                        Some(Std::Frac(j - (i + 1), ch == b'9', c)),
                        &layout[j..],
                    );
                }
            }
            _ => {}
        }
    }
    (layout, None, "")
}

fn push_int(out: &mut String, v: i64, width: usize) {
    let mut v = v;
    if v < 0 {
        out.push('-');
        v = -v;
    }
    let s = v.to_string();
    for _ in s.len()..width {
        out.push('0');
    }
    out.push_str(&s);
}

fn format_std(out: &mut String, std: Std, c: &Civil) {
    let tz = |out: &mut String, iso: bool, colon: bool, secs: bool, short: bool| {
        if iso && c.offset == 0 {
            out.push('Z');
            return;
        }
        let mut z = c.offset / 60;
        let mut absoffset = c.offset;
        if z < 0 {
            out.push('-');
            z = -z;
            absoffset = -absoffset;
        } else {
            out.push('+');
        }
        push_int(out, (z / 60) as i64, 2);
        if !short {
            if colon {
                out.push(':');
            }
            push_int(out, (z % 60) as i64, 2);
        }
        if secs {
            if colon {
                out.push(':');
            }
            push_int(out, (absoffset % 60) as i64, 2);
        }
    };
    match std {
        Std::Year => push_int(out, c.year.rem_euclid(100), 2),
        Std::LongYear => push_int(out, c.year, 4),
        Std::Month => out.push_str(&LONG_MONTHS[c.month as usize - 1][..3]),
        Std::LongMonth => out.push_str(LONG_MONTHS[c.month as usize - 1]),
        Std::NumMonth => push_int(out, c.month as i64, 0),
        Std::ZeroMonth => push_int(out, c.month as i64, 2),
        Std::WeekDay => out.push_str(&LONG_DAYS[c.wday as usize][..3]),
        Std::LongWeekDay => out.push_str(LONG_DAYS[c.wday as usize]),
        Std::Day => push_int(out, c.day as i64, 0),
        Std::UnderDay => {
            if c.day < 10 {
                out.push(' ');
            }
            push_int(out, c.day as i64, 0);
        }
        Std::ZeroDay => push_int(out, c.day as i64, 2),
        Std::UnderYearDay => {
            if c.yday < 100 {
                out.push(' ');
                if c.yday < 10 {
                    out.push(' ');
                }
            }
            push_int(out, c.yday as i64, 0);
        }
        Std::ZeroYearDay => push_int(out, c.yday as i64, 3),
        Std::Hour => push_int(out, c.hour as i64, 2),
        Std::Hour12 | Std::ZeroHour12 => {
            let mut h = c.hour % 12;
            if h == 0 {
                h = 12;
            }
            push_int(out, h as i64, if std == Std::ZeroHour12 { 2 } else { 0 });
        }
        Std::Minute => push_int(out, c.min as i64, 0),
        Std::ZeroMinute => push_int(out, c.min as i64, 2),
        Std::Second => push_int(out, c.sec as i64, 0),
        Std::ZeroSecond => push_int(out, c.sec as i64, 2),
        Std::PM => out.push_str(if c.hour >= 12 { "PM" } else { "AM" }),
        Std::Pm => out.push_str(if c.hour >= 12 { "pm" } else { "am" }),
        Std::Iso8601TZ => tz(out, true, false, false, false),
        Std::Iso8601SecondsTZ => tz(out, true, false, true, false),
        Std::Iso8601ShortTZ => tz(out, true, false, false, true),
        Std::Iso8601ColonTZ => tz(out, true, true, false, false),
        Std::Iso8601ColonSecondsTZ => tz(out, true, true, true, false),
        Std::NumTZ => tz(out, false, false, false, false),
        Std::NumSecondsTz => tz(out, false, false, true, false),
        Std::NumShortTZ => tz(out, false, false, false, true),
        Std::NumColonTZ => tz(out, false, true, false, false),
        Std::NumColonSecondsTZ => tz(out, false, true, true, false),
        Std::TZ => {
            if !c.abbr.is_empty() {
                out.push_str(&c.abbr);
            } else {
                let mut z = c.offset / 60;
                if z < 0 {
                    out.push('-');
                    z = -z;
                } else {
                    out.push('+');
                }
                push_int(out, (z / 60) as i64, 2);
                push_int(out, (z % 60) as i64, 2);
            }
        }
        Std::Frac(n, trim, sep) => {
            let digits = format!("{:09}", c.nanos);
            let mut d = &digits[..n.min(9)];
            if trim {
                d = d.trim_end_matches('0');
                if d.is_empty() {
                    return;
                }
            }
            out.push(sep as char);
            out.push_str(d);
        }
    }
}

/// Go's `time` package `quote` used in parse errors.
fn tquote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

fn parse_err(layout: &str, value: &str, lelem: &str, velem: &str, msg: &str) -> String {
    if msg.is_empty() {
        format!(
            "parsing time {} as {}: cannot parse {} as {}",
            tquote(value),
            tquote(layout),
            tquote(velem),
            tquote(lelem)
        )
    } else {
        format!("parsing time {}{}", tquote(value), msg)
    }
}

fn getnum(s: &str, fixed: bool) -> Option<(i64, &str)> {
    let b = s.as_bytes();
    if b.is_empty() || !b[0].is_ascii_digit() {
        return None;
    }
    if b.len() < 2 || !b[1].is_ascii_digit() {
        if fixed {
            return None;
        }
        return Some(((b[0] - b'0') as i64, &s[1..]));
    }
    Some((((b[0] - b'0') * 10 + (b[1] - b'0')) as i64, &s[2..]))
}

fn getnum3(s: &str, fixed: bool) -> Option<(i64, &str)> {
    let b = s.as_bytes();
    let mut n = 0i64;
    let mut i = 0;
    while i < 3 && i < b.len() && b[i].is_ascii_digit() {
        n = n * 10 + (b[i] - b'0') as i64;
        i += 1;
    }
    if i == 0 || fixed && i != 3 {
        return None;
    }
    Some((n, &s[i..]))
}

fn lookup<'a>(tab: &[&str], val: &'a str, short: bool) -> Option<(usize, &'a str)> {
    for (i, name) in tab.iter().enumerate() {
        let name = if short { &name[..3] } else { name };
        if val
            .get(..name.len())
            .is_some_and(|p| p.eq_ignore_ascii_case(name))
        {
            return Some((i, &val[name.len()..]));
        }
    }
    None
}

fn parse_nanos(value: &str, nbytes: usize) -> Result<i64, &'static str> {
    let b = value.as_bytes();
    if b[0] != b'.' && b[0] != b',' {
        return Err("bad");
    }
    if nbytes > 10 {
        return Err("fractional second");
    }
    let mut ns: i64 = 0;
    for &c in &b[1..nbytes] {
        if !c.is_ascii_digit() {
            return Err("bad");
        }
        ns = ns * 10 + (c - b'0') as i64;
    }
    for _ in nbytes..10 {
        ns *= 10;
    }
    Ok(ns)
}

fn parse_tz_name(value: &str) -> Option<usize> {
    let b = value.as_bytes();
    if b.len() < 3 {
        return None;
    }
    if b.len() >= 4 && (b.starts_with(b"ChST") || b.starts_with(b"MeST")) {
        return Some(4);
    }
    if b.starts_with(b"GMT") {
        let mut n = 3;
        if b.len() > 3 && (b[3] == b'+' || b[3] == b'-') {
            n = 4;
            while n < b.len() && b[n].is_ascii_digit() {
                n += 1;
            }
        }
        return Some(n);
    }
    if b[0] == b'+' || b[0] == b'-' {
        let mut n = 1;
        while n < b.len() && b[n].is_ascii_digit() {
            n += 1;
        }
        return if n > 1 { Some(n) } else { None };
    }
    let mut n = 0;
    while n < b.len() && b[n].is_ascii_uppercase() {
        n += 1;
    }
    match n {
        0..=2 => None,
        3..=5 => {
            if n == 5 && b[4] != b'T' {
                return None;
            }
            if n == 4 && b[3] != b'T' && !b.starts_with(b"WITA") {
                return None;
            }
            Some(n)
        }
        _ => None,
    }
}

/// Go's `time.ParseInLocation(layout, value, loc)`.
pub fn parse_in_location(layout: &str, value: &str, loc: Loc) -> Result<GoTime, String> {
    let (alayout, avalue) = (layout, value);
    let mut layout = layout;
    let mut value = value;
    let (mut year, mut month, mut day, mut yday) = (0i64, -1i64, -1i64, -1i64);
    let (mut hour, mut min, mut sec, mut nsec) = (0i64, 0i64, 0i64, 0i64);
    let (mut pm_set, mut am_set) = (false, false);
    let mut zone_offset: Option<i32> = None;
    let mut zone_name = String::new();
    let mut utc = false;
    loop {
        let (prefix, std, suffix) = next_std_chunk(layout);
        let stdstr = &layout[prefix.len()..layout.len() - suffix.len()];
        // skip prefix
        let mut p = prefix;
        let mut v = value;
        while !p.is_empty() {
            let pc = p.as_bytes()[0];
            if pc == b' ' {
                if !v.is_empty() && v.as_bytes()[0] != b' ' {
                    return Err(parse_err(alayout, avalue, prefix, value, ""));
                }
                p = p.trim_start_matches(' ');
                v = v.trim_start_matches(' ');
                continue;
            }
            // Go compares bytes; a multi-byte character matches only whole (a partial match
            // fails on a later byte with the same error), so step by the layout's character.
            let n = p.chars().next().map_or(1, char::len_utf8);
            if v.is_empty() || v.as_bytes()[0] != pc || !v.starts_with(&p[..n]) {
                return Err(parse_err(alayout, avalue, prefix, value, ""));
            }
            p = &p[n..];
            v = &v[n..];
        }
        value = v;
        let Some(std) = std else {
            if !value.is_empty() {
                return Err(parse_err(
                    alayout,
                    avalue,
                    "",
                    value,
                    &format!(": extra text: {}", tquote(value)),
                ));
            }
            break;
        };
        layout = suffix;
        let hold = value;
        let mut range_err: Option<&str> = None;
        let ok: bool = (|| -> Option<()> {
            match std {
                Std::Year => {
                    if value.len() < 2 {
                        return None;
                    }
                    let p = value.get(..2)?;
                    value = &value[2..];
                    year = p.parse::<i64>().ok()?;
                    year += if year >= 69 { 1900 } else { 2000 };
                }
                Std::LongYear => {
                    if value.len() < 4 || !value.as_bytes()[0].is_ascii_digit() {
                        return None;
                    }
                    let p = value.get(..4)?;
                    value = &value[4..];
                    year = p.parse::<i64>().ok()?;
                }
                Std::Month | Std::LongMonth => {
                    let (m, r) = lookup(&LONG_MONTHS, value, std == Std::Month)?;
                    month = m as i64 + 1;
                    value = r;
                }
                Std::NumMonth | Std::ZeroMonth => {
                    let (m, r) = getnum(value, std == Std::ZeroMonth)?;
                    month = m;
                    value = r;
                    if !(1..=12).contains(&month) {
                        range_err = Some("month");
                    }
                }
                Std::WeekDay | Std::LongWeekDay => {
                    let (_, r) = lookup(&LONG_DAYS, value, std == Std::WeekDay)?;
                    value = r;
                }
                Std::Day | Std::UnderDay | Std::ZeroDay => {
                    if std == Std::UnderDay && value.starts_with(' ') {
                        value = &value[1..];
                    }
                    let (d, r) = getnum(value, std == Std::ZeroDay)?;
                    day = d;
                    value = r;
                }
                Std::UnderYearDay | Std::ZeroYearDay => {
                    for _ in 0..2 {
                        if std == Std::UnderYearDay && value.starts_with(' ') {
                            value = &value[1..];
                        }
                    }
                    let (d, r) = getnum3(value, std == Std::ZeroYearDay)?;
                    yday = d;
                    value = r;
                    if !(1..=366).contains(&yday) {
                        range_err = Some("day-of-year");
                    }
                }
                Std::Hour => {
                    let (h, r) = getnum(value, false)?;
                    hour = h;
                    value = r;
                    if !(0..24).contains(&hour) {
                        range_err = Some("hour");
                    }
                }
                Std::Hour12 | Std::ZeroHour12 => {
                    let (h, r) = getnum(value, std == Std::ZeroHour12)?;
                    hour = h;
                    value = r;
                    if !(0..=12).contains(&hour) {
                        range_err = Some("hour");
                    }
                }
                Std::Minute | Std::ZeroMinute => {
                    let (m, r) = getnum(value, std == Std::ZeroMinute)?;
                    min = m;
                    value = r;
                    if !(0..60).contains(&min) {
                        range_err = Some("minute");
                    }
                }
                Std::Second | Std::ZeroSecond => {
                    let (s, r) = getnum(value, std == Std::ZeroSecond)?;
                    sec = s;
                    value = r;
                    if !(0..60).contains(&sec) {
                        range_err = Some("second");
                        return Some(());
                    }
                    let vb = value.as_bytes();
                    if vb.len() >= 2 && (vb[0] == b'.' || vb[0] == b',') && vb[1].is_ascii_digit() {
                        let (_, nstd, _) = next_std_chunk(layout);
                        if matches!(nstd, Some(Std::Frac(..))) {
                            return Some(());
                        }
                        let mut n = 2;
                        while n < vb.len() && vb[n].is_ascii_digit() {
                            n += 1;
                        }
                        match parse_nanos(value, n) {
                            Ok(ns) => nsec = ns,
                            Err("bad") => return None,
                            Err(e) => range_err = Some(e),
                        }
                        value = &value[n..];
                    }
                }
                Std::PM | Std::Pm => {
                    if value.len() < 2 {
                        return None;
                    }
                    let p = value.get(..2)?;
                    value = &value[2..];
                    let (pm, am) = if std == Std::PM {
                        ("PM", "AM")
                    } else {
                        ("pm", "am")
                    };
                    if p == pm {
                        pm_set = true;
                    } else if p == am {
                        am_set = true;
                    } else {
                        return None;
                    }
                }
                Std::Iso8601TZ
                | Std::Iso8601ColonTZ
                | Std::Iso8601SecondsTZ
                | Std::Iso8601ShortTZ
                | Std::Iso8601ColonSecondsTZ
                | Std::NumTZ
                | Std::NumShortTZ
                | Std::NumColonTZ
                | Std::NumSecondsTz
                | Std::NumColonSecondsTZ => {
                    let iso = matches!(
                        std,
                        Std::Iso8601TZ
                            | Std::Iso8601ColonTZ
                            | Std::Iso8601SecondsTZ
                            | Std::Iso8601ShortTZ
                            | Std::Iso8601ColonSecondsTZ
                    );
                    if iso && value.starts_with('Z') {
                        value = &value[1..];
                        utc = true;
                        return Some(());
                    }
                    let colon = matches!(
                        std,
                        Std::Iso8601ColonTZ
                            | Std::NumColonTZ
                            | Std::Iso8601ColonSecondsTZ
                            | Std::NumColonSecondsTZ
                    );
                    let secs = matches!(
                        std,
                        Std::Iso8601SecondsTZ
                            | Std::NumSecondsTz
                            | Std::Iso8601ColonSecondsTZ
                            | Std::NumColonSecondsTZ
                    );
                    let short = matches!(std, Std::Iso8601ShortTZ | Std::NumShortTZ);
                    let vb = value.as_bytes();
                    let need =
                        3 + if short {
                            0
                        } else if colon {
                            3
                        } else {
                            2
                        } + if secs {
                            if colon {
                                3
                            } else {
                                2
                            }
                        } else {
                            0
                        };
                    if vb.len() < need {
                        return None;
                    }
                    let sign = vb[0];
                    if sign != b'+' && sign != b'-' {
                        return None;
                    }
                    let two = |s: &str| -> Option<i64> {
                        let b = s.as_bytes();
                        if b.len() < 2 || !b[0].is_ascii_digit() || !b[1].is_ascii_digit() {
                            return None;
                        }
                        Some(((b[0] - b'0') * 10 + (b[1] - b'0')) as i64)
                    };
                    let hh = two(value.get(1..3)?)?;
                    let mut idx = 3;
                    let mut mm = 0;
                    let mut ss = 0;
                    if !short {
                        if colon {
                            if vb[idx] != b':' {
                                return None;
                            }
                            idx += 1;
                        }
                        mm = two(value.get(idx..idx + 2)?)?;
                        idx += 2;
                    }
                    if secs {
                        if colon {
                            if vb[idx] != b':' {
                                return None;
                            }
                            idx += 1;
                        }
                        ss = two(value.get(idx..idx + 2)?)?;
                        idx += 2;
                    }
                    value = &value[idx..];
                    if hh > 24 {
                        range_err = Some("time zone offset hour");
                    }
                    if mm > 60 {
                        range_err = Some("time zone offset minute");
                    }
                    if ss > 60 {
                        range_err = Some("time zone offset second");
                    }
                    let mut off = ((hh * 60 + mm) * 60 + ss) as i32;
                    if sign == b'-' {
                        off = -off;
                    }
                    zone_offset = Some(off);
                }
                Std::TZ => {
                    if value.starts_with("UTC") {
                        utc = true;
                        value = &value[3..];
                        return Some(());
                    }
                    let n = parse_tz_name(value)?;
                    zone_name = value[..n].to_string();
                    value = &value[n..];
                }
                Std::Frac(n, trim, _) => {
                    if !trim {
                        let ndigit = 1 + n;
                        if value.len() < ndigit {
                            return None;
                        }
                        match parse_nanos(value, ndigit) {
                            Ok(ns) => nsec = ns,
                            Err("bad") => return None,
                            Err(e) => range_err = Some(e),
                        }
                        value = value.get(ndigit..)?;
                    } else {
                        let vb = value.as_bytes();
                        if vb.len() < 2
                            || !(vb[0] == b'.' || vb[0] == b',')
                            || !vb[1].is_ascii_digit()
                        {
                            return Some(());
                        }
                        let mut i = 0;
                        while i + 1 < vb.len() && vb[i + 1].is_ascii_digit() {
                            i += 1;
                        }
                        match parse_nanos(value, 1 + i) {
                            Ok(ns) => nsec = ns,
                            Err("bad") => return None,
                            Err(e) => range_err = Some(e),
                        }
                        value = &value[1 + i..];
                    }
                }
            }
            Some(())
        })()
        .is_some();
        if let Some(r) = range_err {
            return Err(parse_err(
                alayout,
                avalue,
                stdstr,
                value,
                &format!(": {} out of range", r),
            ));
        }
        if !ok {
            return Err(parse_err(alayout, avalue, stdstr, hold, ""));
        }
    }
    if pm_set && hour < 12 {
        hour += 12;
    } else if am_set && hour == 12 {
        hour = 0;
    }
    if yday >= 0 {
        let mut d = yday;
        let mut m = 1;
        if is_leap(year) {
            if d == 31 + 29 {
                m = 2;
                d = 29;
            } else if d > 31 + 29 {
                d -= 1;
            }
        }
        if m == 1 {
            let cum = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334, 365];
            if d > 365 {
                return Err(parse_err(
                    alayout,
                    avalue,
                    "",
                    value,
                    ": day-of-year out of range",
                ));
            }
            let mut mm = 1;
            while mm < 12 && d > cum[mm] {
                mm += 1;
            }
            m = mm as i64;
            d -= cum[mm - 1];
        }
        if month >= 0 && month != m {
            return Err(parse_err(
                alayout,
                avalue,
                "",
                value,
                ": day-of-year does not match month",
            ));
        }
        month = m;
        if day >= 0 && day != d {
            return Err(parse_err(
                alayout,
                avalue,
                "",
                value,
                ": day-of-year does not match day",
            ));
        }
        day = d;
    } else {
        if month < 0 {
            month = 1;
        }
        if day < 0 {
            day = 1;
        }
    }
    if day < 1 || day > days_in(month, year) {
        return Err(parse_err(alayout, avalue, "", value, ": day out of range"));
    }
    let days = days_from_civil(year, month, day);
    let wall = days * 86_400 + hour * 3600 + min * 60 + sec;
    if utc {
        return Ok(GoTime {
            unix: wall,
            nanos: nsec as u32,
            loc: Loc::Utc,
            mono: false,
        });
    }
    if let Some(off) = zone_offset {
        let unix = wall - off as i64;
        let t = GoTime {
            unix,
            nanos: nsec as u32,
            loc: loc.clone(),
            mono: false,
        };
        let (o, _) = loc.lookup(unix);
        if o == off {
            return Ok(t);
        }
        return Ok(GoTime {
            loc: Loc::Fixed(String::new(), off),
            ..t
        });
    }
    if !zone_name.is_empty() {
        let mut off = 0i32;
        let (o, abbr) = loc.lookup(wall);
        if abbr == zone_name {
            off = o;
        } else if zone_name.len() > 3 && zone_name.starts_with("GMT") {
            off = zone_name[3..].parse::<i32>().unwrap_or(0) * 3600;
        }
        return Ok(GoTime {
            unix: wall - off as i64,
            nanos: nsec as u32,
            loc: Loc::Fixed(zone_name, off),
            mono: false,
        });
    }
    // Wall clock in `loc`.
    let unix = match loc.tz() {
        Some(tz) => {
            let (y, mo, d) = civil_from_days(days);
            let dt = jiff::civil::DateTime::new(
                y as i16, mo as i8, d as i8, hour as i8, min as i8, sec as i8, 0,
            );
            match dt
                .ok()
                .and_then(|dt| tz.to_ambiguous_timestamp(dt).compatible().ok())
            {
                Some(ts) => ts.as_second(),
                None => wall,
            }
        }
        None => wall,
    };
    Ok(GoTime {
        unix,
        nanos: nsec as u32,
        loc,
        mono: false,
    })
}

/// Go's `time.ParseDuration`, in nanoseconds.
pub fn parse_duration(s: &str) -> Result<i64, String> {
    let orig = s;
    let err = || format!("time: invalid duration {}", tquote(orig));
    let mut s = s;
    let mut neg = false;
    if !s.is_empty() {
        let c = s.as_bytes()[0];
        if c == b'-' || c == b'+' {
            neg = c == b'-';
            s = &s[1..];
        }
    }
    if s == "0" {
        return Ok(0);
    }
    if s.is_empty() {
        return Err(err());
    }
    let mut d: u64 = 0;
    while !s.is_empty() {
        let b = s.as_bytes();
        if !(b[0] == b'.' || b[0].is_ascii_digit()) {
            return Err(err());
        }
        let mut i = 0;
        let mut v: u64 = 0;
        while i < b.len() && b[i].is_ascii_digit() {
            v = v
                .checked_mul(10)
                .and_then(|x| x.checked_add((b[i] - b'0') as u64))
                .ok_or_else(err)?;
            i += 1;
        }
        let pre = i != 0;
        let mut f: u64 = 0;
        let mut scale: f64 = 1.0;
        let mut post = false;
        if i < b.len() && b[i] == b'.' {
            i += 1;
            let st = i;
            let mut overflow = false;
            while i < b.len() && b[i].is_ascii_digit() {
                if !overflow {
                    if f > (1u64 << 63) / 10 {
                        overflow = true;
                    } else {
                        f = f * 10 + (b[i] - b'0') as u64;
                        scale *= 10.0;
                    }
                }
                i += 1;
            }
            post = i != st;
        }
        if !pre && !post {
            return Err(err());
        }
        let ust = i;
        while i < b.len() && b[i] != b'.' && !b[i].is_ascii_digit() {
            i += 1;
        }
        if ust == i {
            return Err(format!("time: missing unit in duration {}", tquote(orig)));
        }
        let u = &s[ust..i];
        let unit: u64 = match u {
            "ns" => 1,
            "us" | "\u{b5}s" | "\u{3bc}s" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            _ => {
                return Err(format!(
                    "time: unknown unit {} in duration {}",
                    tquote(u),
                    tquote(orig)
                ))
            }
        };
        if v > (1u64 << 63) / unit {
            return Err(err());
        }
        v *= unit;
        if f > 0 {
            v += (f as f64 * (unit as f64 / scale)) as u64;
            if v > 1u64 << 63 {
                return Err(err());
            }
        }
        d += v;
        if d > 1u64 << 63 {
            return Err(err());
        }
        s = &s[i..];
    }
    if neg {
        return Ok((d as i64).wrapping_neg());
    }
    if d > (1u64 << 63) - 1 {
        return Err(err());
    }
    Ok(d as i64)
}

/// Go's `Duration.String()`.
pub fn duration_string(d: i64) -> String {
    let neg = d < 0;
    let mut u = d.unsigned_abs();
    let mut out: Vec<u8> = Vec::new(); // built reversed
    let frac = |out: &mut Vec<u8>, v: u64, prec: usize| -> u64 {
        let mut v = v;
        let mut print = false;
        for _ in 0..prec {
            let digit = v % 10;
            print = print || digit != 0;
            if print {
                out.push(b'0' + digit as u8);
            }
            v /= 10;
        }
        if print {
            out.push(b'.');
        }
        v
    };
    let int = |out: &mut Vec<u8>, v: u64| {
        let s = v.to_string();
        out.extend(s.bytes().rev());
    };
    if u < 1_000_000_000 {
        out.push(b's');
        let prec;
        if u == 0 {
            return "0s".into();
        } else if u < 1_000 {
            prec = 0;
            out.push(b'n');
        } else if u < 1_000_000 {
            prec = 3;
            out.extend_from_slice(&[0xb5, 0xc2]);
        } else {
            prec = 6;
            out.push(b'm');
        }
        u = frac(&mut out, u, prec);
        int(&mut out, u);
    } else {
        out.push(b's');
        u = frac(&mut out, u, 9);
        int(&mut out, u % 60);
        u /= 60;
        if u > 0 {
            out.push(b'm');
            int(&mut out, u % 60);
            u /= 60;
            if u > 0 {
                out.push(b'h');
                int(&mut out, u);
            }
        }
    }
    if neg {
        out.push(b'-');
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multibyte_literals_in_layouts() {
        // Found by the long fuzz run: a layout literal whose first byte matched the value's
        // was sliced inside a multi-byte character.
        let t = parse_in_location("2006é01", "2024é03", Loc::Utc).unwrap();
        assert_eq!(t.go_string(), "2024-03-01 00:00:00 +0000 UTC");
        assert!(parse_in_location("x\u{fffd}06", "x\u{fffd}poch", Loc::Utc).is_err());
        // Same leading byte (0xC3), another character: refused, not a panic.
        assert!(parse_in_location("é2006", "è2024", Loc::Utc).is_err());
    }

    #[test]
    fn format_and_parse() {
        let t = parse_in_location("2006-01-02", "2024-03-05", Loc::Utc).unwrap();
        assert_eq!(t.unix, 1_709_596_800);
        assert_eq!(t.go_string(), "2024-03-05 00:00:00 +0000 UTC");
        assert_eq!(GoTime::zero().go_string(), "0001-01-01 00:00:00 +0000 UTC");
        assert_eq!(
            GoTime::from_unix(0, Loc::Utc).format("Mon Jan 2"),
            "Thu Jan 1"
        );
        assert_eq!(
            parse_in_location("2006-01-02", "bad", Loc::Utc).unwrap_err(),
            "parsing time \"bad\" as \"2006-01-02\": cannot parse \"bad\" as \"2006\""
        );
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("1h30m").unwrap(), 5_400_000_000_000);
        assert_eq!(
            parse_duration("bad").unwrap_err(),
            "time: invalid duration \"bad\""
        );
        assert_eq!(duration_string(3_600_000_000_000), "1h0m0s");
        assert_eq!(duration_string(1_500_000), "1.5ms");
        assert_eq!(duration_string(0), "0s");
    }
}
