//! Opening a capture file with libpcap, read through a large buffer.

use std::path::Path;

/// Bytes libpcap's stdio stream reads at a time.
const READ_BUFFER: usize = 1 << 20;

/// A capture file opened with libpcap. Fields drop in declaration order: the handle (which
/// closes the stream) before the buffer the stream reads into.
pub struct OfflineFile {
    pub cap: pcap::Capture<pcap::Offline>,
    _buffer: Box<[u8]>,
}

/// Opens `path` (pcap or pcapng) with nanosecond timestamps; the error is libpcap's.
pub fn open(path: &Path) -> Result<OfflineFile, pcap::Error> {
    let cap = pcap::Capture::from_file_with_precision(path, pcap::Precision::Nano)?;
    let mut buffer = vec![0u8; READ_BUFFER].into_boxed_slice();
    widen_read_buffer(&cap, &mut buffer);
    Ok(OfflineFile { cap, _buffer: buffer })
}

/// libpcap reads a capture file through stdio, whose buffer is one 4 KiB page: a read(2) per
/// 4 KiB, a third of the time of reading a capture of large messages. A 1 MiB buffer cuts the
/// system calls 256-fold (`benches/analyze.sh`, 32 KiB bodies: 0.16 s → 0.09 s). glibc's
/// setvbuf first gives back what the old buffer held (it seeks the descriptor to the stream's
/// position), so it is safe after libpcap read the file header. Elsewhere the default stays.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn widen_read_buffer(cap: &pcap::Capture<pcap::Offline>, buffer: &mut [u8]) {
    unsafe extern "C" {
        // libpcap: the stdio stream of a handle opened on a file.
        fn pcap_file(p: *mut std::ffi::c_void) -> *mut libc::FILE;
    }
    // SAFETY: the handle is a live offline handle, so `pcap_file` returns its stream. The
    // buffer outlives the handle (`OfflineFile`'s field order), and setvbuf only keeps a
    // pointer to it; when it fails it leaves the stream as it was.
    unsafe {
        let file = pcap_file(cap.as_ptr().cast());
        if !file.is_null() {
            libc::setvbuf(file, buffer.as_mut_ptr().cast(), libc::_IOFBF, buffer.len());
        }
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn widen_read_buffer(_cap: &pcap::Capture<pcap::Offline>, _buffer: &mut [u8]) {}
