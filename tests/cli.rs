//! The command line, run as a user would: real fixtures, broken files, bad flags.

mod common;

use std::process::{Command, Output};

fn rmscope(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rmscope"))
        .args(args)
        .output()
        .expect("runs")
}

fn fixture(name: &str) -> String {
    format!(
        "{}/../shared/fixtures/wsrm-messages/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn assert_one_line_error(o: &Output, needle: &str) {
    assert_eq!(o.status.code(), Some(2), "{}", stderr(o));
    let err = stderr(o);
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    assert!(err.contains(needle), "{err}");
    assert!(!err.contains("panicked"));
}

#[test]
fn inspect_text_and_json() {
    if common::shared("wsrm-messages").is_none() {
        return;
    }
    let o = rmscope(&["inspect", &fixture("wcf-doc-1.1-closesequenceresponse.xml")]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("CloseSequenceResponse"));
    assert!(out.contains("1-30"));
    assert!(out.contains("buffer left   8"));
    assert!(out.contains("prefix 'wsrm' is not declared"));

    let o = rmscope(&["inspect", "--json", &fixture("cxf-acknowledgment.xml")]);
    assert!(o.status.success());
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["rm_version"], "2005/02");
    assert_eq!(v["soap"], "1.1");
    assert_eq!(v["kind"], "SequenceAcknowledgement");
    assert_eq!(v["acks"][0]["identifier"], "http://Business456.com/RM/ABC");
    assert_eq!(v["acks"][0]["content"]["kind"], "ranges");
    assert_eq!(v["acks"][0]["content"]["values"][1]["lower"], 3);
    assert_eq!(v["fragment"], false);
}

#[test]
fn inspect_version_flag_and_strict() {
    if common::shared("wsrm-messages").is_none() {
        return;
    }
    let f = fixture("wcf-doc-1.1-sequence-header.xml");
    let o = rmscope(&["inspect", "--json", "--rm-version", "1.1", &f]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["rm_version"], "1.1");
    assert_eq!(v["sequence"]["message_number"], 1);
    let o = rmscope(&["inspect", "--strict", &f]);
    assert_one_line_error(&o, "prefix 'wsrm' is not bound");
}

#[test]
fn inspect_bad_input() {
    if common::shared("wsrm-messages").is_none() {
        return;
    }
    assert_one_line_error(
        &rmscope(&["inspect", "/nonexistent/file.xml"]),
        "/nonexistent/file.xml",
    );
    assert_one_line_error(
        &rmscope(&["inspect", &fixture("sandesha2-sequenceacknowledgement.xml")]),
        "together with Nack",
    );
    let dir = tempfile::tempdir().unwrap();
    let garbage = dir.path().join("garbage.xml");
    std::fs::write(&garbage, [0xffu8, 0x00, 0x13, 0x37, b'<']).unwrap();
    assert_one_line_error(&rmscope(&["inspect", garbage.to_str().unwrap()]), "not UTF-8");
    let empty = dir.path().join("empty.xml");
    std::fs::write(&empty, "").unwrap();
    assert_one_line_error(&rmscope(&["inspect", empty.to_str().unwrap()]), "no XML element");
    assert_one_line_error(
        &rmscope(&["inspect", dir.path().to_str().unwrap()]),
        "is a directory",
    );
    assert_eq!(rmscope(&["inspect"]).status.code(), Some(2));
}

#[test]
fn simulate_summary() {
    let o = rmscope(&[
        "simulate",
        "--messages",
        "200",
        "--loss",
        "0.05",
        "--seed",
        "3",
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["delivered"], 200);
    assert_eq!(v["delivered_twice"], 0);
    assert_eq!(v["out_of_order"], 0);
    assert!(v["retransmissions"].as_u64().unwrap() > 0);
    assert!(v["transmissions"].as_u64().unwrap() >= 200);
    assert!(v["acks"].as_u64().unwrap() > 0);
    assert_eq!(v["max_window"], 8);
    assert!(v["completion_time"].as_f64().unwrap() > 0.0);
    assert!(v["goodput"].as_f64().unwrap() > 0.0);
    assert_eq!(v["faults"].as_array().unwrap().len(), 0);
    let text = stdout(&rmscope(&["simulate", "--messages", "20"]));
    for field in [
        "delivered",
        "delivered twice",
        "out of order",
        "transmissions",
        "retransmissions",
        "acks",
        "max window",
        "faults",
        "virtual time",
        "goodput",
    ] {
        assert!(text.contains(field), "{field} missing in\n{text}");
    }
    assert!(text.contains("<reliableSession acknowledgementInterval=\"00:00:00.2000000\""));
}

#[test]
fn simulate_same_seed_same_trace_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let run = |seed: &str, name: &str| {
        let path = dir.path().join(name);
        let o = rmscope(&[
            "simulate",
            "--messages",
            "300",
            "--loss",
            "0.1",
            "--jitter",
            "20ms",
            "--reorder",
            "0.05",
            "--dup",
            "0.05",
            "--seed",
            seed,
            "--trace",
            path.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        std::fs::read(path).unwrap()
    };
    let a = run("42", "a.json");
    let b = run("42", "b.json");
    let c = run("43", "c.json");
    assert!(a.len() > 10_000);
    assert_eq!(a, b, "same seed and settings must give a byte-identical trace");
    assert_ne!(a, c);
    let v: serde_json::Value = serde_json::from_slice(&a).unwrap();
    assert!(v["events"].as_array().unwrap().len() > 1000);
    assert!(v["wires"].as_array().unwrap().len() > 300);
}

#[test]
fn simulate_with_wcf_config_and_overrides() {
    let config = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/app.config");
    // Two bindings: the user must pick.
    assert_one_line_error(&rmscope(&["simulate", "--config", config]), "pick one");
    let o = rmscope(&[
        "simulate",
        "--config",
        config,
        "--binding",
        "ReliableCustom",
        "--messages",
        "50",
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["settings"]["max_transfer_window_size"], 16);
    assert_eq!(v["settings"]["reliable_messaging_version"], "1.1");
    assert_eq!(v["max_window"], 16);
    // reliableSession over httpTransport: WCF's request-reply pair, each call answered.
    assert_eq!(
        (v["shape"].as_str(), v["two_way"].as_bool()),
        (Some("request-reply"), Some(true))
    );
    assert_eq!(
        (v["delivered"].as_u64(), v["replies"].as_u64()),
        (Some(50), Some(50))
    );
    let o = rmscope(&[
        "simulate",
        "--config",
        config,
        "--binding",
        "WsReliable",
        "--max-retry-count",
        "3",
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["settings"]["ordered"], false);
    assert_eq!(v["settings"]["max_retry_count"], 3);
}

#[test]
fn simulate_takes_a_standard_binding_for_its_shape() {
    for (binding, shape, version) in [
        ("wsHttpBinding", "request-reply", "2005/02"),
        ("ws2007HttpBinding", "request-reply", "1.1"),
        ("netTcpBinding", "duplex", "2005/02"),
        ("wsDualHttpBinding", "duplex", "2005/02"),
    ] {
        let o = rmscope(&[
            "simulate",
            "--shape",
            binding,
            "--messages",
            "20",
            "--loss",
            "0.05",
            "--json",
        ]);
        assert!(o.status.success(), "{binding}: {}", stderr(&o));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(v["shape"], shape, "{binding}");
        assert_eq!(v["settings"]["reliable_messaging_version"], version, "{binding}");
        assert_eq!(
            (v["delivered"].as_u64(), v["replies"].as_u64()),
            (Some(20), Some(20)),
            "{binding}"
        );
    }
    // netTcpBinding's capture is net.tcp framing unless asked otherwise.
    let dir = tempfile::tempdir().unwrap();
    let pcap = dir.path().join("nettcp.pcap");
    let o = rmscope(&[
        "simulate",
        "--shape",
        "netTcpBinding",
        "--messages",
        "5",
        "--pcap",
        pcap.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = rmscope(&["analyze", pcap.to_str().unwrap(), "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["stats"]["nmf_connections"], 1, "{v}");
    assert_eq!(v["sequences"].as_array().unwrap().len(), 2);
    // The spelling works too.
    let o = rmscope(&[
        "simulate",
        "--binding-shape",
        "netTcpBinding",
        "--messages",
        "2",
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["shape"], "duplex");
    // One-way calls over request-reply: every request answered by an ack, the window grows.
    let o = rmscope(&[
        "simulate",
        "--shape",
        "request-reply",
        "--one-way-calls",
        "--messages",
        "50",
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        (
            v["delivered"].as_u64(),
            v["replies"].as_u64(),
            v["max_window"].as_u64()
        ),
        (Some(50), Some(0), Some(8))
    );
    assert_one_line_error(
        &rmscope(&["simulate", "--shape", "basicHttpBinding"]),
        "wsHttpBinding",
    );
    // Over real HTTP too: request-reply on the HTTP responses, duplex as composite duplex.
    for shape in ["wsHttpBinding", "wsDualHttpBinding"] {
        let o = rmscope(&[
            "simulate",
            "--shape",
            shape,
            "--transport",
            "http",
            "--messages",
            "10",
            "--json",
        ]);
        assert!(o.status.success(), "{shape}: {}", stderr(&o));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(
            (v["delivered"].as_u64(), v["replies"].as_u64()),
            (Some(10), Some(10)),
            "{shape}"
        );
    }
}

#[test]
fn simulate_bad_flags() {
    assert_one_line_error(
        &rmscope(&["simulate", "--max-transfer-window-size", "5000"]),
        "maxTransferWindowSize: must be between 1 and 4096",
    );
    assert_one_line_error(
        &rmscope(&["simulate", "--loss", "1.5"]),
        "loss must be a probability",
    );
    assert_one_line_error(&rmscope(&["simulate", "--max-retry-count", "0"]), "maxRetryCount");
    assert_one_line_error(
        &rmscope(&["simulate", "--config", "/no/such.config"]),
        "/no/such.config",
    );
    assert_one_line_error(&rmscope(&["simulate", "--drop", "nonsense"]), "unknown --drop");
    let o = rmscope(&["simulate", "--delay", "fast"]);
    assert_eq!(o.status.code(), Some(2));
    let o = rmscope(&["simulate", "--messages", "-3"]);
    assert_eq!(o.status.code(), Some(2));
    let o = rmscope(&["simulate", "--framing", "smoke-signals"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn simulate_saves_a_net_tcp_capture_that_analyze_reads() {
    let dir = tempfile::tempdir().unwrap();
    let pcap = dir.path().join("nettcp.pcap");
    let p = pcap.to_str().unwrap();
    let o = rmscope(&[
        "simulate",
        "--messages",
        "40",
        "--loss",
        "0.1",
        "--seed",
        "5",
        "--json",
        "--pcap",
        p,
        "--framing",
        "net.tcp",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let o = rmscope(&["analyze", "--json", p]);
    assert!(o.status.success(), "{}", stderr(&o));
    let a: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let s = &a["sequences"][0];
    assert_eq!(s["retransmissions"], v["retransmissions"]);
    assert_eq!(s["transmissions"], v["transmissions"]);
    assert_eq!(s["terminated"], true);
    assert!(s["destination"].as_str().unwrap().ends_with(":808"), "{s}");
    assert!(v["retransmissions"].as_u64().unwrap() > 0);
}

#[test]
fn simulate_scripted_drop_shows_one_retransmission() {
    let o = rmscope(&["simulate", "--messages", "10", "--drop", "msg:5", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["retransmissions"], 1);
    assert_eq!(v["lost_on_link"], 1);
    assert_eq!(v["delivered"], 10);
}

#[test]
fn simulate_over_http_saves_a_capture_that_analyze_reads() {
    let dir = tempfile::tempdir().unwrap();
    let pcap = dir.path().join("http.pcap");
    let o = rmscope(&[
        "simulate",
        "--transport",
        "http",
        "--messages",
        "50",
        "--json",
        "--pcap",
        pcap.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["delivered"], 50);
    assert_eq!(v["retransmissions"], 0);
    assert_eq!(v["finished"], true);
    let o = rmscope(&["analyze", "--json", pcap.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let a: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let s = &a["sequences"][0];
    assert_eq!(s["messages"], 51, "50 data messages and the LastMessage");
    assert_eq!(s["retransmissions"], 0);
    assert_eq!(s["terminated"], true);
    // The real addresses of the session, not synthesised ones.
    assert!(
        s["destination"].as_str().unwrap().starts_with("127.0.0.1:"),
        "{s}"
    );
}

#[test]
fn simulate_over_http_on_a_busy_port_is_a_one_line_error() {
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = busy.local_addr().unwrap().port().to_string();
    assert_one_line_error(
        &rmscope(&["simulate", "--transport", "http", "--port", &port]),
        &format!("cannot listen on 127.0.0.1:{port}"),
    );
}

#[test]
fn capture_without_permission_says_how_to_grant_it() {
    use std::os::unix::fs::PermissionsExt;
    // Needs root to become an unprivileged user (CI runs as root).
    let root = std::fs::read_to_string("/proc/self/status")
        .is_ok_and(|s| s.lines().any(|l| l.starts_with("Uid:\t0\t")));
    if !root {
        let o = rmscope(&["capture", "--interface", "lo", "--duration", "1s"]);
        assert_one_line_error(&o, "setcap cap_net_raw,cap_net_admin=eip");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let exe = dir.path().join("rmscope");
    std::fs::copy(env!("CARGO_BIN_EXE_rmscope"), &exe).unwrap();
    let o = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(&exe)
        .args(["capture", "--interface", "lo", "--duration", "1s"])
        .output()
        .expect("setpriv (util-linux) runs");
    assert_one_line_error(&o, "no permission to capture on lo");
    assert!(stderr(&o).contains("setcap cap_net_raw,cap_net_admin=eip"));
}

#[test]
fn capture_lists_interfaces_and_rejects_a_bad_filter() {
    let o = rmscope(&["capture", "--list"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).lines().any(|l| l == "lo"), "{}", stdout(&o));
    let o = rmscope(&["capture", "--interface", "no-such-if0", "--duration", "1s"]);
    assert_one_line_error(&o, "no-such-if0");
}

fn svclog_fixture(name: &str) -> Option<String> {
    Some(common::shared("wcf-svclog")?.join(name).display().to_string())
}

#[test]
fn analyze_reads_a_message_log_as_text_and_json() {
    let Some(log) = svclog_fixture("wcf-svclog-nettcp-rm10-secureconv-messages.svclog") else {
        return;
    };
    let o = rmscope(&["analyze", &log]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("25 records, 25 messages, written by Servis (7592) on BURAKSENYURT-PC"),
        "{out}"
    );
    assert!(out.contains("8 security handshake messages"), "{out}");
    assert!(
        out.contains("sequence urn:uuid:3e4ef03d-2df2-48cd-8cb7-735260c182b8"),
        "{out}"
    );
    assert!(out.contains("4 (5 transmissions, 1 retransmissions: 1)"), "{out}");
    let o = rmscope(&["analyze", "--json", &log]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["sources"][0]["process"], "Servis (7592) on BURAKSENYURT-PC");
    assert_eq!(v["sources"][0]["records"], 25);
    assert_eq!(v["stats"]["transport_records"], 25);
    assert_eq!(v["sequences"].as_array().unwrap().len(), 2);
}

#[test]
fn analyze_merges_two_logs_and_reports_the_clocks() {
    let Some(log) = svclog_fixture("wcf-svclog-nettcp-rm10-secureconv-messages.svclog") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let o = rmscope(&[
        "simulate",
        "--messages",
        "20",
        "--loss",
        "0.05",
        "--seed",
        "4",
        "--svclog",
        dir.path().to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let a = dir.path().join("rm-source.svclog");
    let b = dir.path().join("rm-destination.svclog");
    let o = rmscope(&["analyze", "--json", a.to_str().unwrap(), b.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["files"].as_array().unwrap().len(), 2);
    assert_eq!(v["clock"]["offset_ms"], 0.0);
    assert_eq!(v["sources"][1]["clock_offset_ms"], 0.0);
    // Two captures and a log: one clear line.
    let pcap = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("captures/single-loss-2005.pcap");
    let o = rmscope(&["analyze", &log, pcap.to_str().unwrap(), pcap.to_str().unwrap()]);
    assert_one_line_error(&o, "one capture and the logs of the same session");
}

#[test]
fn analyze_attaches_logs_to_the_capture_of_the_same_session() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let pcap = dir.path().join("s.pcap");
    let o = rmscope(&[
        "simulate",
        "--messages",
        "30",
        "--loss",
        "0.05",
        "--seed",
        "2",
        "--pcap",
        pcap.to_str().unwrap(),
        "--svclog",
        d,
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let (a, b) = (
        dir.path().join("rm-source.svclog"),
        dir.path().join("rm-destination.svclog"),
    );
    let o = rmscope(&[
        "analyze",
        pcap.to_str().unwrap(),
        a.to_str().unwrap(),
        b.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("96 log records matched to 49 captured messages"),
        "{out}"
    );
    assert!(out.contains("sequence urn:uuid:"), "{out}");
    let o = rmscope(&[
        "analyze",
        "--json",
        pcap.to_str().unwrap(),
        a.to_str().unwrap(),
        b.to_str().unwrap(),
    ]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["logs"]["matched"], 96);
    assert_eq!(v["logs"]["clocks"].as_array().unwrap().len(), 2);
    assert_eq!(v["frames"], 208);
}

#[test]
fn inspect_reads_pasted_log_records_and_names_the_bad_byte() {
    let Some(ok) = svclog_fixture("wcf-blog-nettcp-rm10-msg4-reply1-seqack-ackrequested.xml") else {
        return;
    };
    let o = rmscope(&["inspect", &ok]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("sequence        urn:uuid:be73ae30-145a-4bd6-bf04-ee6a3b1edfce"),
        "{out}"
    );
    assert!(out.contains("buffer left   8"), "{out}");
    for n in [
        "msg1-createsequence",
        "msg3-request1-ackrequested",
        "msg5-seqack-standalone",
        "msg6-request2",
        "msg7-reply2-seqack",
        "msg8-lastmessage-seqack",
    ] {
        let p = svclog_fixture(&format!("wcf-blog-nettcp-rm10-{n}.xml")).unwrap();
        let o = rmscope(&["inspect", &p]);
        assert!(o.status.success(), "{n}: {}", stderr(&o));
    }
    let bad = svclog_fixture("wcf-blog-nettcp-rm10-msg2-createsequenceresponse.xml").unwrap();
    let o = rmscope(&["inspect", &bad]);
    assert_one_line_error(&o, "not well-formed XML at byte 264");
}

#[test]
fn inspect_summarises_message_security() {
    let Some(log) = svclog_fixture("wcf-svclog-nettcp-rm10-secureconv-messages.svclog") else {
        return;
    };
    // Record 9: request #1, encrypted body, SCT + derived keys.
    let text = std::fs::read_to_string(log).unwrap();
    let rec = text.split_inclusive("</E2ETraceEvent>").nth(8).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("record9.xml");
    std::fs::write(&p, rec).unwrap();
    let o = rmscope(&["inspect", p.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("message number  1"), "{out}");
    assert!(
        out.contains("security        Body: encrypted (aes256-cbc)"),
        "{out}"
    );
    assert!(
        out.contains("security        Token: SecurityContextToken urn:uuid:"),
        "{out}"
    );
    assert!(out.contains("security        Derived keys: 2"), "{out}");
    assert!(
        out.contains("security        Encrypted: Body, Signature"),
        "{out}"
    );
}

/// Issue 17: `analyze a b …` reads a split capture as one, and a gzip file by its magic.
#[test]
fn analyze_reads_several_captures_and_gzip_as_one() {
    let dir = tempfile::tempdir().unwrap();
    let pcap = dir.path().join("s.pcap");
    let o = rmscope(&[
        "simulate",
        "--messages",
        "30",
        "--xml-rich",
        "--body-size",
        "2000",
        "--reconnect-every",
        "5",
        "--acks-on-responses",
        "--pcap",
        pcap.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let one = stdout(&rmscope(&["analyze", pcap.to_str().unwrap()]));
    assert!(
        one.contains("messages         31 (31 transmissions, 0 retransmissions)"),
        "{one}"
    );
    // The same file at "two capture points": one packet seen twice, no retransmission more.
    let two = stdout(&rmscope(&[
        "analyze",
        pcap.to_str().unwrap(),
        pcap.to_str().unwrap(),
    ]));
    assert!(two.contains("2 files merged by time"), "{two}");
    assert!(two.contains("counted once"), "{two}");
    let msgs = |s: &str| {
        s.lines()
            .find(|l| l.contains("  messages "))
            .unwrap_or_default()
            .to_string()
    };
    assert_eq!(msgs(&one), msgs(&two));
    // gzip, whatever the name says.
    let gz = dir.path().join("s.cap");
    let mut e =
        flate2::write::GzEncoder::new(std::fs::File::create(&gz).unwrap(), flate2::Compression::fast());
    std::io::copy(&mut std::fs::File::open(&pcap).unwrap(), &mut e).unwrap();
    e.finish().unwrap();
    let zipped = stdout(&rmscope(&["analyze", gz.to_str().unwrap()]));
    assert_eq!(msgs(&one), msgs(&zipped));
    // A file that is not a capture among them: one line naming it.
    let junk = dir.path().join("junk.pcap");
    std::fs::write(&junk, b"junk junk junk junk junk").unwrap();
    assert_one_line_error(
        &rmscope(&["analyze", pcap.to_str().unwrap(), junk.to_str().unwrap()]),
        "junk.pcap",
    );
}
