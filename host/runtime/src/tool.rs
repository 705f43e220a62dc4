//! Library side of the plugin author's CLI: `ravelin plugin new NAME`
//! ([`scaffold`]; C and JavaScript projects: [`scaffold_guest`]).
//! `ravelin plugin test` and a plugin's own tests run it
//! through the crate `ravelin-plugin-testing` (`sdk/testing`).

mod scaffold;
mod scaffold_guest;

pub use scaffold::{SdkDependency, scaffold};
pub use scaffold_guest::{GuestLang, scaffold_guest};
