//! The QUIC side of a listener's configuration: the endpoint (UDP payload
//! limit, stateless-reset key) and, per connection, the server config built
//! from the current snapshot — the listener's rustls config with ALPN `h3`,
//! and the transport limits of its `http3` table — so a reload's
//! certificates and limits apply to the next connection.

use std::sync::Arc;

use quinn::crypto::rustls::QuicServerConfig;
use quinn::{IdleTimeout, TransportConfig, VarInt};
use ring::{hkdf, hmac};

use crate::config::Http3;
use crate::pipeline::Proxy;
use crate::snapshot::Snapshot;

/// Unidirectional streams a client needs: control, QPACK encoder and
/// decoder, with room for a few reserved (grease) ones.
const UNI_STREAMS: u32 = 8;

/// The endpoint on `socket`, with `http3`'s largest UDP payload; its
/// stateless-reset key comes from `ring`, the project's one provider.
pub fn endpoint(
    socket: std::net::UdpSocket,
    http3: &Http3,
    configs: &QuicConfigs,
) -> Result<quinn::Endpoint, String> {
    let mut endpoint = quinn::EndpointConfig::new(Arc::new(hmac::Key::new(
        hmac::HMAC_SHA256,
        &rand::random::<[u8; 32]>(),
    )));
    endpoint
        .max_udp_payload_size(http3.max_udp_payload_size)
        .map_err(|e| format!("max_udp_payload_size: {e}"))?;
    let runtime = quinn::default_runtime().ok_or("no async runtime for QUIC")?;
    // A server config from the start, so the endpoint accepts (and checks
    // retry tokens); each connection then gets the snapshot's own.
    let placeholder = quinn::ServerConfig::new(placeholder_crypto()?, configs.token_key.clone());
    quinn::Endpoint::new(endpoint, Some(placeholder), socket, runtime)
        .map_err(|e| format!("cannot start: {e}"))
}

/// A key for retry and address-validation tokens, fresh at each start;
/// the endpoint and every connection's config share it.
fn token_key() -> Arc<dyn quinn::crypto::HandshakeTokenKey> {
    let secret: [u8; 32] = rand::random();
    Arc::new(hkdf::Salt::new(hkdf::HKDF_SHA256, &[]).extract(&secret))
}

/// A crypto config that can never complete a handshake (no certificate):
/// only there so the endpoint is a server before the first connection.
fn placeholder_crypto() -> Result<Arc<QuicServerConfig>, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let tls = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(|e| e.to_string())?
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(rustls::server::ResolvesServerCertUsingSni::new()));
    QuicServerConfig::try_from(tls)
        .map(Arc::new)
        .map_err(|e| e.to_string())
}

/// One connection's server config, and whether it takes early data.
#[derive(Clone)]
pub struct ConnectionConfig {
    pub quinn: Arc<quinn::ServerConfig>,
    pub early_data: bool,
}

/// The server config for new connections, rebuilt when the snapshot changes.
pub struct QuicConfigs {
    listener: Arc<str>,
    token_key: Arc<dyn quinn::crypto::HandshakeTokenKey>,
    built_for: Option<Arc<Snapshot>>,
    current: Option<ConnectionConfig>,
}

impl QuicConfigs {
    pub fn new(listener: Arc<str>) -> Self {
        QuicConfigs {
            listener,
            token_key: token_key(),
            built_for: None,
            current: None,
        }
    }

    /// The config of the current snapshot; `None` if it has no TLS or no
    /// `http3` for this listener (a reload removed them).
    pub fn current(&mut self, proxy: &Proxy) -> Option<ConnectionConfig> {
        let snapshot = proxy.snapshot.load_full();
        let fresh = self
            .built_for
            .as_ref()
            .is_some_and(|built| Arc::ptr_eq(built, &snapshot));
        if !fresh {
            self.current = self.build(&snapshot);
            self.built_for = Some(snapshot);
        }
        self.current.clone()
    }

    fn build(&self, snapshot: &Snapshot) -> Option<ConnectionConfig> {
        let name = &*self.listener;
        let tls = snapshot.tls.get(name)?;
        let listener = snapshot.config.listeners.iter().find(|l| l.name == name)?;
        let http3 = listener.http3.as_ref()?;
        match server_config(tls, http3, self.token_key.clone()) {
            Ok(quinn) => Some(ConnectionConfig {
                quinn,
                early_data: http3.early_data,
            }),
            Err(e) => {
                tracing::warn!(listener = name, "HTTP/3 unavailable: {e}");
                None
            }
        }
    }
}

fn server_config(
    tls: &rustls::ServerConfig,
    http3: &Http3,
    token_key: Arc<dyn quinn::crypto::HandshakeTokenKey>,
) -> Result<Arc<quinn::ServerConfig>, String> {
    let mut tls = tls.clone();
    tls.alpn_protocols = vec![b"h3".to_vec()];
    // QUIC takes early data all or nothing (RFC 9001 §4.6.1).
    tls.max_early_data_size = if http3.early_data { u32::MAX } else { 0 };
    let crypto = QuicServerConfig::try_from(tls).map_err(|e| e.to_string())?;
    let mut transport = TransportConfig::default();
    transport
        .max_concurrent_bidi_streams(VarInt::from_u32(http3.max_concurrent_streams))
        .max_concurrent_uni_streams(VarInt::from_u32(UNI_STREAMS))
        .max_idle_timeout(Some(
            IdleTimeout::try_from(http3.idle_timeout).map_err(|e| e.to_string())?,
        ));
    let mut config = quinn::ServerConfig::new(Arc::new(crypto), token_key);
    config.transport_config(Arc::new(transport));
    Ok(Arc::new(config))
}
