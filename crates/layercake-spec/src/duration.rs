use std::time::Duration;

/// Why a Go-style duration did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    #[error("the duration is empty")]
    Empty,
    #[error("`{0}` is negative; durations must be zero or more")]
    Negative(String),
    #[error("`{0}` has no unit; write it like `30s`, `1m30s` or `500ms`")]
    MissingUnit(String),
    #[error("`{input}` has an unknown unit `{unit}` (units: ns, us, ms, s, m, h)")]
    UnknownUnit { input: String, unit: String },
    #[error("`{0}` is not a duration like `30s`, `1m30s`, `1.5s` or `500ms`")]
    Malformed(String),
    #[error("`{0}` is too long")]
    Overflow(String),
}

/// Parses a Go-style duration (`1h2m3s`, `500ms`, `1.5s`, `0`), as Docker and BuildKit write
/// them: one or more decimal numbers, each with a unit (`ns`, `us`/`µs`, `ms`, `s`, `m`, `h`).
/// The total must fit in a signed 64-bit count of nanoseconds (Docker's image config field).
pub fn parse_duration(input: &str) -> Result<Duration, DurationError> {
    let text = input.trim();
    if text.is_empty() {
        return Err(DurationError::Empty);
    }
    if text.starts_with('-') {
        return Err(DurationError::Negative(input.to_owned()));
    }
    let text = text.strip_prefix('+').unwrap_or(text);
    if text == "0" {
        return Ok(Duration::ZERO);
    }
    let malformed = || DurationError::Malformed(input.to_owned());
    let overflow = || DurationError::Overflow(input.to_owned());
    let mut total: u128 = 0;
    let mut rest = text;
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (number, after) = rest.split_at(number_len);
        let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
        if (whole.is_empty() && fraction.is_empty()) || fraction.contains('.') {
            return Err(malformed());
        }
        let unit_len = after
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(after.len());
        let (unit, next) = after.split_at(unit_len);
        if unit.is_empty() {
            return Err(DurationError::MissingUnit(input.to_owned()));
        }
        let unit_nanos: u128 = match unit {
            "ns" => 1,
            "us" | "µs" | "μs" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            other => {
                return Err(DurationError::UnknownUnit {
                    input: input.to_owned(),
                    unit: other.to_owned(),
                });
            }
        };
        let whole: u128 = if whole.is_empty() {
            0
        } else {
            whole.parse().map_err(|_| overflow())?
        };
        let mut part = whole.checked_mul(unit_nanos).ok_or_else(overflow)?;
        // Fractions are exact down to the nanosecond; further digits cannot matter.
        let mut scale = unit_nanos;
        for digit in fraction.chars().take(20) {
            scale /= 10;
            let value = u128::from(digit.to_digit(10).ok_or_else(malformed)?);
            part = part.checked_add(value * scale).ok_or_else(overflow)?;
        }
        total = total.checked_add(part).ok_or_else(overflow)?;
        rest = next;
    }
    let nanos = u64::try_from(total)
        .ok()
        .filter(|n| i64::try_from(*n).is_ok())
        .ok_or_else(overflow)?;
    Ok(Duration::from_nanos(nanos))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_style_durations() {
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("1h2m3s"), Ok(Duration::from_secs(3723)));
        assert_eq!(parse_duration("0"), Ok(Duration::ZERO));
        assert_eq!(parse_duration("0s"), Ok(Duration::ZERO));
        assert_eq!(parse_duration(".5m"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("1.s"), Ok(Duration::from_secs(1)));
        assert_eq!(parse_duration("10us"), Ok(Duration::from_micros(10)));
        assert_eq!(parse_duration("10µs"), Ok(Duration::from_micros(10)));
        assert_eq!(parse_duration("7ns"), Ok(Duration::from_nanos(7)));
        assert_eq!(parse_duration("2h"), Ok(Duration::from_secs(7200)));
        assert_eq!(
            parse_duration("1.000000001s"),
            Ok(Duration::from_nanos(1_000_000_001))
        );
        assert_eq!(parse_duration("+5s"), Ok(Duration::from_secs(5)));
    }

    #[test]
    fn rejects_bad_durations() {
        assert_eq!(parse_duration(""), Err(DurationError::Empty));
        assert_eq!(
            parse_duration("-5s"),
            Err(DurationError::Negative("-5s".into()))
        );
        assert_eq!(
            parse_duration("30"),
            Err(DurationError::MissingUnit("30".into()))
        );
        assert_eq!(
            parse_duration("1m30"),
            Err(DurationError::MissingUnit("1m30".into()))
        );
        assert_eq!(
            parse_duration("5d"),
            Err(DurationError::UnknownUnit {
                input: "5d".into(),
                unit: "d".into()
            })
        );
        assert_eq!(
            parse_duration("5 s"),
            Err(DurationError::UnknownUnit {
                input: "5 s".into(),
                unit: " s".into()
            })
        );
        assert_eq!(
            parse_duration("s"),
            Err(DurationError::Malformed("s".into()))
        );
        assert_eq!(
            parse_duration("1.2.3s"),
            Err(DurationError::Malformed("1.2.3s".into()))
        );
        assert_eq!(
            parse_duration(".s"),
            Err(DurationError::Malformed(".s".into()))
        );
        assert_eq!(
            parse_duration("9999999999h"),
            Err(DurationError::Overflow("9999999999h".into()))
        );
    }
}
