//! Hand-made HTTP/2 frames for the abuse tests (RFC 9113), written on a raw
//! cleartext connection with prior knowledge, so the tests can send what no
//! well-behaved client library would: resets right after HEADERS, floods of
//! PING and SETTINGS, endless CONTINUATION. HPACK here is literals only
//! (RFC 7541 §6.2.2, no Huffman), which every decoder must accept.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};

pub const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

pub const DATA: u8 = 0;
pub const HEADERS: u8 = 1;
pub const RST_STREAM: u8 = 3;
pub const SETTINGS: u8 = 4;
pub const PING: u8 = 6;
pub const GOAWAY: u8 = 7;
pub const WINDOW_UPDATE: u8 = 8;
pub const CONTINUATION: u8 = 9;

pub const END_STREAM: u8 = 0x1;
pub const END_HEADERS: u8 = 0x4;
pub const ACK: u8 = 0x1;

pub fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let len = payload.len() as u32;
    let mut out = Vec::with_capacity(9 + payload.len());
    out.extend_from_slice(&len.to_be_bytes()[1..]);
    out.push(kind);
    out.push(flags);
    out.extend_from_slice(&(stream & 0x7fff_ffff).to_be_bytes());
    out.extend_from_slice(payload);
    out
}

/// An HPACK integer with an `n`-bit prefix; `first` holds the pattern bits.
fn integer(out: &mut Vec<u8>, first: u8, n: u8, value: usize) {
    let max = (1usize << n) - 1;
    if value < max {
        out.push(first | value as u8);
        return;
    }
    out.push(first | max as u8);
    let mut rest = value - max;
    while rest >= 128 {
        out.push((rest % 128) as u8 | 0x80);
        rest /= 128;
    }
    out.push(rest as u8);
}

/// A literal header field without indexing, new name (RFC 7541 §6.2.2).
pub fn literal(out: &mut Vec<u8>, name: &str, value: &[u8]) {
    out.push(0x00);
    integer(out, 0, 7, name.len());
    out.extend_from_slice(name.as_bytes());
    integer(out, 0, 7, value.len());
    out.extend_from_slice(value);
}

/// The header block of a request: method, scheme http, path, authority, extras.
pub fn request_block(
    method: &str,
    path: &str,
    authority: &str,
    extra: &[(&str, &[u8])],
) -> Vec<u8> {
    let mut out = Vec::new();
    literal(&mut out, ":method", method.as_bytes());
    literal(&mut out, ":scheme", b"http");
    literal(&mut out, ":path", path.as_bytes());
    literal(&mut out, ":authority", authority.as_bytes());
    for (name, value) in extra {
        literal(&mut out, name, value);
    }
    out
}

pub fn rst_stream(stream: u32, code: u32) -> Vec<u8> {
    frame(RST_STREAM, 0, stream, &code.to_be_bytes())
}

pub fn ping(data: u64) -> Vec<u8> {
    frame(PING, 0, 0, &data.to_be_bytes())
}

/// SETTINGS with (id, value) pairs.
pub fn settings(pairs: &[(u16, u32)]) -> Vec<u8> {
    let mut payload = Vec::new();
    for (id, value) in pairs {
        payload.extend_from_slice(&id.to_be_bytes());
        payload.extend_from_slice(&value.to_be_bytes());
    }
    frame(SETTINGS, 0, 0, &payload)
}

/// What the server sent, tallied by the reader task.
#[derive(Debug, Default, Clone)]
pub struct Seen {
    pub frames: usize,
    pub headers: usize,
    /// The stream of each HEADERS frame, in order.
    pub headers_on: Vec<u32>,
    pub rst_streams: usize,
    pub pings_acked: usize,
    /// The GOAWAY error code, when one came.
    pub goaway: Option<u32>,
    pub closed: bool,
}

/// A connection that has sent the preface and an empty SETTINGS.
pub struct Conn {
    pub writer: OwnedWriteHalf,
    seen: Arc<Mutex<Seen>>,
    reader: tokio::task::JoinHandle<()>,
}

impl Conn {
    pub async fn open(addr: SocketAddr) -> std::io::Result<Conn> {
        let stream = TcpStream::connect(addr).await?;
        let (read, mut writer) = stream.into_split();
        writer.write_all(PREFACE).await?;
        writer.write_all(&settings(&[])).await?;
        let seen = Arc::new(Mutex::new(Seen::default()));
        let reader = tokio::spawn(read_frames(read, seen.clone()));
        Ok(Conn {
            writer,
            seen,
            reader,
        })
    }

    /// Writes `bytes`; false once the proxy stops taking them within `wait`.
    pub async fn send(&mut self, bytes: &[u8], wait: Duration) -> bool {
        matches!(
            tokio::time::timeout(wait, self.writer.write_all(bytes)).await,
            Ok(Ok(()))
        )
    }

    /// What the server has sent so far.
    pub fn seen(&self) -> Seen {
        self.seen.lock().expect("lock").clone()
    }

    /// Waits at most `wait` for the server to close, then returns what it sent.
    pub async fn finish(self, wait: Duration) -> Seen {
        let Conn {
            writer,
            seen,
            mut reader,
        } = self;
        let _ = tokio::time::timeout(wait, &mut reader).await;
        reader.abort();
        drop(writer);
        seen.lock().expect("lock").clone()
    }
}

/// Reads frames until EOF, tallying them.
async fn read_frames(mut read: OwnedReadHalf, seen: Arc<Mutex<Seen>>) {
    let mut buf = Vec::new();
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        match read.read(&mut chunk).await {
            Ok(0) | Err(_) => {
                seen.lock().expect("lock").closed = true;
                return;
            }
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
        let mut seen = seen.lock().expect("lock");
        while buf.len() >= 9 {
            let len = u32::from_be_bytes([0, buf[0], buf[1], buf[2]]) as usize;
            if buf.len() < 9 + len {
                break;
            }
            let (kind, flags) = (buf[3], buf[4]);
            let stream = u32::from_be_bytes([buf[5], buf[6], buf[7], buf[8]]) & 0x7fff_ffff;
            let payload = &buf[9..9 + len];
            seen.frames += 1;
            match kind {
                HEADERS => {
                    seen.headers += 1;
                    seen.headers_on.push(stream);
                }
                RST_STREAM => seen.rst_streams += 1,
                PING if flags & ACK != 0 => seen.pings_acked += 1,
                GOAWAY if payload.len() >= 8 => {
                    seen.goaway = Some(u32::from_be_bytes([
                        payload[4], payload[5], payload[6], payload[7],
                    ]));
                }
                _ => {}
            }
            buf.drain(..9 + len);
        }
    }
}

/// The resident memory of process `pid` in KiB (Linux), for reporting.
pub fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The pid of the process whose command line mentions `needle` (the
/// proxy's config path is unique to each test).
pub fn pid_with_arg(needle: &str) -> Option<u32> {
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let args: Vec<&[u8]> = cmdline.split(|&b| b == 0).collect();
        if args.first().is_some_and(|a| a.ends_with(b"ravelin"))
            && args.contains(&needle.as_bytes())
        {
            return Some(pid);
        }
    }
    None
}
