//! HTTP dates (RFC 9110 §5.6.7): parsing the three formats a recipient must
//! accept (IMF-fixdate, RFC 850, asctime) into milliseconds since the Unix
//! epoch. An unparseable date is `None`; callers decide what that means.

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

/// `text` as milliseconds since the epoch, or `None` when it is not an HTTP
/// date.
pub fn parse(text: &str) -> Option<u64> {
    let words: Vec<&str> = text
        .split([' ', ',', '-'])
        .filter(|w| !w.is_empty())
        .collect();
    // IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT
    // RFC 850:     Sunday, 06-Nov-94 08:49:37 GMT
    // asctime:     Sun Nov  6 08:49:37 1994
    let (day, month, year, time) = match words.as_slice() {
        [_, day, month, year, time, "GMT"] => (*day, *month, *year, *time),
        [_, month, day, time, year] => (*day, *month, *year, *time),
        _ => return None,
    };
    let day: u64 = number(day, 1, 2)?;
    let month = MONTHS.iter().position(|m| m.eq_ignore_ascii_case(month))? as u64 + 1;
    let mut year: u64 = number(year, 2, 4)?;
    if year < 100 {
        // RFC 9110: a two-digit year more than 50 years in the future is in
        // the past century.
        year += if year < 70 { 2000 } else { 1900 };
    }
    let mut hms = time.split(':');
    let hour: u64 = number(hms.next()?, 2, 2)?;
    let minute: u64 = number(hms.next()?, 2, 2)?;
    let second: u64 = number(hms.next()?, 2, 2)?;
    if hms.next().is_some() || !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let days = days_from_civil(year, month, day)?;
    Some(((days * 24 + hour) * 60 + minute) * 60_000 + second * 1000)
}

fn number(text: &str, min_len: usize, max_len: usize) -> Option<u64> {
    let ok = (min_len..=max_len).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_digit());
    ok.then(|| text.parse().ok()).flatten()
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
/// algorithm); `None` before 1970.
fn days_from_civil(year: u64, month: u64, day: u64) -> Option<u64> {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y / 400;
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    (era * 146_097 + doe).checked_sub(719_468)
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXPECTED: u64 = 784_111_777_000;

    #[test]
    fn the_three_formats_give_the_same_instant() {
        assert_eq!(parse("Sun, 06 Nov 1994 08:49:37 GMT"), Some(EXPECTED));
        assert_eq!(parse("Sunday, 06-Nov-94 08:49:37 GMT"), Some(EXPECTED));
        assert_eq!(parse("Sun Nov  6 08:49:37 1994"), Some(EXPECTED));
    }

    #[test]
    fn the_epoch_and_a_leap_day_parse() {
        assert_eq!(parse("Thu, 01 Jan 1970 00:00:00 GMT"), Some(0));
        assert_eq!(
            parse("Thu, 29 Feb 2024 12:00:00 GMT"),
            Some(1_709_208_000_000)
        );
    }

    #[test]
    fn garbage_is_not_a_date() {
        for text in [
            "0",
            "-1",
            "",
            "Sun, 06 Nov 1994 08:49 GMT",
            "Sun, 32 Nov 1994 08:49:37 GMT",
        ] {
            assert_eq!(parse(text), None, "{text}");
        }
    }
}
