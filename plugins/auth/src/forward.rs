//! Forward authentication, as Traefik's ForwardAuth and nginx's
//! `auth_request`: the request's credentials and where it was going are
//! sent to an auth service; a 2xx lets the request through (with headers
//! the service set copied onto it), anything else is relayed to the client.

use ravelin_sdk::outbound::{self, HttpRequest, HttpResponse};
use ravelin_sdk::{Reply, Request, log};
use std::time::Duration;

/// Where the auth service is and what crosses over.
#[derive(Clone, Debug)]
pub struct ForwardAuth {
    pub cluster: String,
    pub path: String,
    pub timeout: Duration,
    /// Request headers sent to the service (credentials).
    pub request_headers: Vec<String>,
    /// Headers of a 2xx answer copied onto the request.
    pub copy_headers: Vec<String>,
    /// Headers of a refusal relayed to the client.
    pub relay_headers: Vec<String>,
    /// Answer when the service cannot be reached or times out.
    pub unavailable_status: u16,
}

/// What the service said.
pub enum Verdict {
    /// Let through with these headers to set on the request.
    Allow(Vec<(String, Vec<u8>)>),
    /// Answer the client with this.
    Deny(Reply),
}

impl ForwardAuth {
    /// Asks the service about `req`.
    pub fn ask(&self, req: &Request) -> Verdict {
        let call = self.build(req);
        match outbound::send(&self.cluster, &call, self.timeout) {
            Ok(answer) if (200..300).contains(&answer.status) => {
                Verdict::Allow(self.copied(&answer))
            }
            Ok(answer) => {
                log::info(&format!(
                    "forward auth refused {} with {}",
                    req.path(),
                    answer.status
                ));
                Verdict::Deny(self.relayed(answer))
            }
            Err(why) => {
                log::warn(&format!(
                    "forward auth {}{} unreachable: {why}",
                    self.cluster, self.path
                ));
                Verdict::Deny(Reply::text(
                    self.unavailable_status,
                    "authentication unavailable\n",
                ))
            }
        }
    }

    fn build(&self, req: &Request) -> HttpRequest {
        let mut call = HttpRequest::get(self.path.clone())
            .header("x-forwarded-method", req.method())
            .header("x-forwarded-proto", req.scheme())
            .header("x-forwarded-uri", req.path_with_query());
        if let Some(host) = req.authority() {
            call = call.header("x-forwarded-host", host);
        }
        if let Some(client) = req.client_addr() {
            call = call.header("x-forwarded-for", client);
        }
        for name in &self.request_headers {
            for value in req.header_all(name) {
                call = call.header(name.clone(), value);
            }
        }
        call
    }

    fn copied(&self, answer: &HttpResponse) -> Vec<(String, Vec<u8>)> {
        let named = |name: &str| {
            self.copy_headers
                .iter()
                .any(|h| h.eq_ignore_ascii_case(name))
        };
        let headers = answer.headers.iter().filter(|f| named(&f.name));
        headers
            .map(|f| (f.name.to_ascii_lowercase(), f.value.clone()))
            .collect()
    }

    fn relayed(&self, answer: HttpResponse) -> Reply {
        let mut reply = Reply::new(answer.status);
        for field in &answer.headers {
            if self
                .relay_headers
                .iter()
                .any(|h| h.eq_ignore_ascii_case(&field.name))
            {
                reply = reply.header(field.name.to_ascii_lowercase(), field.value.clone());
            }
        }
        reply.body(answer.body)
    }
}
