//! Standard output for the command-line commands. When the reader goes
//! away (`ravelin plugin inspect … | head`) the command ends quietly with
//! status 141, as a Unix tool killed by SIGPIPE does, instead of the panic
//! `println!` gives (Rust ignores SIGPIPE, and this crate has no unsafe
//! code to restore it).

use std::io::{ErrorKind, Write};

/// Writes one line to standard output.
pub fn say(line: std::fmt::Arguments) {
    let mut out = std::io::stdout().lock();
    if let Err(e) = writeln!(out, "{line}").and_then(|()| out.flush()) {
        if e.kind() == ErrorKind::BrokenPipe {
            std::process::exit(141);
        }
        eprintln!("cannot write to standard output: {e}");
        std::process::exit(1);
    }
}

/// `println!` for the commands: see the module documentation.
#[macro_export]
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::console::say(format_args!($($arg)*))
    };
}
