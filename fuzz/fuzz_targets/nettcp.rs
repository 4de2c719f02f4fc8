//! The net.tcp path: bytes as one direction of a TCP stream → .NET Message Framing records →
//! each envelope through the binary XML decoder with the direction's session dictionary. The
//! first byte picks how the stream is cut into chunks, so record boundaries fall anywhere.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rmscope::capture::nmf::NmfStream;
use rmscope::capture::tcp::Chunk;
use rmscope::trace::Time;
use rmscope::wsrm::{self, binary};

fuzz_target!(|data: &[u8]| {
    let Some((&cut, stream)) = data.split_first() else {
        return;
    };
    let step = usize::from(cut).max(1);
    let opts = wsrm::Options::default();
    let mut s = NmfStream::new();
    for (i, bytes) in stream.chunks(step).enumerate() {
        let chunk = Chunk::Data {
            bytes,
            frame: i as u32 + 1,
            time: Time::ZERO,
            skip: 0,
        };
        s.feed(
            chunk,
            &mut |e, session| {
                let _ = binary::decode_binary(e.payload, Some(session), &opts);
                let _ = binary::decode_binary(e.payload, None, &opts);
            },
            &mut |_| {},
        );
    }
    s.feed(
        Chunk::End {
            frame: 0,
            time: Time::ZERO,
        },
        &mut |_, _| {},
        &mut |_| {},
    );
});
