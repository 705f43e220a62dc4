//! `Chain`: the ordered plugins of one route. A chain is immutable; the host
//! builds one per route when it builds a config snapshot.

use crate::RequestInfo;
use crate::exchange::Exchange;
use crate::handle::PluginHandle;
use std::sync::Arc;

/// The plugins of a route, in route order. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Chain {
    handles: Arc<[Arc<PluginHandle>]>,
}

impl Chain {
    pub(crate) fn new(handles: Vec<Arc<PluginHandle>>) -> Self {
        Chain {
            handles: handles.into(),
        }
    }

    /// Starts a request exchange: each plugin's current version is taken
    /// now and kept until the exchange is dropped, whatever swaps happen.
    pub fn exchange(&self, info: RequestInfo) -> Exchange {
        Exchange::new(&self.handles, info)
    }

    /// The plugins' names, in order.
    pub fn names(&self) -> Vec<String> {
        self.handles.iter().map(|h| h.name().to_string()).collect()
    }

    /// Whether the chain has no plugins (the host can skip the exchange).
    pub fn is_empty(&self) -> bool {
        self.handles.is_empty()
    }
}
