//! The `request` and `response` resources: the guest's view of the
//! exchange's `http` parts, which the store holds during a hook call.

use crate::bindings::v1::ravelin::plugin::types::{Host, HostRequest, HostResponse, TlsInfo};
use crate::bindings::{RequestHandle, ResponseHandle};
use crate::ctx::StoreCtx;
use crate::guest_input;
use crate::headers;
use wasmtime::component::Resource;

type Res<T> = wasmtime::Result<T>;

impl Host for StoreCtx {}

impl HostRequest for StoreCtx {
    fn method(&mut self, _: Resource<RequestHandle>) -> Res<String> {
        Ok(self.req()?.method.as_str().to_string())
    }
    fn path_with_query(&mut self, _: Resource<RequestHandle>) -> Res<String> {
        Ok(self
            .req()?
            .uri
            .path_and_query()
            .map_or("/", |p| p.as_str())
            .to_string())
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
    fn header(&mut self, _: Resource<RequestHandle>, name: String) -> Res<Option<String>> {
        Ok(headers::get(&self.req()?.headers, &name))
    }
    fn header_all(&mut self, _: Resource<RequestHandle>, name: String) -> Res<Vec<String>> {
        Ok(headers::get_all(&self.req()?.headers, &name))
    }
    fn header_names(&mut self, _: Resource<RequestHandle>) -> Res<Vec<String>> {
        Ok(headers::names(&self.req()?.headers))
    }
    fn set_header(
        &mut self,
        _: Resource<RequestHandle>,
        name: String,
        value: String,
    ) -> Res<Result<(), String>> {
        Ok(headers::set(&mut self.req()?.headers, &name, &value))
    }
    fn add_header(
        &mut self,
        _: Resource<RequestHandle>,
        name: String,
        value: String,
    ) -> Res<Result<(), String>> {
        Ok(headers::add(&mut self.req()?.headers, &name, &value))
    }
    fn remove_header(&mut self, _: Resource<RequestHandle>, name: String) -> Res<()> {
        headers::remove(&mut self.req()?.headers, &name);
        Ok(())
    }
    fn client_addr(&mut self, _: Resource<RequestHandle>) -> Res<Option<String>> {
        Ok(self.info.client_addr.map(|a| a.to_string()))
    }
    fn tls(&mut self, _: Resource<RequestHandle>) -> Res<Option<TlsInfo>> {
        Ok(self.info.tls.as_ref().map(|t| TlsInfo {
            sni: t.sni.clone(),
            alpn: t.alpn.clone(),
            mtls: t.client_cert.is_some(),
        }))
    }
    fn route(&mut self, _: Resource<RequestHandle>) -> Res<String> {
        Ok(self.info.route.clone())
    }
    fn request_id(&mut self, _: Resource<RequestHandle>) -> Res<String> {
        Ok(self.info.request_id.clone())
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
    fn header(&mut self, _: Resource<ResponseHandle>, name: String) -> Res<Option<String>> {
        Ok(headers::get(&self.resp()?.headers, &name))
    }
    fn header_all(&mut self, _: Resource<ResponseHandle>, name: String) -> Res<Vec<String>> {
        Ok(headers::get_all(&self.resp()?.headers, &name))
    }
    fn header_names(&mut self, _: Resource<ResponseHandle>) -> Res<Vec<String>> {
        Ok(headers::names(&self.resp()?.headers))
    }
    fn set_header(
        &mut self,
        _: Resource<ResponseHandle>,
        name: String,
        value: String,
    ) -> Res<Result<(), String>> {
        Ok(headers::set(&mut self.resp()?.headers, &name, &value))
    }
    fn add_header(
        &mut self,
        _: Resource<ResponseHandle>,
        name: String,
        value: String,
    ) -> Res<Result<(), String>> {
        Ok(headers::add(&mut self.resp()?.headers, &name, &value))
    }
    fn remove_header(&mut self, _: Resource<ResponseHandle>, name: String) -> Res<()> {
        headers::remove(&mut self.resp()?.headers, &name);
        Ok(())
    }
    fn drop(&mut self, _: Resource<ResponseHandle>) -> Res<()> {
        Ok(())
    }
}
