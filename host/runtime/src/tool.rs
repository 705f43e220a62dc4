//! Library side of the plugin author's CLI: `ravelin plugin new NAME --lang LANG`
//! ([`scaffold`]). `ravelin plugin test` and a plugin's own tests run it
//! through the crate `ravelin-plugin-testing` (`sdk/testing`).

mod scaffold;
mod scaffold_guest;

pub use scaffold::{Lang, SdkDependency, scaffold};
