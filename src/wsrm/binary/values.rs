//! [MC-NBFX] §2.2.3 text records: typed values and how WCF writes them as text
//! (System.Xml XmlConverter; the spec's examples where its prose differs).

use super::nbfx::{BinaryError, Reader};
use base64::Engine;
use std::fmt::Write;

/// Ticks (100 ns) per second.
const TICKS: u64 = 10_000_000;

/// Appends the text of one text record (type `base`, the even code) read from `r`.
pub(super) fn render(
    r: &mut Reader<'_>,
    base: u8,
    out: &mut String,
    dict: impl Fn(&Reader<'_>, u32) -> Result<String, BinaryError>,
) -> Result<(), BinaryError> {
    match base {
        0x80 => out.push('0'),
        0x82 => out.push('1'),
        0x84 => out.push_str("false"),
        0x86 => out.push_str("true"),
        0x88 => {
            let _ = write!(out, "{}", r.u8()? as i8);
        }
        0x8A => {
            let _ = write!(out, "{}", i16::from_le_bytes(r.array()?));
        }
        0x8C => {
            let _ = write!(out, "{}", i32::from_le_bytes(r.array()?));
        }
        0x8E => {
            let _ = write!(out, "{}", i64::from_le_bytes(r.array()?));
        }
        0x90 => float(out, f64::from(f32::from_le_bytes(r.array()?)), true),
        0x92 => float(out, f64::from_le_bytes(r.array()?), false),
        0x94 => decimal(out, &r.array::<16>()?),
        0x96 => {
            let at = r.pos;
            datetime(out, u64::from_le_bytes(r.array()?)).map_err(|what| BinaryError { offset: at, what })?
        }
        0x98 | 0x9A | 0x9C => out.push_str(chars(r, base)?),
        0x9E => {
            let n = r.u8()? as usize;
            base64(out, r.bytes(n)?);
        }
        0xA0 => {
            let n = u16::from_le_bytes(r.array()?) as usize;
            base64(out, r.bytes(n)?);
        }
        0xA2 => {
            let n = len32(r)?;
            base64(out, r.bytes(n)?);
        }
        0xA8 => {}
        0xAA => {
            let id = r.mb31()?;
            out.push_str(&dict(r, id)?);
        }
        0xAC => {
            out.push_str("urn:uuid:");
            guid(out, &r.array()?);
        }
        0xAE => timespan(out, i64::from_le_bytes(r.array()?)),
        0xB0 => guid(out, &r.array()?),
        0xB2 => {
            let _ = write!(out, "{}", u64::from_le_bytes(r.array()?));
        }
        0xB4 => out.push_str(if r.u8()? != 0 { "true" } else { "false" }),
        0xB6 => {
            let n = r.u8()? as usize;
            utf16(r, n, out)?;
        }
        0xB8 => {
            let n = u16::from_le_bytes(r.array()?) as usize;
            utf16(r, n, out)?;
        }
        0xBA => {
            let n = len32(r)?;
            utf16(r, n, out)?;
        }
        0xBC => {
            let p = r.u8()?;
            if p > 25 {
                return Err(r.err(format!("QName prefix index {p} is not a–z")));
            }
            let id = r.mb31()?;
            out.push(char::from(b'a' + p));
            out.push(':');
            out.push_str(&dict(r, id)?);
        }
        _ => return Err(r.err(format!("record 0x{base:02X} is not a text record"))),
    }
    Ok(())
}

/// A 4-byte length that must not be negative (Chars32, Bytes32, UnicodeChars32).
/// The UTF-8 text of a Chars8/16/32Text record ([MC-NBFX] §2.2.3.8–10), type byte already read.
pub(super) fn chars<'a>(r: &mut Reader<'a>, t: u8) -> Result<&'a str, BinaryError> {
    let n = match t & !1 {
        0x98 => r.u8()? as usize,
        0x9A => u16::from_le_bytes(r.array()?) as usize,
        _ => len32(r)?,
    };
    r.utf8(n)
}

fn len32(r: &mut Reader<'_>) -> Result<usize, BinaryError> {
    let n = i32::from_le_bytes(r.array()?);
    usize::try_from(n).map_err(|_| r.err(format!("negative length {n}")))
}

fn utf16(r: &mut Reader<'_>, n: usize, out: &mut String) -> Result<(), BinaryError> {
    if !n.is_multiple_of(2) {
        return Err(r.err("UTF-16 text of an odd number of bytes"));
    }
    let b = r.bytes(n)?;
    let units = b.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]]));
    out.extend(char::decode_utf16(units).map(|c| c.unwrap_or('\u{FFFD}')));
    Ok(())
}

fn base64(out: &mut String, b: &[u8]) {
    base64::engine::general_purpose::STANDARD.encode_string(b, out);
}

/// .NET's Guid(byte[]) order: Data1 u32 LE, Data2 u16 LE, Data3 u16 LE, then 8 bytes as is.
fn guid(out: &mut String, b: &[u8; 16]) {
    let _ = write!(
        out,
        "{:08x}-{:04x}-{:04x}-{:02x}{:02x}-{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}",
        u32::from_le_bytes([b[0], b[1], b[2], b[3]]),
        u16::from_le_bytes([b[4], b[5]]),
        u16::from_le_bytes([b[6], b[7]]),
        b[8],
        b[9],
        b[10],
        b[11],
        b[12],
        b[13],
        b[14],
        b[15]
    );
}

/// XmlConvert.ToString(double/float): INF, -INF, NaN, else the shortest round-trip digits,
/// in exponent form (`1E+16`) outside the plain range .NET uses.
fn float(out: &mut String, v: f64, single: bool) {
    if v.is_nan() {
        out.push_str("NaN");
        return;
    }
    if v.is_infinite() {
        out.push_str(if v > 0.0 { "INF" } else { "-INF" });
        return;
    }
    if v == 0.0 {
        out.push_str(if v.is_sign_negative() { "-0" } else { "0" });
        return;
    }
    // Shortest digits of the value at its own precision.
    let sci = if single {
        format!("{:e}", v as f32)
    } else {
        format!("{v:e}")
    };
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let limit = if single { 7 } else { 15 };
    if (-5..limit).contains(&exp) {
        if single {
            let _ = write!(out, "{}", v as f32);
        } else {
            let _ = write!(out, "{v}");
        }
    } else {
        let sign = if exp < 0 { '-' } else { '+' };
        let _ = write!(out, "{mantissa}E{sign}{:02}", exp.abs());
    }
}

/// System.Decimal: scale byte 2, sign byte 3 (0x80 negative), Hi32 at 4, Lo64 at 8; printed
/// with exactly `scale` fraction digits, as .NET does.
fn decimal(out: &mut String, b: &[u8; 16]) {
    let scale = u32::from(b[2].min(28));
    let negative = b[3] & 0x80 != 0;
    let hi = u128::from(u32::from_le_bytes([b[4], b[5], b[6], b[7]]));
    let lo = u128::from(u64::from_le_bytes(b[8..16].try_into().expect("8 bytes")));
    let digits = ((hi << 64) | lo).to_string();
    let scale = scale as usize;
    let digits = if digits.len() <= scale {
        format!("{}{digits}", "0".repeat(scale + 1 - digits.len()))
    } else {
        digits
    };
    if negative {
        out.push('-');
    }
    let (int, frac) = digits.split_at(digits.len() - scale);
    out.push_str(int);
    if scale > 0 {
        out.push('.');
        out.push_str(frac);
    }
}

/// DateTime.FromBinary: 62 bits of ticks since 0001-01-01, 2 bits of kind. Written as
/// `yyyy-MM-ddTHH:mm:ss[.fffffff]` plus `Z` (UTC) or `+00:00` (local, read as a reader in UTC
/// would — the decoder's zone is not the sender's).
fn datetime(out: &mut String, v: u64) -> Result<(), String> {
    let ticks = v & 0x3FFF_FFFF_FFFF_FFFF;
    let kind = v >> 62;
    // [MC-NBFX] §2.2.3.8: ticks below 3155378976000000000 (year 10000).
    if ticks >= 3_155_378_976_000_000_000 {
        return Err(format!("DateTime ticks {ticks} beyond year 9999"));
    }
    let secs = ticks / TICKS;
    let frac = ticks % TICKS;
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (y, m, d) = civil(days);
    let _ = write!(
        out,
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    );
    if frac != 0 {
        let f = format!("{frac:07}");
        out.push('.');
        out.push_str(f.trim_end_matches('0'));
    }
    match kind {
        0 => {}
        1 => out.push('Z'),
        _ => out.push_str("+00:00"),
    }
    Ok(())
}

/// Days since 0001-01-01 → (year, month, day), proleptic Gregorian (H. Hinnant's algorithm,
/// shifted from 1970).
fn civil(days_since_0001: i64) -> (i64, u32, u32) {
    let z = days_since_0001 - 719_162 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// XmlConvert.ToString(TimeSpan): xsd:duration `[-]P[nD][T[nH][nM][n[.f]S]]`, `PT0S` for zero.
fn timespan(out: &mut String, ticks: i64) {
    if ticks == 0 {
        out.push_str("PT0S");
        return;
    }
    if ticks < 0 {
        out.push('-');
    }
    let t = ticks.unsigned_abs();
    let (days, h, m, s, f) = (
        t / (86_400 * TICKS),
        t / (3600 * TICKS) % 24,
        t / (60 * TICKS) % 60,
        t / TICKS % 60,
        t % TICKS,
    );
    out.push('P');
    if days > 0 {
        let _ = write!(out, "{days}D");
    }
    if h > 0 || m > 0 || s > 0 || f > 0 {
        out.push('T');
        if h > 0 {
            let _ = write!(out, "{h}H");
        }
        if m > 0 {
            let _ = write!(out, "{m}M");
        }
        if s > 0 || f > 0 {
            let _ = write!(out, "{s}");
            if f > 0 {
                let f = format!("{f:07}");
                out.push('.');
                out.push_str(f.trim_end_matches('0'));
            }
            out.push('S');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(bytes: &[u8]) -> String {
        let mut r = Reader::new(&bytes[1..]);
        let mut s = String::new();
        render(&mut r, bytes[0] & !1, &mut s, |r, _| Err(r.err("none"))).unwrap();
        s
    }

    // The expected texts are [MC-NBFX] §3's examples.
    #[test]
    fn spec_examples() {
        assert_eq!(
            text(&[0x96, 0xFF, 0x3F, 0x37, 0xF4, 0x75, 0x28, 0xCA, 0x2B]),
            "9999-12-31T23:59:59.9999999"
        );
        assert_eq!(
            text(&[0x97, 0x00, 0x40, 0x8E, 0xF9, 0x5B, 0x47, 0xC8, 0x08]),
            "2006-05-17T00:00:00"
        );
        assert_eq!(
            text(&[0xAE, 0x00, 0xC4, 0xF5, 0x32, 0xFF, 0xFF, 0xFF, 0xFF]),
            "-PT5M44S"
        );
        assert_eq!(
            text(&[0xAE, 0x00, 0xB0, 0x8E, 0xF0, 0x1B, 0x00, 0x00, 0x00]),
            "PT3H20M"
        );
        let mut g = vec![0xAC];
        g.extend([
            0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xAA, 0xBB, 0xCC, 0xDD, 0xEE, 0xFF,
        ]);
        assert_eq!(text(&g), "urn:uuid:33221100-5544-7766-8899-aabbccddeeff");
        let mut u = vec![0xB0];
        u.extend(0u8..16);
        assert_eq!(text(&u), "03020100-0504-0706-0809-0a0b0c0d0e0f");
        assert_eq!(
            text(&[
                0x94, 0x00, 0x00, 0x06, 0x00, 0, 0, 0, 0, 0x80, 0x2D, 0x4E, 0, 0, 0, 0, 0
            ]),
            "5.123456"
        );
        let mut max = vec![0x94, 0, 0, 0, 0];
        max.extend([0xFF; 12]);
        assert_eq!(text(&max), "79228162514264337593543950335");
        assert_eq!(text(&[0x90, 0xCD, 0xCC, 0x8C, 0x3F]), "1.1");
        assert_eq!(text(&[0x90, 0xCD, 0xCC, 0x01, 0x42]), "32.45");
        assert_eq!(text(&[0x9E, 0x03, 0x00, 0x01, 0x02]), "AAEC");
        assert_eq!(text(&[0x8C, 0x00, 0x00, 0x00, 0x80]), "-2147483648");
        assert_eq!(text(&[0xB6, 0x06, 0x61, 0x00, 0x62, 0x00, 0x63, 0x00]), "abc");
        assert_eq!(text(&[0x92, 0, 0, 0, 0, 0, 0, 0xF0, 0x7F]), "INF");
    }
}
