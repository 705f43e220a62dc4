//! `types` (0.2): the `request` and `response` resources over the
//! exchange's `http` parts, which the store holds during a hook call, with
//! header values as bytes, trailers where the body hooks know them, the
//! exchange's attributes and body asks.

use crate::bindings::v2::ravelin::plugin::types::{
    BodyMode, ClientCert, Field, Host, HostRequest, HostResponse, HttpVersion, TlsInfo,
};
use crate::bindings::{RequestHandle, ResponseHandle};
use crate::body::BodyAsk;
use crate::ctx::StoreCtx;
use crate::guest_input;
use crate::headers;
use crate::instance::Hook;
use wasmtime::component::Resource;

type Res<T> = wasmtime::Result<T>;

fn to_fields(fields: Vec<(String, Vec<u8>)>) -> Vec<Field> {
    fields
        .into_iter()
        .map(|(name, value)| Field { name, value })
        .collect()
}

impl StoreCtx {
    /// Records a `want-body` made from `allowed` (the hook that may ask).
    fn ask_body(&mut self, allowed: Hook, mode: BodyMode) -> Result<(), String> {
        if self.hook != Some(allowed) {
            return Err(format!("want-body is only allowed in {}", allowed.name()));
        }
        self.body_ask = Some(BodyAsk::from_wit(mode, self.env.max_body_bytes));
        Ok(())
    }
}

/// The hooks in which each side's trailers are known.
const REQUEST_TRAILER_HOOKS: &[Hook] = &[Hook::OnRequestBody, Hook::OnRequestChunk];
const RESPONSE_TRAILER_HOOKS: &[Hook] = &[Hook::OnResponseBody, Hook::OnResponseChunk];

impl StoreCtx {
    /// The trailers lent to the running hook, when it is one of `hooks`.
    fn trailers_in(&mut self, hooks: &[Hook]) -> Option<&mut http::HeaderMap> {
        let running = self.hook?;
        self.trailers.as_mut().filter(|_| hooks.contains(&running))
    }

    fn read_trailers(&mut self, hooks: &[Hook]) -> Vec<Field> {
        self.trailers_in(hooks)
            .map_or_else(Vec::new, |t| to_fields(headers::fields(t)))
    }

    fn change_trailers(
        &mut self,
        hooks: &[Hook],
        change: impl FnOnce(&mut http::HeaderMap) -> Result<(), String>,
    ) -> Result<(), String> {
        match self.trailers_in(hooks) {
            Some(trailers) => change(trailers),
            None => Err(format!(
                "trailers can only be changed in {} with the whole body",
                hooks
                    .iter()
                    .map(|h| h.name())
                    .collect::<Vec<_>>()
                    .join(" or ")
            )),
        }
    }
}

impl Host for StoreCtx {}

impl HostRequest for StoreCtx {
    fn method(&mut self, _: Resource<RequestHandle>) -> Res<String> {
        Ok(self.req()?.method.as_str().to_string())
    }
    fn scheme(&mut self, _: Resource<RequestHandle>) -> Res<String> {
        let scheme = if self.info.tls.is_some() {
            "https"
        } else {
            "http"
        };
        Ok(scheme.to_string())
    }
    fn http_version(&mut self, _: Resource<RequestHandle>) -> Res<HttpVersion> {
        Ok(match self.req()?.version {
            http::Version::HTTP_10 | http::Version::HTTP_09 => HttpVersion::Http10,
            http::Version::HTTP_2 => HttpVersion::Http2,
            http::Version::HTTP_3 => HttpVersion::Http3,
            _ => HttpVersion::Http11,
        })
    }
    fn path_with_query(&mut self, _: Resource<RequestHandle>) -> Res<String> {
        let uri = &self.req()?.uri;
        Ok(uri.path_and_query().map_or("/", |p| p.as_str()).to_string())
    }
    fn set_path_with_query(
        &mut self,
        _: Resource<RequestHandle>,
        value: String,
    ) -> Res<Result<(), String>> {
        let req = self.req()?;
        Ok(guest_input::path_with_query(&req.uri, &value).map(|uri| req.uri = uri))
    }
    fn authority(&mut self, _: Resource<RequestHandle>) -> Res<Option<String>> {
        let req = self.req()?;
        let from_uri = req.uri.authority().map(|a| a.as_str().to_string());
        Ok(from_uri.or_else(|| headers::get(&req.headers, "host")))
    }
    fn header(&mut self, _: Resource<RequestHandle>, name: String) -> Res<Option<Vec<u8>>> {
        Ok(headers::get_bytes(&self.req()?.headers, &name))
    }
    fn header_all(&mut self, _: Resource<RequestHandle>, name: String) -> Res<Vec<Vec<u8>>> {
        Ok(headers::get_all_bytes(&self.req()?.headers, &name))
    }
    fn headers(&mut self, _: Resource<RequestHandle>) -> Res<Vec<Field>> {
        Ok(to_fields(headers::fields(&self.req()?.headers)))
    }
    fn set_header(
        &mut self,
        _: Resource<RequestHandle>,
        name: String,
        value: Vec<u8>,
    ) -> Res<Result<(), String>> {
        Ok(headers::set(&mut self.req()?.headers, &name, value))
    }
    fn add_header(
        &mut self,
        _: Resource<RequestHandle>,
        name: String,
        value: Vec<u8>,
    ) -> Res<Result<(), String>> {
        Ok(headers::add(&mut self.req()?.headers, &name, value))
    }
    fn remove_header(&mut self, _: Resource<RequestHandle>, name: String) -> Res<()> {
        headers::remove(&mut self.req()?.headers, &name);
        Ok(())
    }
    fn client_addr(&mut self, _: Resource<RequestHandle>) -> Res<Option<String>> {
        Ok(self.info.client_addr.map(|a| a.to_string()))
    }
    fn peer_addr(&mut self, _: Resource<RequestHandle>) -> Res<Option<String>> {
        Ok(self.info.peer_addr.map(|a| a.to_string()))
    }
    fn tls(&mut self, _: Resource<RequestHandle>) -> Res<Option<TlsInfo>> {
        Ok(self.info.tls.as_ref().map(|t| TlsInfo {
            sni: t.sni.clone(),
            alpn: t.alpn.clone(),
            version: t.version.clone(),
            cipher: t.cipher.clone(),
            client_cert: t.client_cert.as_deref().map(|c| ClientCert {
                der: c.der.clone(),
                subject: c.subject.clone(),
                sans: c.sans.iter().map(ToString::to_string).collect(),
            }),
        }))
    }
    fn route(&mut self, _: Resource<RequestHandle>) -> Res<String> {
        Ok(self.info.route.clone())
    }
    fn request_id(&mut self, _: Resource<RequestHandle>) -> Res<String> {
        Ok(self.info.request_id.clone())
    }
    fn attribute(&mut self, _: Resource<RequestHandle>, name: String) -> Res<Option<String>> {
        Ok(self.attributes.get(&name).map(str::to_string))
    }
    fn set_attribute(
        &mut self,
        _: Resource<RequestHandle>,
        name: String,
        value: String,
    ) -> Res<Result<(), String>> {
        Ok(self.attributes.set(name, value))
    }
    fn trailers(&mut self, _: Resource<RequestHandle>) -> Res<Vec<Field>> {
        Ok(self.read_trailers(REQUEST_TRAILER_HOOKS))
    }
    fn set_trailer(
        &mut self,
        _: Resource<RequestHandle>,
        name: String,
        value: Vec<u8>,
    ) -> Res<Result<(), String>> {
        Ok(self.change_trailers(REQUEST_TRAILER_HOOKS, |t| headers::set(t, &name, value)))
    }
    fn remove_trailer(
        &mut self,
        _: Resource<RequestHandle>,
        name: String,
    ) -> Res<Result<(), String>> {
        Ok(self.change_trailers(REQUEST_TRAILER_HOOKS, |t| {
            headers::remove(t, &name);
            Ok(())
        }))
    }
    fn want_body(&mut self, _: Resource<RequestHandle>, mode: BodyMode) -> Res<Result<(), String>> {
        Ok(self.ask_body(Hook::OnRequest, mode))
    }
    fn drop(&mut self, _: Resource<RequestHandle>) -> Res<()> {
        Ok(())
    }
}

impl HostResponse for StoreCtx {
    fn status(&mut self, _: Resource<ResponseHandle>) -> Res<u16> {
        Ok(self.resp()?.status.as_u16())
    }
    fn set_status(&mut self, _: Resource<ResponseHandle>, status: u16) -> Res<Result<(), String>> {
        let resp = self.resp()?;
        Ok(guest_input::status(status).map(|s| resp.status = s))
    }
    fn header(&mut self, _: Resource<ResponseHandle>, name: String) -> Res<Option<Vec<u8>>> {
        Ok(headers::get_bytes(&self.resp()?.headers, &name))
    }
    fn header_all(&mut self, _: Resource<ResponseHandle>, name: String) -> Res<Vec<Vec<u8>>> {
        Ok(headers::get_all_bytes(&self.resp()?.headers, &name))
    }
    fn headers(&mut self, _: Resource<ResponseHandle>) -> Res<Vec<Field>> {
        Ok(to_fields(headers::fields(&self.resp()?.headers)))
    }
    fn set_header(
        &mut self,
        _: Resource<ResponseHandle>,
        name: String,
        value: Vec<u8>,
    ) -> Res<Result<(), String>> {
        Ok(headers::set(&mut self.resp()?.headers, &name, value))
    }
    fn add_header(
        &mut self,
        _: Resource<ResponseHandle>,
        name: String,
        value: Vec<u8>,
    ) -> Res<Result<(), String>> {
        Ok(headers::add(&mut self.resp()?.headers, &name, value))
    }
    fn remove_header(&mut self, _: Resource<ResponseHandle>, name: String) -> Res<()> {
        headers::remove(&mut self.resp()?.headers, &name);
        Ok(())
    }
    fn trailers(&mut self, _: Resource<ResponseHandle>) -> Res<Vec<Field>> {
        Ok(self.read_trailers(RESPONSE_TRAILER_HOOKS))
    }
    fn set_trailer(
        &mut self,
        _: Resource<ResponseHandle>,
        name: String,
        value: Vec<u8>,
    ) -> Res<Result<(), String>> {
        Ok(self.change_trailers(RESPONSE_TRAILER_HOOKS, |t| headers::set(t, &name, value)))
    }
    fn remove_trailer(
        &mut self,
        _: Resource<ResponseHandle>,
        name: String,
    ) -> Res<Result<(), String>> {
        Ok(self.change_trailers(RESPONSE_TRAILER_HOOKS, |t| {
            headers::remove(t, &name);
            Ok(())
        }))
    }
    fn want_body(
        &mut self,
        _: Resource<ResponseHandle>,
        mode: BodyMode,
    ) -> Res<Result<(), String>> {
        Ok(self.ask_body(Hook::OnResponse, mode))
    }
    fn drop(&mut self, _: Resource<ResponseHandle>) -> Res<()> {
        Ok(())
    }
}
