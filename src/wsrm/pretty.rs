//! Pretty-printed XML for the detail view (indentation only; text kept as is).

use quick_xml::events::Event;
use quick_xml::reader::Reader;
use quick_xml::writer::Writer;

/// Most bytes shown; a larger message is shown cut, with a note.
pub const MAX_PRETTY: usize = 1024 * 1024;

/// Re-indents `xml`; if it does not parse, returns it as text (lossy UTF-8) unchanged.
pub fn pretty(xml: &[u8]) -> String {
    let cut = xml.len() > MAX_PRETTY;
    let input = &xml[..xml.len().min(MAX_PRETTY)];
    let mut reader = Reader::from_reader(input);
    let mut writer = Writer::new_with_indent(Vec::new(), b' ', 2);
    let ok = loop {
        match reader.read_event() {
            Ok(Event::Eof) => break true,
            // Whitespace between elements is replaced by the indentation.
            Ok(Event::Text(t)) if t.trim().is_empty() => {}
            Ok(e) => {
                if writer.write_event(e).is_err() {
                    break false;
                }
            }
            Err(_) => break false,
        }
    };
    let mut out = if ok {
        String::from_utf8_lossy(&writer.into_inner()).into_owned()
    } else {
        String::from_utf8_lossy(input).into_owned()
    };
    if cut {
        out.push_str(&format!("\n… ({} more bytes not shown)", xml.len() - MAX_PRETTY));
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn indents_and_survives_garbage() {
        let p = super::pretty(b"<a><b x=\"1\">t &amp; u</b><c/></a>");
        assert_eq!(p, "<a>\n  <b x=\"1\">t &amp; u</b>\n  <c/>\n</a>");
        assert_eq!(super::pretty(b"<a><b></a>"), "<a><b></a>");
    }
}
