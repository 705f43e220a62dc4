//! Units written in the configuration: durations such as `"250ms"`, `"10s"`,
//! `"2m"`, `"1h"`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer};

/// A duration written as a number followed by `ms`, `s`, `m` or `h`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Duration(pub std::time::Duration);

impl Duration {
    pub const fn secs(secs: u64) -> Self {
        Self(std::time::Duration::from_secs(secs))
    }
}

impl FromStr for Duration {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let split = text
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len());
        let (number, unit) = text.split_at(split);
        let number: u64 = number
            .parse()
            .map_err(|_| format!("`{text}` is not a duration: write a whole number and a unit, like \"500ms\" or \"30s\""))?;
        let millis = match unit.trim() {
            "ms" => number,
            "s" => number * 1_000,
            "m" => number * 60_000,
            "h" => number * 3_600_000,
            other => {
                return Err(format!(
                    "`{other}` is not a duration unit in `{text}`: use ms, s, m or h"
                ));
            }
        };
        Ok(Self(std::time::Duration::from_millis(millis)))
    }
}

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}ms", self.0.as_millis())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_each_unit() {
        assert_eq!("250ms".parse::<Duration>().unwrap().0.as_millis(), 250);
        assert_eq!("10s".parse::<Duration>().unwrap().0.as_secs(), 10);
        assert_eq!("2m".parse::<Duration>().unwrap().0.as_secs(), 120);
        assert_eq!("1h".parse::<Duration>().unwrap().0.as_secs(), 3600);
    }

    #[test]
    fn refuses_missing_or_unknown_units() {
        assert!("10".parse::<Duration>().unwrap_err().contains("unit"));
        assert!("10 weeks".parse::<Duration>().is_err());
        assert!("fast".parse::<Duration>().is_err());
    }
}
