//! `Chain`: the ordered plugin versions of one route. A chain is immutable;
//! the host builds one per route from its snapshot's [`crate::PluginSet`].

use crate::RequestInfo;
use crate::exchange::Exchange;
use crate::version::PluginVersion;
use std::sync::Arc;

/// The plugin versions of a route, in route order. Cheap to clone.
#[derive(Clone)]
pub struct Chain {
    versions: Arc<[Arc<PluginVersion>]>,
}

impl std::fmt::Debug for Chain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.names()).finish()
    }
}

impl Chain {
    pub(crate) fn new(versions: Vec<Arc<PluginVersion>>) -> Self {
        Chain {
            versions: versions.into(),
        }
    }

    /// Starts a request exchange on the chain's versions; it keeps them
    /// until it is dropped, whatever snapshot replaces this one meanwhile.
    pub fn exchange(&self, info: RequestInfo) -> Exchange {
        Exchange::new(&self.versions, info)
    }

    /// The plugins' names, in order.
    pub fn names(&self) -> Vec<String> {
        self.versions.iter().map(|v| v.spec.name.clone()).collect()
    }

    /// Whether the chain has no plugins (the host can skip the exchange).
    pub fn is_empty(&self) -> bool {
        self.versions.is_empty()
    }
}
