//! `xs:duration` as used by `wsrm:Expires` (XML Schema part 2 §3.2.6).

use std::time::Duration;

/// Parses an `xs:duration` such as `PT10M`, `P1DT2H`, `PT0.5S`.
/// Years and months have no fixed length; like WCF's `XmlConvert.ToTimeSpan`, a year counts
/// 365 days and a month 30 days. Negative durations are rejected: an expiry cannot be negative.
pub fn parse(text: &str) -> Result<Duration, &'static str> {
    let s = text.trim();
    if s.starts_with('-') {
        return Err("negative duration");
    }
    let s = s.strip_prefix('P').ok_or("duration must start with 'P'")?;
    if s.is_empty() {
        return Err("duration has no components");
    }
    let (date, time) = match s.split_once('T') {
        Some((_, "")) => return Err("'T' without time components"),
        Some((d, t)) => (d, Some(t)),
        None => (s, None),
    };
    let mut total = 0u128; // nanoseconds
    const NS: u128 = 1_000_000_000;
    let mut parse_part = |part: &str, units: &[(char, u128)]| -> Result<(), &'static str> {
        let mut rest = part;
        let mut unit_idx = 0;
        while !rest.is_empty() {
            let end = rest
                .find(|c: char| !(c.is_ascii_digit() || c == '.'))
                .ok_or("number without unit")?;
            let (num, tail) = rest.split_at(end);
            let unit = tail.chars().next().ok_or("number without unit")?;
            let pos = units[unit_idx..]
                .iter()
                .position(|(u, _)| *u == unit)
                .ok_or("unit out of order or unknown")?;
            unit_idx += pos;
            let scale = units[unit_idx].1;
            unit_idx += 1;
            let value = if let Some((int, frac)) = num.split_once('.') {
                if unit != 'S' {
                    return Err("only seconds may have a fraction");
                }
                let int: u128 = parse_digits(int)?;
                let frac_digits = &frac[..frac.len().min(9)];
                if !frac.chars().all(|c| c.is_ascii_digit()) {
                    return Err("bad fraction");
                }
                let mut f: u128 = if frac_digits.is_empty() {
                    0
                } else {
                    frac_digits.parse().map_err(|_| "bad fraction")?
                };
                for _ in frac_digits.len()..9 {
                    f *= 10;
                }
                int * scale + f
            } else {
                parse_digits(num)? * scale
            };
            total = total.checked_add(value).ok_or("duration too large")?;
            rest = &tail[1..];
        }
        Ok(())
    };
    parse_part(
        date,
        &[
            ('Y', 365 * 86_400 * NS),
            ('M', 30 * 86_400 * NS),
            ('D', 86_400 * NS),
        ],
    )?;
    if let Some(time) = time {
        parse_part(time, &[('H', 3_600 * NS), ('M', 60 * NS), ('S', NS)])?;
    }
    let secs = u64::try_from(total / NS).map_err(|_| "duration too large")?;
    Ok(Duration::new(secs, (total % NS) as u32))
}

fn parse_digits(s: &str) -> Result<u128, &'static str> {
    if s.is_empty() || s.len() > 20 || !s.chars().all(|c| c.is_ascii_digit()) {
        return Err("bad number");
    }
    s.parse().map_err(|_| "bad number")
}

/// Formats a duration canonically as seconds: `PT600S`, `PT0.25S`.
pub fn format(d: Duration) -> String {
    if d.subsec_nanos() == 0 {
        format!("PT{}S", d.as_secs())
    } else {
        let frac = format!("{:09}", d.subsec_nanos());
        format!("PT{}.{}S", d.as_secs(), frac.trim_end_matches('0'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_common_forms() {
        assert_eq!(parse("PT10M"), Ok(Duration::from_secs(600)));
        assert_eq!(parse("P1DT2H"), Ok(Duration::from_secs(86_400 + 7_200)));
        assert_eq!(parse(" PT0.5S "), Ok(Duration::from_millis(500)));
        assert_eq!(parse("PT0S"), Ok(Duration::ZERO));
        assert_eq!(parse("P1Y"), Ok(Duration::from_secs(365 * 86_400)));
    }

    #[test]
    fn rejects_garbage() {
        for bad in [
            "", "P", "PT", "10M", "PT5", "PTM", "-PT1S", "PT1H1H", "PT1M1H", "P1.5D",
        ] {
            assert!(parse(bad).is_err(), "{bad} should fail");
        }
    }

    #[test]
    fn format_round_trips() {
        for d in [Duration::ZERO, Duration::from_millis(250), Duration::new(600, 1)] {
            assert_eq!(parse(&format(d)), Ok(d));
        }
    }
}
