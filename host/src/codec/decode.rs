//! Cutting an HTTP/1.1 message body out of the bytes read (a client's
//! request, an upstream's response): by length, in chunks (extensions
//! ignored, trailers passed on as a trailers frame), or up to the
//! connection's close. Data frames are slices of the read buffer, not
//! copies.

use bytes::{Buf, Bytes, BytesMut};
use http::{HeaderMap, HeaderName, HeaderValue};
use http_body::{Frame, SizeHint};

/// The longest chunk-size line read (size and extensions).
const MAX_CHUNK_LINE: usize = 4096;
/// The largest trailer block read.
const MAX_TRAILER_BLOCK: usize = 64 * 1024;
/// The most trailer fields in a chunked body.
const MAX_TRAILERS: usize = 100;

/// Why a body could not be read to its end.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    #[error("{0}")]
    Malformed(&'static str),
    #[error("its trailers are malformed: {0}")]
    Trailers(httparse::Error),
    #[error("the connection closed before the end of the body")]
    Truncated,
}

pub struct Decoder(State);

enum State {
    /// So many bytes of body left.
    Length(u64),
    /// Chunked, between chunks: a size line comes next.
    ChunkSize,
    /// Chunked, inside a chunk with so many bytes left.
    ChunkData(u64),
    /// Chunked, the line end after a chunk's data.
    ChunkEnd,
    /// Chunked, after the last chunk: trailers, or the blank line.
    Trailers,
    /// Everything up to the connection's close.
    UntilClose,
    Done,
}

impl Decoder {
    pub fn length(length: u64) -> Self {
        Self(if length == 0 {
            State::Done
        } else {
            State::Length(length)
        })
    }

    pub fn chunked() -> Self {
        Self(State::ChunkSize)
    }

    pub fn until_close() -> Self {
        Self(State::UntilClose)
    }

    pub fn is_done(&self) -> bool {
        matches!(self.0, State::Done)
    }

    pub fn size_hint(&self) -> SizeHint {
        match self.0 {
            State::Length(left) => SizeHint::with_exact(left),
            State::Done => SizeHint::with_exact(0),
            _ => SizeHint::default(),
        }
    }

    /// How much to read next: what is left of a body of known size, within
    /// reason.
    pub fn read_hint(&self) -> usize {
        match self.0 {
            State::Length(left) => (left as usize).clamp(8 * 1024, 64 * 1024),
            _ => 16 * 1024,
        }
    }

    /// The next frame cut from `buf`, or `None` when more bytes are needed
    /// (or the body is done).
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Frame<Bytes>>, BodyError> {
        loop {
            match self.0 {
                State::Done => return Ok(None),
                State::Length(left) => return Ok(self.data(buf, left, State::Length, State::Done)),
                State::UntilClose => {
                    return Ok((!buf.is_empty()).then(|| Frame::data(buf.split().freeze())));
                }
                State::ChunkSize => {
                    let Some(line) = take_line(buf, MAX_CHUNK_LINE)? else {
                        return Ok(None);
                    };
                    self.0 = match chunk_size(&line)? {
                        0 => State::Trailers,
                        size => State::ChunkData(size),
                    };
                }
                State::ChunkData(left) => {
                    return Ok(self.data(buf, left, State::ChunkData, State::ChunkEnd));
                }
                State::ChunkEnd => {
                    let Some(line) = take_line(buf, 2)? else {
                        return Ok(None);
                    };
                    if !line.is_empty() {
                        return Err(BodyError::Malformed("a chunk is longer than its size"));
                    }
                    self.0 = State::ChunkSize;
                }
                State::Trailers => {
                    let Some(block) = take_block(buf)? else {
                        return Ok(None);
                    };
                    self.0 = State::Done;
                    return Ok(match block {
                        Some(block) => Some(Frame::trailers(trailers(&block)?)),
                        None => None,
                    });
                }
            }
        }
    }

    /// Up to `left` bytes of body off `buf` as a frame (`None` while it is
    /// empty); then the state is `more` of what is left, or `after`.
    fn data(
        &mut self,
        buf: &mut BytesMut,
        left: u64,
        more: fn(u64) -> State,
        after: State,
    ) -> Option<Frame<Bytes>> {
        if buf.is_empty() {
            return None;
        }
        let n = usize::try_from(left).map_or(buf.len(), |left| left.min(buf.len()));
        let data = buf.split_to(n).freeze();
        let left = left - n as u64;
        self.0 = if left == 0 { after } else { more(left) };
        Some(Frame::data(data))
    }

    /// The connection has closed: the end of a body that runs up to it,
    /// and a truncated body for every other framing.
    pub fn close(&mut self) -> Result<(), BodyError> {
        match self.0 {
            State::UntilClose | State::Done => {
                self.0 = State::Done;
                Ok(())
            }
            _ => Err(BodyError::Truncated),
        }
    }
}

/// One line off the front of `buf`, without its end (CRLF, or a bare LF);
/// `None` while it is not complete.
fn take_line(buf: &mut BytesMut, limit: usize) -> Result<Option<BytesMut>, BodyError> {
    let Some(end) = memchr::memchr(b'\n', buf) else {
        if buf.len() > limit {
            return Err(BodyError::Malformed("a chunk-size line is too long"));
        }
        return Ok(None);
    };
    let mut line = buf.split_to(end + 1);
    line.truncate(end);
    if line.last() == Some(&b'\r') {
        line.truncate(end - 1);
    }
    Ok(Some(line))
}

/// A chunk's size: hex digits, then optional extensions after `;`.
fn chunk_size(line: &[u8]) -> Result<u64, BodyError> {
    let digits = line
        .split(|&b| b == b';')
        .next()
        .unwrap_or_default()
        .trim_ascii();
    let bad = || BodyError::Malformed("a chunk size is not a hex number");
    // Hex digits only: `from_str_radix` alone would take a leading `+`.
    if digits.is_empty() || digits.len() > 16 || !digits.iter().all(u8::is_ascii_hexdigit) {
        return Err(bad());
    }
    let digits = std::str::from_utf8(digits).map_err(|_| bad())?;
    u64::from_str_radix(digits, 16).map_err(|_| bad())
}

/// The trailer block after the last chunk, through its blank line: `None`
/// inside while it is not complete, and `Some(None)` when there are none.
fn take_block(buf: &mut BytesMut) -> Result<Option<Option<Bytes>>, BodyError> {
    if buf.starts_with(b"\r\n") || buf.starts_with(b"\n") {
        buf.advance(if buf[0] == b'\r' { 2 } else { 1 });
        return Ok(Some(None));
    }
    // The first blank line ends it, whether its line ends are CRLF or LF.
    let crlf = memchr::memmem::find(buf, b"\r\n\r\n").map(|at| at + 4);
    let lf = memchr::memmem::find(buf, b"\n\n").map(|at| at + 2);
    let end = match (crlf, lf) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    match end {
        Some(end) => Ok(Some(Some(buf.split_to(end).freeze()))),
        None if buf.len() > MAX_TRAILER_BLOCK => {
            Err(BodyError::Malformed("the trailers are over 64 KiB"))
        }
        None => Ok(None),
    }
}

fn trailers(block: &Bytes) -> Result<HeaderMap, BodyError> {
    let mut fields = [httparse::EMPTY_HEADER; MAX_TRAILERS];
    let parsed = match httparse::parse_headers(block, &mut fields) {
        Ok(httparse::Status::Complete((_, parsed))) => parsed,
        Ok(httparse::Status::Partial) => {
            return Err(BodyError::Malformed("the trailers do not end"));
        }
        Err(e) => return Err(BodyError::Trailers(e)),
    };
    let mut trailers = HeaderMap::with_capacity(parsed.len());
    for field in parsed {
        let bad = || BodyError::Malformed("a trailer field is not valid");
        let name = HeaderName::from_bytes(field.name.as_bytes()).map_err(|_| bad())?;
        let value = HeaderValue::from_bytes(field.value).map_err(|_| bad())?;
        trailers.append(name, value);
    }
    Ok(trailers)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every frame `wire` decodes into, fed in pieces of `step` bytes.
    fn decode_all(
        mut decoder: Decoder,
        wire: &[u8],
        step: usize,
    ) -> Result<Vec<Frame<Bytes>>, BodyError> {
        let mut buf = BytesMut::new();
        let mut frames = Vec::new();
        for piece in wire.chunks(step) {
            buf.extend_from_slice(piece);
            while let Some(frame) = decoder.decode(&mut buf)? {
                frames.push(frame);
            }
        }
        if !decoder.is_done() {
            decoder.close()?;
        }
        Ok(frames)
    }

    fn body_of(frames: &[Frame<Bytes>]) -> Vec<u8> {
        frames
            .iter()
            .filter_map(|f| f.data_ref())
            .flat_map(|d| d.iter().copied())
            .collect()
    }

    #[test]
    fn chunked_bodies_decode_the_same_however_they_arrive() {
        let wire = b"5;ext=1\r\nhello\r\n7\r\n world!\r\n0\r\nGrpc-Status: 0\r\nX-B: c\r\n\r\n";
        for step in 1..wire.len() {
            let frames = decode_all(Decoder::chunked(), wire, step).unwrap();
            assert_eq!(body_of(&frames), b"hello world!", "step {step}");
            let trailers = frames.last().unwrap().trailers_ref().unwrap();
            assert_eq!(trailers["grpc-status"], "0");
            assert_eq!(trailers["x-b"], "c");
        }
        let bare = decode_all(Decoder::chunked(), b"2\nok\n0\n\n", 3).unwrap();
        assert_eq!(body_of(&bare), b"ok");
    }

    #[test]
    fn a_body_stops_at_its_length_and_leaves_the_rest() {
        let mut decoder = Decoder::length(3);
        let mut buf = BytesMut::from(&b"abcdef"[..]);
        assert_eq!(
            decoder
                .decode(&mut buf)
                .unwrap()
                .unwrap()
                .into_data()
                .unwrap(),
            "abc"
        );
        assert!(decoder.is_done());
        assert!(decoder.decode(&mut buf).unwrap().is_none());
        assert_eq!(&buf[..], b"def");
    }

    #[test]
    fn a_close_ends_only_a_body_that_runs_up_to_it() {
        let until = decode_all(Decoder::until_close(), b"all of it", 4).unwrap();
        assert_eq!(body_of(&until), b"all of it");
        assert!(matches!(
            decode_all(Decoder::length(10), b"short", 2),
            Err(BodyError::Truncated)
        ));
        assert!(matches!(
            decode_all(Decoder::chunked(), b"5\r\nhel", 2),
            Err(BodyError::Truncated)
        ));
    }

    #[test]
    fn bad_chunks_fail() {
        for wire in [
            &b"zz\r\n"[..],
            b"\r\n",
            b"5\r\nhello!\r\n",
            b"11111111111111111\r\n",
            b"+5\r\nhello\r\n0\r\n\r\n",
        ] {
            assert!(
                matches!(
                    decode_all(Decoder::chunked(), wire, 64),
                    Err(BodyError::Malformed(_))
                ),
                "{wire:?}"
            );
        }
        let endless = vec![b'1'; MAX_CHUNK_LINE + 1];
        assert!(decode_all(Decoder::chunked(), &endless, 64).is_err());
    }
}
