//! The timeline as a table: one CSV row per wire message (`analyze --csv`, the app's export).

use super::{Timeline, WireFlags};

/// One row per wire: frame, time, endpoints, sequence, kind, number, copy, ack ranges, ...
pub fn to_csv(t: &Timeline) -> Result<String, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "frame",
        "time",
        "source",
        "destination",
        "sequence",
        "kind",
        "message_number",
        "copy",
        "ack_requested",
        "last_message",
        "ack_sequence",
        "ack_ranges",
        "final",
        "buffer_remaining",
        "fault",
        "size",
    ])?;
    for wire in &t.wires {
        let ep = |e: u16| {
            t.endpoints
                .get(e as usize)
                .map_or(String::new(), |n| n.to_string())
        };
        let seq = |s| t.seq_info(s).map_or(String::new(), |i| i.identifier.to_string());
        let ranges = t
            .ack_ranges(&wire)
            .iter()
            .map(|r| format!("{}-{}", r.lower, r.upper))
            .collect::<Vec<_>>()
            .join(" ");
        w.write_record([
            wire.frame.to_string(),
            format!("{:.9}", wire.time.as_secs_f64()),
            ep(wire.from),
            ep(wire.to),
            seq(wire.seq),
            wire.kind.label().to_string(),
            if wire.number > 0 {
                wire.number.to_string()
            } else {
                String::new()
            },
            wire.attempt().to_string(),
            wire.flags.has(WireFlags::ACK_REQUESTED).to_string(),
            wire.flags.has(WireFlags::LAST_MESSAGE).to_string(),
            seq(t.ack_seq(&wire)),
            ranges,
            wire.flags.has(WireFlags::FINAL).to_string(),
            t.buffer_remaining(&wire).map_or(String::new(), |b| b.to_string()),
            wire.fault_code().map_or(String::new(), |f| f.name().to_string()),
            wire.size.to_string(),
        ])?;
    }
    let bytes = w.into_inner().map_err(|e| e.into_error())?;
    Ok(String::from_utf8(bytes).expect("CSV of UTF-8 fields"))
}
