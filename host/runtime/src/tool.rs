//! Library side of the plugin author's CLI: `ravelin plugin new NAME`
//! ([`scaffold`]) and `ravelin plugin test FILE --request …` ([`run_offline`]).

mod offline;
mod scaffold;

pub use offline::{OfflineReport, parse_request, run_offline};
pub use scaffold::{SdkDependency, scaffold};
