//! Library side of the plugin author's CLI: `ravelin plugin new NAME`
//! ([`scaffold`]) and `ravelin plugin test FILE --request …` ([`run_offline`],
//! [`Harness`] for a plugin's own tests).

mod offline;
mod scaffold;

pub use offline::{Harness, OfflineReport, parse_request, parse_response, run_offline};
pub use scaffold::{SdkDependency, scaffold};
