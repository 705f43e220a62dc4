//! HTTP/1.1 on the wire, the parts both sides of the proxy speak: the
//! client-facing server (`server::http1`) and the upstream client
//! (`upstream::http1`). `fields` reads a parsed head's header fields,
//! `decode` cuts a body out of the bytes read, `encode` writes a head and
//! its framed body.

pub mod decode;
pub mod encode;
pub mod fields;

pub use decode::{BodyError, Decoder};
pub use encode::{Framing, Outgoing, SendError, put_header, put_length};
