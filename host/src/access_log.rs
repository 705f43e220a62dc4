//! The access log: one `tracing` event per request on target
//! `ravelin::access`, in a common text format or as JSON fields.

use std::net::SocketAddr;
use std::time::Duration;

use http::{Method, Version};

use crate::config::AccessLog;

pub struct Entry<'a> {
    pub format: AccessLog,
    pub peer: SocketAddr,
    pub listener: &'a str,
    pub method: &'a Method,
    pub target: &'a http::Uri,
    pub version: Version,
    pub status: u16,
    pub route: &'a str,
    pub elapsed: Duration,
    pub request_id: &'a str,
}

pub fn record(e: &Entry<'_>) {
    let micros = e.elapsed.as_micros() as u64;
    match e.format {
        AccessLog::Off => {}
        AccessLog::Text => tracing::info!(
            target: "ravelin::access",
            "{} \"{} {} {:?}\" {} route={} listener={} {}us id={}",
            e.peer.ip(), e.method, e.target, e.version, e.status, e.route, e.listener, micros, e.request_id
        ),
        AccessLog::Json => tracing::info!(
            target: "ravelin::access",
            client = %e.peer.ip(),
            method = %e.method,
            target = %e.target,
            version = ?e.version,
            status = e.status,
            route = e.route,
            listener = e.listener,
            duration_us = micros,
            request_id = e.request_id,
        ),
    }
}
