//! Display filters in Wireshark's style over the timeline's fields: `wsrm.msgnum == 5`,
//! `wsrm.seq contains "8b60"`, `wsrm.ack.range == 7`, `wsrm.retransmission`,
//! `http.response.code == 503`, `frame.time_relative > 2`, combined with `&&`/`and`,
//! `||`/`or`, `!`/`not` and parentheses. A field alone tests that it is present (true).

use super::{Timeline, Wire, WireFlags, WireKind};

/// The fields, with their type and meaning (the README's table is made from the same list).
pub const FIELDS: &[(&str, &str, &str)] = &[
    (
        "frame.number",
        "number",
        "frame (captures), record (logs) or position (live), from 1",
    ),
    ("frame.time_relative", "seconds", "time since the first message"),
    ("frame.len", "number", "bytes of the message"),
    (
        "ip.src",
        "text",
        "the sender's endpoint (address:port, process or role)",
    ),
    ("ip.dst", "text", "the receiver's endpoint"),
    (
        "wsrm.kind",
        "text",
        "Message, Ack, CreateSequence, … (the Kind column)",
    ),
    (
        "wsrm.seq",
        "text",
        "the sequence identifier of the message or of its ack",
    ),
    (
        "wsrm.msgnum",
        "number",
        "the message number (messages and LastMessage)",
    ),
    (
        "wsrm.copy",
        "number",
        "1 for the first transmission, 2 for the first resend, …",
    ),
    ("wsrm.retransmission", "bool", "a copy beyond the first"),
    ("wsrm.ack", "bool", "carries a SequenceAcknowledgement"),
    (
        "wsrm.ack.range",
        "number",
        "a message number the ack's ranges cover",
    ),
    ("wsrm.ack.final", "bool", "the ack has wsrm:Final (1.1)"),
    ("wsrm.ack.none", "bool", "the ack says nothing was received"),
    ("wsrm.ackrequested", "bool", "carries AckRequested"),
    ("wsrm.lastmessage", "bool", "LastMessage (2005/02)"),
    (
        "wsrm.buffer_remaining",
        "number",
        "netrm:BufferRemaining of the ack",
    ),
    (
        "wsrm.fault",
        "text",
        "the WS-RM fault code (SequenceTerminated, …)",
    ),
    ("http.response", "bool", "carried in an HTTP response"),
    (
        "http.response.code",
        "number",
        "status of an HTTP response without SOAP",
    ),
    (
        "http.request.method",
        "text",
        "method of an HTTP request without SOAP",
    ),
    (
        "http.request.uri",
        "text",
        "target of an HTTP request without SOAP (/svc?wsdl)",
    ),
];

/// A parsed filter.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    /// A field alone: present and true.
    Test(Field),
    Compare(Field, Op, Value),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
    Contains,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Number(f64),
    Text(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Field(usize);

impl Field {
    pub fn name(self) -> &'static str {
        FIELDS[self.0].0
    }
}

/// What a field holds for one wire.
enum Got {
    Number(f64),
    Numbers(Vec<f64>),
    Text(String),
    Bool(bool),
    Absent,
}

/// Whether `text` is written in the display-filter language (not the short `seq:` forms).
pub fn looks_like_expression(text: &str) -> bool {
    let t = text.trim();
    ["==", "!=", ">", "<", "&&", "||", "(", "!"]
        .iter()
        .any(|op| t.contains(op))
        || t.split_whitespace()
            .any(|w| FIELDS.iter().any(|(f, _, _)| *f == w) || w == "contains" || w == "and" || w == "or")
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Word(String),
    Str(String),
    Num(f64),
    Op(Op),
    And,
    Or,
    Not,
    Open,
    Close,
}

/// Tokens with the column (1-based) each starts at.
fn lex(text: &str) -> Result<Vec<(usize, Tok)>, String> {
    let b: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let col = i + 1;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let two: String = b[i..(i + 2).min(b.len())].iter().collect();
        let tok = match two.as_str() {
            "==" => Some(Tok::Op(Op::Eq)),
            "!=" => Some(Tok::Op(Op::Ne)),
            ">=" => Some(Tok::Op(Op::Ge)),
            "<=" => Some(Tok::Op(Op::Le)),
            "&&" => Some(Tok::And),
            "||" => Some(Tok::Or),
            _ => None,
        };
        if let Some(t) = tok {
            out.push((col, t));
            i += 2;
            continue;
        }
        match c {
            '>' => out.push((col, Tok::Op(Op::Gt))),
            '<' => out.push((col, Tok::Op(Op::Lt))),
            '!' => out.push((col, Tok::Not)),
            '(' => out.push((col, Tok::Open)),
            ')' => out.push((col, Tok::Close)),
            '"' => {
                let mut s = String::new();
                i += 1;
                loop {
                    match b.get(i) {
                        None => return Err(format!("column {col}: the string is not closed (\")")),
                        Some('"') => break,
                        Some('\\') if b.get(i + 1).is_some() => {
                            s.push(b[i + 1]);
                            i += 2;
                            continue;
                        }
                        Some(&ch) => s.push(ch),
                    }
                    i += 1;
                }
                out.push((col, Tok::Str(s)));
            }
            _ => {
                let start = i;
                while i < b.len() && !b[i].is_whitespace() && !"=!<>()&|\"".contains(b[i]) {
                    i += 1;
                }
                if i == start {
                    return Err(format!("column {col}: unexpected '{c}'"));
                }
                let w: String = b[start..i].iter().collect();
                out.push((
                    col,
                    match w.as_str() {
                        "and" => Tok::And,
                        "or" => Tok::Or,
                        "not" => Tok::Not,
                        "contains" => Tok::Op(Op::Contains),
                        _ => match w.parse::<f64>() {
                            Ok(n) => Tok::Num(n),
                            Err(_) => Tok::Word(w),
                        },
                    },
                ));
                continue;
            }
        }
        i += 1;
    }
    Ok(out)
}

struct Parser {
    toks: Vec<(usize, Tok)>,
    at: usize,
    end: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.at).map(|(_, t)| t)
    }
    fn col(&self) -> usize {
        self.toks.get(self.at).map_or(self.end, |(c, _)| *c)
    }
    fn or(&mut self) -> Result<Expr, String> {
        let mut e = self.and()?;
        while self.peek() == Some(&Tok::Or) {
            self.at += 1;
            e = Expr::Or(Box::new(e), Box::new(self.and()?));
        }
        Ok(e)
    }
    fn and(&mut self) -> Result<Expr, String> {
        let mut e = self.unary()?;
        while self.peek() == Some(&Tok::And) {
            self.at += 1;
            e = Expr::And(Box::new(e), Box::new(self.unary()?));
        }
        Ok(e)
    }
    fn unary(&mut self) -> Result<Expr, String> {
        match self.peek() {
            Some(Tok::Not) => {
                self.at += 1;
                Ok(Expr::Not(Box::new(self.unary()?)))
            }
            Some(Tok::Open) => {
                self.at += 1;
                let e = self.or()?;
                if self.peek() != Some(&Tok::Close) {
                    return Err(format!("column {}: expected ')'", self.col()));
                }
                self.at += 1;
                Ok(e)
            }
            _ => self.relation(),
        }
    }
    fn relation(&mut self) -> Result<Expr, String> {
        let col = self.col();
        let field = match self.toks.get(self.at) {
            Some((_, Tok::Word(w))) => match FIELDS.iter().position(|(f, _, _)| f == w) {
                Some(i) => Field(i),
                None => {
                    return Err(format!(
                        "column {col}: unknown field \"{w}\" (see the README's list)"
                    ));
                }
            },
            Some(_) => return Err(format!("column {col}: expected a field name")),
            None => {
                return Err(format!(
                    "column {col}: the filter ends where a field was expected"
                ));
            }
        };
        self.at += 1;
        let op = match self.peek() {
            Some(Tok::Op(op)) => *op,
            _ => return Ok(Expr::Test(field)),
        };
        self.at += 1;
        let vcol = self.col();
        let value = match self.toks.get(self.at) {
            Some((_, Tok::Num(n))) => Value::Number(*n),
            Some((_, Tok::Str(s))) => Value::Text(s.clone()),
            Some((_, Tok::Word(w))) => Value::Text(w.clone()),
            _ => return Err(format!("column {vcol}: expected a value after the operator")),
        };
        self.at += 1;
        let kind = FIELDS[field.0].1;
        match (&value, op, kind) {
            (Value::Text(_), Op::Gt | Op::Ge | Op::Lt | Op::Le, _) => {
                return Err(format!(
                    "column {vcol}: {} compares numbers, not text",
                    field.name()
                ));
            }
            (Value::Text(t), _, "number" | "seconds") if op != Op::Contains => {
                return Err(format!(
                    "column {vcol}: {} is a number, not \"{t}\"",
                    field.name()
                ));
            }
            (_, Op::Contains, "number" | "seconds" | "bool") => {
                return Err(format!(
                    "column {vcol}: 'contains' takes a text field, not {}",
                    field.name()
                ));
            }
            _ => {}
        }
        Ok(Expr::Compare(field, op, value))
    }
}

impl Expr {
    /// Parses a filter; the error names the column.
    pub fn parse(text: &str) -> Result<Expr, String> {
        let toks = lex(text)?;
        let mut p = Parser {
            toks,
            at: 0,
            end: text.chars().count() + 1,
        };
        let e = p.or()?;
        if p.at < p.toks.len() {
            return Err(format!(
                "column {}: unexpected text after the expression",
                p.col()
            ));
        }
        Ok(e)
    }

    /// Whether wire `i` of `t` matches.
    pub fn matches(&self, t: &Timeline, i: u32) -> bool {
        let Some(w) = t.wires.get(i as usize) else {
            return false;
        };
        match self {
            Expr::And(a, b) => a.matches(t, i) && b.matches(t, i),
            Expr::Or(a, b) => a.matches(t, i) || b.matches(t, i),
            Expr::Not(a) => !a.matches(t, i),
            Expr::Test(f) => match get(t, i, &w, *f) {
                Got::Bool(b) => b,
                Got::Absent => false,
                Got::Numbers(v) => !v.is_empty(),
                Got::Text(s) => !s.is_empty(),
                Got::Number(_) => true,
            },
            Expr::Compare(f, op, v) => compare(&get(t, i, &w, *f), *op, v),
        }
    }
}

fn compare(got: &Got, op: Op, v: &Value) -> bool {
    let num = |x: f64, n: f64| match op {
        Op::Eq => x == n,
        Op::Ne => x != n,
        Op::Gt => x > n,
        Op::Ge => x >= n,
        Op::Lt => x < n,
        Op::Le => x <= n,
        Op::Contains => false,
    };
    match (got, v) {
        (Got::Number(x), Value::Number(n)) => num(*x, *n),
        // Any covered number matches (Wireshark's "any" semantics for repeated fields).
        (Got::Numbers(xs), Value::Number(n)) => xs.iter().any(|x| num(*x, *n)),
        (Got::Bool(b), Value::Number(n)) => num(f64::from(u8::from(*b)), *n),
        (Got::Bool(b), Value::Text(s)) => match op {
            Op::Eq => s.eq_ignore_ascii_case(if *b { "true" } else { "false" }),
            Op::Ne => !s.eq_ignore_ascii_case(if *b { "true" } else { "false" }),
            _ => false,
        },
        (Got::Text(x), v) => {
            let s = match v {
                Value::Text(s) => s.clone(),
                Value::Number(n) => n.to_string(),
            };
            let (x, s) = (x.to_ascii_lowercase(), s.to_ascii_lowercase());
            match op {
                Op::Eq => x == s,
                Op::Ne => x != s,
                Op::Contains => x.contains(&s),
                _ => false,
            }
        }
        _ => false,
    }
}

fn get(t: &Timeline, i: u32, w: &Wire, f: Field) -> Got {
    let endpoint = |e: u16| {
        t.endpoints
            .get(e as usize)
            .map_or(String::new(), |n| n.to_string())
    };
    let seq = |s| t.seq_info(s).map(|x| x.identifier.to_string());
    let has_ack = w.flags.has(WireFlags::HAS_ACK);
    match f.name() {
        "frame.number" => Got::Number(if w.frame > 0 {
            w.frame as f64
        } else {
            i as f64 + 1.0
        }),
        "frame.time_relative" => Got::Number(w.time.as_secs_f64()),
        "frame.len" => Got::Number(w.size as f64),
        "ip.src" => Got::Text(endpoint(w.from)),
        "ip.dst" => Got::Text(endpoint(w.to)),
        "wsrm.kind" => Got::Text(w.kind.label().to_string()),
        "wsrm.seq" => match (seq(w.seq), seq(t.ack_seq(w))) {
            (Some(a), Some(b)) if a != b => Got::Text(format!("{a} {b}")),
            (Some(a), _) | (None, Some(a)) => Got::Text(a),
            (None, None) => Got::Absent,
        },
        "wsrm.msgnum" if w.kind.is_sequenced() => Got::Number(w.number as f64),
        "wsrm.copy" if w.kind.is_sequenced() => Got::Number(f64::from(w.attempt()) + 1.0),
        "wsrm.retransmission" => Got::Bool(w.kind.is_sequenced() && w.attempt() > 0),
        "wsrm.ack" => Got::Bool(has_ack),
        "wsrm.ack.range" if has_ack && !w.flags.has(WireFlags::NACK) => {
            // Bounded: a range of a billion numbers is compared as its ends.
            let mut v = Vec::new();
            for r in t.ack_ranges(w) {
                let (lo, hi) = (r.lower.get(), r.upper.get());
                if hi - lo <= 4096 {
                    v.extend((lo..=hi).map(|n| n as f64));
                } else {
                    v.extend([lo as f64, hi as f64]);
                }
            }
            Got::Numbers(v)
        }
        "wsrm.ack.final" => Got::Bool(w.flags.has(WireFlags::FINAL)),
        "wsrm.ack.none" => Got::Bool(w.flags.has(WireFlags::ACK_NONE)),
        "wsrm.ackrequested" => Got::Bool(w.flags.has(WireFlags::ACK_REQUESTED)),
        "wsrm.lastmessage" => {
            Got::Bool(w.flags.has(WireFlags::LAST_MESSAGE) || w.kind == WireKind::LastMessage)
        }
        "wsrm.buffer_remaining" => t
            .buffer_remaining(w)
            .map_or(Got::Absent, |b| Got::Number(b as f64)),
        "wsrm.fault" => w
            .fault_code()
            .map_or(Got::Absent, |c| Got::Text(c.name().to_string())),
        "http.response" => Got::Bool(w.flags.has(WireFlags::RESPONSE)),
        "http.response.code" if w.kind == WireKind::Http && w.number > 0 => Got::Number(w.number as f64),
        "http.request.method" if w.kind == WireKind::Http => {
            crate::capture::http::method_name(w.method()).map_or(Got::Absent, |m| Got::Text(m.to_string()))
        }
        "http.request.uri" if w.kind == WireKind::Http => t
            .http_line(i)
            .filter(|_| !w.flags.has(WireFlags::RESPONSE))
            .and_then(|line| line.split(' ').nth(1))
            .map_or(Got::Absent, |uri| Got::Text(uri.to_string())),
        _ => Got::Absent,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_wiresharks_forms_and_names_the_column_of_an_error() {
        assert!(Expr::parse("wsrm.msgnum == 5 && !wsrm.retransmission").is_ok());
        assert!(
            Expr::parse("(wsrm.ack.range == 7 or http.response.code == 503) and frame.time_relative > 2")
                .is_ok()
        );
        assert!(Expr::parse("wsrm.seq contains \"8b60\"").is_ok());
        assert_eq!(
            Expr::parse("wsrm.msgnum ==").unwrap_err(),
            "column 15: expected a value after the operator"
        );
        assert_eq!(
            Expr::parse("wsrm.bogus == 1").unwrap_err(),
            "column 1: unknown field \"wsrm.bogus\" (see the README's list)"
        );
        assert_eq!(Expr::parse("(wsrm.ack").unwrap_err(), "column 10: expected ')'");
        assert!(
            Expr::parse("wsrm.msgnum == \"x\"")
                .unwrap_err()
                .contains("is a number")
        );
        assert!(
            Expr::parse("wsrm.msgnum contains 5")
                .unwrap_err()
                .contains("takes a text field")
        );
        assert!(Expr::parse("wsrm.seq \"x").unwrap_err().contains("not closed"));
        assert!(looks_like_expression("wsrm.retransmission"));
        assert!(!looks_like_expression("kind:ack msg:5"));
    }
}
